using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

public record CancelVisit(string? Reason);

public static class CancelVisitEndpoint
{
    public static ProblemDetails Validate(CancelVisit command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reason", command.Reason, 200);
        return problems.ToProblemDetails();
    }

    /// <summary>The visit leaves the schedule; cancelling it again is a replay. An unknown visit is a 404.</summary>
    public static Outcome Decide(PatientAccount account, Guid visitId, CancelVisit command, DateTimeOffset now)
    {
        if (account.Visits.FirstOrDefault(v => v.VisitId == visitId) is not { } visit) return Outcome.NotFound($"visit {visitId} is not on the patient's schedule");
        if (visit.Cancelled) return Outcome.Replay(visit);
        var cancelled = new VisitCancelled(account.Id, visitId, command.Reason!.Trim(), now);
        return Outcome.Ok(cancelled).Append(account.Id, cancelled);
    }

    [WolverinePost("/api/patients/{patientId}/visits/{visitId}/cancel"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        CancelVisit command, Guid visitId, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, TimeProvider clock)
    {
        var outcome = Decide(account, visitId, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
