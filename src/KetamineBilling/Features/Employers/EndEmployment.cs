using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Employers;

public record EndEmployment(DateOnly? EndedOn);

public static class EndEmploymentEndpoint
{
    /// <summary>
    /// The patient's open enrolments end on the day given (today by default), never before the first plan year they cover
    /// starts (an end before it would leave an enrolment that never was).
    /// </summary>
    public static Outcome Decide(EmployerAgreement employer, EndEmployment command, Guid patientId, DateOnly today, DateTimeOffset now)
    {
        var open = employer.Enrollments.Where(e => e.PatientId == patientId && e.EndedOn is null).ToList();
        if (open.Count == 0) return Outcome.NotFound($"patient {patientId} has no open enrolment with this employer");
        var endedOn = command.EndedOn ?? today;
        var starts = new DateOnly(open.Min(e => e.PlanYear), 1, 1);
        if (endedOn < starts) return Outcome.Reject("endedOn", $"must not be before the plan year starts ({Fmt.Date(starts)})");
        var ended = new EmploymentEnded(employer.Id, patientId, endedOn, now);
        return Outcome.Ok(ended).Append(employer.Id, ended);
    }

    [WolverinePost("/api/employers/{employerId}/enrollments/{patientId}/end"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Employers")]
    public static (IResult, Events) Post(
        Guid patientId, EndEmployment command, [WriteAggregate("employerId", OnMissing = OnMissing.ProblemDetailsWith404)] EmployerAgreement employer,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = Decide(employer, command, patientId, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(employer.Id)]);
    }
}
