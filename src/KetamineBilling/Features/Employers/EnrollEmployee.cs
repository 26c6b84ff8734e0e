using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Employers;

public record EnrollEmployee(Guid PatientId, string? MemberId, int PlanYear);

public static class EnrollEmployeeEndpoint
{
    public static ProblemDetails Validate(EnrollEmployee command)
    {
        var problems = new ValidationProblems();
        if (command.PatientId == Guid.Empty) problems.Add("patientId", "is required");
        problems.RequireText("memberId", command.MemberId, 40);
        if (command.PlanYear is < 2000 or > 2100) problems.Add("planYear", "must be a year such as 2026");
        return problems.ToProblemDetails();
    }

    public static Task<PatientAccount?> LoadAsync(EnrollEmployee command, IQuerySession session, CancellationToken ct) =>
        session.LoadAsync<PatientAccount>(command.PatientId, ct);

    /// <summary>A patient is enrolled once per plan year; the same member id again is a replay, another one a conflict.</summary>
    public static Outcome Decide(EmployerAgreement employer, EnrollEmployee command, PatientAccount? patient, DateTimeOffset now)
    {
        if (patient is null) return Outcome.Reject("patientId", "is not a patient");
        if (employer.Enrollments.FirstOrDefault(e => e.PatientId == command.PatientId && e.PlanYear == command.PlanYear) is { } existing)
        {
            return existing.MemberId == command.MemberId!.Trim()
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"the patient is enrolled for {command.PlanYear} under member id {existing.MemberId}");
        }

        var enrolled = new EmployeeEnrolled(employer.Id, command.PatientId, command.MemberId!.Trim(), command.PlanYear, now);
        return Outcome.Created($"/api/employers/{employer.Id}/enrollments/{command.PatientId}", enrolled).Append(employer.Id, enrolled);
    }

    [WolverinePost("/api/employers/{employerId}/enrollments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Employers")]
    public static (IResult, Events) Post(
        EnrollEmployee command, [WriteAggregate("employerId", OnMissing = OnMissing.ProblemDetailsWith404)] EmployerAgreement employer,
        PatientAccount? patient, TimeProvider clock)
    {
        var outcome = Decide(employer, command, patient, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(employer.Id)]);
    }
}
