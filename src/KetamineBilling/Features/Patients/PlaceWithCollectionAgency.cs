using KetamineBilling.Features.Collections;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="PlacementId">Made by the client: the idempotency key.</param>
/// <param name="AgencyId">The collection agency (<c>/api/collection-agencies</c>).</param>
public record PlaceWithCollectionAgency(Guid PlacementId, Guid AgencyId);

/// <summary>What a placement is and what came of it.</summary>
public record PlacementView(
    Guid PlacementId, Guid AgencyId, string AgencyName, decimal CommissionPercent, DateOnly PlacedOn, decimal Placed, decimal Collected, decimal Commission,
    decimal Net, decimal Recalled, decimal StillPlaced, DateTimeOffset? RecalledAt, string? RecallReason, IReadOnlyList<RecoveryView> Recoveries)
{
    public static PlacementView From(CollectionPlacement p, PatientAccount account) => new(
        p.PlacementId, p.AgencyId, p.AgencyName, p.CommissionPercent, p.PlacedOn, p.Placed, p.Collected, p.Commission, p.Collected - p.Commission, p.Recalled,
        p.Active ? account.Open().Collections : 0m, p.RecalledAt, p.RecallReason,
        p.Recoveries.Select(r => new RecoveryView(r.RecoveryId, r.ReceivedOn, r.Collected, r.Commission, r.Net, r.Reference)).ToList());
}

public record RecoveryView(Guid RecoveryId, DateOnly ReceivedOn, decimal Collected, decimal Commission, decimal Net, string? Reference);

public static class PlaceWithCollectionAgencyEndpoint
{
    public static ProblemDetails Validate(PlaceWithCollectionAgency command)
    {
        var problems = new ValidationProblems();
        if (command.PlacementId == Guid.Empty) problems.Add("placementId", "is required: a client-made id that makes the placement idempotent");
        if (command.AgencyId == Guid.Empty) problems.Add("agencyId", "is required");
        return problems.ToProblemDetails();
    }

    public static async Task<(CollectionAgency?, PatientStatements?)> LoadAsync(
        PlaceWithCollectionAgency command, Guid patientId, IQuerySession session, CancellationToken ct) =>
        (await session.LoadAsync<CollectionAgency>(command.AgencyId, ct), await session.LoadAsync<PatientStatements>(patientId, ct));

    /// <summary>
    /// Every open patient amount moves to the agency, on the agency's terms as of now. Only after a final notice was sent
    /// (the dunning sequence ran its course), one placement at a time, and only an amount the patient owes.
    /// </summary>
    /// <param name="finalNoticeOn">When the account's last final notice went out, if one did.</param>
    public static Outcome Decide(
        PatientAccount account, PlaceWithCollectionAgency command, CollectionAgency? agency, DateOnly? finalNoticeOn, DateOnly today, DateTimeOffset now)
    {
        var fingerprint = Fingerprint.Of(command);
        if (account.Placements.FirstOrDefault(p => p.PlacementId == command.PlacementId) is { } existing)
        {
            return existing.Fingerprint == fingerprint
                ? Outcome.Replay(PlacementView.From(existing, account))
                : Outcome.Conflict($"placement {command.PlacementId} was already recorded with other content");
        }

        if (agency is null) return Outcome.Reject("agencyId", $"collection agency {command.AgencyId} does not exist");
        if (!agency.Active) return Outcome.Reject("agencyId", $"{agency.Name} takes no new placements (inactive)");
        if (account.ActivePlacement is { } active)
        {
            return Outcome.Conflict($"the account is with {active.AgencyName} since {Fmt.Date(active.PlacedOn)}: recall it before placing it again");
        }

        if (finalNoticeOn is null)
            return Outcome.Reject("placementId", "the account has had no final notice: an account is placed with an agency only after the dunning sequence's final notice");

        var lines = account.OpenPatientLines().ToList();
        var open = lines.Sum(l => l.Line.Open.Patient);
        if (open <= 0) return Outcome.Reject("placementId", "the patient owes nothing open to place");

        var moves = lines.Select(l => new ResponsibilityMove(l.Session.SessionId, l.Line.LineNumber, ResponsibleParty.Patient, ResponsibleParty.Collections, l.Line.Open.Patient))
            .ToList();
        var placed = new PlacedWithCollectionAgency(account.Id, command.PlacementId, agency.Id, agency.Name, agency.CommissionPercent, moves, open, today, now,
            fingerprint);
        var after = new CollectionPlacement
        {
            PlacementId = placed.PlacementId, AgencyId = agency.Id, AgencyName = agency.Name, CommissionPercent = agency.CommissionPercent, PlacedOn = today,
            Placed = open
        };
        var view = new PlacementView(after.PlacementId, after.AgencyId, after.AgencyName, after.CommissionPercent, today, open, 0m, 0m, 0m, 0m,
            open + account.Open().Collections, null, null, []);
        return Outcome.Created($"/api/patients/{account.Id}/collection-placements/{command.PlacementId}", view).Append(account.Id, placed);
    }

    [WolverinePost("/api/patients/{patientId}/collection-placements"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Collections")]
    public static (IResult, Events) Post(
        PlaceWithCollectionAgency command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        CollectionAgency? agency, PatientStatements? statements, ClinicCalendar calendar, TimeProvider clock)
    {
        var finalNotice = statements?.Statements.Where(s => s.Stage == DunningStage.FinalNotice).Select(s => (DateOnly?)s.IssuedOn).Max();
        var outcome = Decide(account, command, agency, finalNotice, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
