using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="EndedOn">The coverage's last day.</param>
/// <param name="Reason">Why, in the clerk's words (e.g. "changed employer", "plan terminated").</param>
public record EndCoverage(DateOnly? EndedOn, string? Reason);

public static class EndCoverageEndpoint
{
    public static ProblemDetails Validate(EndCoverage command)
    {
        var problems = new ValidationProblems();
        if (command.EndedOn is null) problems.Add("endedOn", "is required (yyyy-MM-dd)");
        problems.RequireText("reason", command.Reason, 200);
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// The coverage ends on a day inside its active period. A coverage ends once: the same end again is a replay, another
    /// date or reason a conflict (the coverage id is the idempotency key).
    /// </summary>
    public static Outcome Decide(PatientAccount account, Guid coverageId, EndCoverage command, DateTimeOffset now)
    {
        if (account.Coverages.FirstOrDefault(c => c.CoverageId == coverageId) is not { } coverage)
        {
            return Outcome.NotFound($"coverage {coverageId} is not on this patient's account");
        }

        var endedOn = command.EndedOn!.Value;
        var reason = command.Reason!.Trim();
        if (account.CoverageEnds.FirstOrDefault(e => e.CoverageId == coverageId) is { } ended)
        {
            return ended.EndedOn == endedOn && ended.Reason == reason
                ? Outcome.Replay(coverage)
                : Outcome.Conflict($"coverage {coverageId} was already ended on {Fmt.Date(ended.EndedOn)}");
        }

        if (account.ReplacedBy(coverageId) is { } replaced)
        {
            return Outcome.Reject("coverageId", $"was replaced from {Fmt.Date(replaced.EffectiveFrom)}: end the coverage that replaced it");
        }

        if (endedOn < coverage.ActiveFrom || coverage.ActiveTo is { } to && endedOn > to)
        {
            return Outcome.Reject("endedOn",
                $"must be within the coverage's active period ({Fmt.Date(coverage.ActiveFrom)} – {(coverage.ActiveTo is { } end ? Fmt.Date(end) : "open")})");
        }

        var e = new CoverageEnded(account.Id, coverageId, endedOn, reason, coverage.ActiveTo, now);
        return Outcome.Ok(coverage with { ActiveTo = endedOn }).Append(account.Id, e);
    }

    [WolverinePost("/api/patients/{patientId}/coverages/{coverageId}/end"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        EndCoverage command, Guid coverageId, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        TimeProvider clock)
    {
        var outcome = Decide(account, coverageId, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
