using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <summary>What the agency's remittance says for this account.</summary>
/// <param name="RecoveryId">Made by the client: the idempotency key.</param>
/// <param name="Collected">What the agency collected from the patient (the patient's debt falls by this).</param>
/// <param name="Commission">What the agency kept. Left out: the placement's commission percent of what it collected, to the cent.</param>
/// <param name="ReceivedOn">When the agency's remittance arrived.</param>
public record RecordAgencyRecovery(Guid RecoveryId, decimal? Collected, decimal? Commission, DateOnly? ReceivedOn, string? Reference);

public static class RecordAgencyRecoveryEndpoint
{
    public static ProblemDetails Validate(RecordAgencyRecovery command, ClinicCalendar calendar)
    {
        var problems = new ValidationProblems();
        if (command.RecoveryId == Guid.Empty) problems.Add("recoveryId", "is required: a client-made id that makes the recovery idempotent");
        problems.RequirePositive("collected", command.Collected);
        if (command.Commission is { } c && (c < 0 || decimal.Round(c, 2) != c)) problems.Add("commission", "must be 0 or more with at most two decimals");
        if (command.ReceivedOn is not { } on) problems.Add("receivedOn", "is required (yyyy-MM-dd)");
        else if (on > calendar.Today()) problems.Add("receivedOn", "must not be in the future");
        if (command.Reference is { Length: > 100 }) problems.Add("reference", "must be at most 100 characters");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// The agency's recovery on a placement that still stands: what it collected comes off the placed lines, oldest first, and
    /// may not exceed what is still placed; the commission (its terms, unless the remittance says otherwise) is at most
    /// what it collected. The clinic receives the rest: a receipt for the bank deposit.
    /// </summary>
    public static Outcome Decide(PatientAccount account, Guid placementId, RecordAgencyRecovery command, DateTimeOffset now)
    {
        var placement = account.Placements.FirstOrDefault(p => p.PlacementId == placementId);
        if (placement is null) return Outcome.NotFound($"placement {placementId} does not exist on this account");
        var fingerprint = Fingerprint.Of(command);
        if (account.Placements.SelectMany(p => p.Recoveries).FirstOrDefault(r => r.RecoveryId == command.RecoveryId) is { } existing)
        {
            return existing.Fingerprint == fingerprint && existing.PlacementId == placementId
                ? Outcome.Replay(PlacementView.From(placement, account))
                : Outcome.Conflict($"recovery {command.RecoveryId} was already recorded with other content");
        }

        if (!placement.Active) return Outcome.Conflict($"placement {placementId} was recalled from {placement.AgencyName}: record money the patient pays now as a payment");

        var collected = command.Collected!.Value;
        var placed = account.OpenLines(ResponsibleParty.Collections).ToList();
        var still = placed.Sum(l => l.Line.Open.Collections);
        if (collected > still) return Outcome.Reject("collected", $"must not exceed what is still placed with {placement.AgencyName}: {Fmt.Money(still)}");
        var commission = command.Commission ?? KetamineBilling.Features.Ledger.Money.Round(collected * placement.CommissionPercent / 100m);
        if (commission > collected) return Outcome.Reject("commission", $"must not exceed what the agency collected ({Fmt.Money(collected)})");

        var allocations = LineAllocation.Fill(placed, collected, l => l.Line.Open.Collections);
        var recovered = new CollectionAgencyRecovered(account.Id, placementId, command.RecoveryId, placement.AgencyId, collected, commission, collected - commission,
            command.ReceivedOn!.Value, string.IsNullOrWhiteSpace(command.Reference) ? null : command.Reference.Trim(), allocations, now, fingerprint);
        var after = PlacementView.From(placement, account);
        var view = after with
        {
            Collected = after.Collected + collected, Commission = after.Commission + commission, Net = after.Net + collected - commission,
            StillPlaced = after.StillPlaced - collected,
            Recoveries = [.. after.Recoveries, new RecoveryView(recovered.RecoveryId, recovered.ReceivedOn, collected, commission, recovered.Net, recovered.Reference)]
        };
        return Outcome.Created($"/api/patients/{account.Id}/collection-placements/{placementId}", view).Append(account.Id, recovered);
    }

    public static Task<Books?> LoadAsync(Marten.IQuerySession session, CancellationToken ct) => Books.LoadAsync(session, ct);

    [WolverinePost("/api/patients/{patientId}/collection-placements/{placementId}/recoveries"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Collections")]
    public static (IResult, Events) Post(
        Guid placementId, RecordAgencyRecovery command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        Books? books, TimeProvider clock)
    {
        var outcome = ClosedPeriods.Guard(Decide(account, placementId, command, clock.GetUtcNow()), books, command.ReceivedOn, "receivedOn");
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
