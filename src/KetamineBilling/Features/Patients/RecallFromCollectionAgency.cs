using KetamineBilling.Features.Ledger;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="Reason">Why it ends: the agency returned it as uncollectable, the patient paid the clinic, a dispute...</param>
public record RecallFromCollectionAgency(string? Reason);

public static class RecallFromCollectionAgencyEndpoint
{
    public static ProblemDetails Validate(RecallFromCollectionAgency command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reason", command.Reason, 200);
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// The placement ends: what the agency still holds is the patient's again (to collect, or to write off as bad debt). A
    /// placement recalled already answers as it stands, whatever the reason given.
    /// </summary>
    public static Outcome Decide(PatientAccount account, Guid placementId, RecallFromCollectionAgency command, DateTimeOffset now)
    {
        var placement = account.Placements.FirstOrDefault(p => p.PlacementId == placementId);
        if (placement is null) return Outcome.NotFound($"placement {placementId} does not exist on this account");
        if (!placement.Active) return Outcome.Replay(PlacementView.From(placement, account));

        var moves = account.OpenLines(ResponsibleParty.Collections)
            .Select(l => new ResponsibilityMove(l.Session.SessionId, l.Line.LineNumber, ResponsibleParty.Collections, ResponsibleParty.Patient, l.Line.Open.Collections))
            .ToList();
        var recalled = new RecalledFromCollectionAgency(account.Id, placementId, placement.AgencyId, moves, moves.Sum(m => m.Amount), command.Reason!.Trim(), now);
        var view = PlacementView.From(placement, account) with
        {
            Recalled = recalled.Total, StillPlaced = 0m, RecalledAt = now, RecallReason = recalled.Reason
        };
        return Outcome.Ok(view).Append(account.Id, recalled);
    }

    [WolverinePost("/api/patients/{patientId}/collection-placements/{placementId}/recall"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Collections")]
    public static (IResult, Events) Post(
        Guid placementId, RecallFromCollectionAgency command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        TimeProvider clock)
    {
        var outcome = Decide(account, placementId, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
