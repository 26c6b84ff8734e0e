using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Collections;

/// <summary>
/// One account's collections: its placements and what came of them, what is written off as bad debt and what of it was
/// recovered, its missed-appointment fees, and whether it can be placed now (and if not, why).
/// </summary>
public sealed record AccountCollections(
    Guid PatientId, DateOnly? FinalNoticeOn, decimal PatientDue, decimal CollectionsDue, bool CanPlace, string? CannotPlace,
    IReadOnlyList<PlacementView> Placements, decimal BadDebtWrittenOff, decimal BadDebtRecovered, decimal BadDebtRecoverable,
    IReadOnlyList<NoShowFeeView> NoShowFees);

/// <summary>An account the dunning sequence finished with: a final notice went out and the patient still owes.</summary>
public sealed record PlacementCandidate(Guid PatientId, string Patient, decimal PatientDue, DateOnly FinalNoticeOn);

/// <summary>An account with an agency now.</summary>
public sealed record PlacedAccount(
    Guid PatientId, string Patient, Guid PlacementId, Guid AgencyId, string Agency, DateOnly PlacedOn, decimal Placed, decimal Collected, decimal Commission,
    decimal StillPlaced);

/// <summary>What one agency holds and has brought in.</summary>
public sealed record AgencyTotals(Guid AgencyId, string Agency, int Accounts, decimal StillPlaced, decimal Collected, decimal Commission, decimal Net);

public sealed record CollectionsDesk(
    IReadOnlyList<PlacementCandidate> Candidates, IReadOnlyList<PlacedAccount> Placed, IReadOnlyList<AgencyTotals> Agencies);

public static class CollectionsQueries
{
    public static DateOnly? FinalNoticeOn(PatientStatements? statements) =>
        statements?.Statements.Where(s => s.Stage == DunningStage.FinalNotice).Select(s => (DateOnly?)s.IssuedOn).Max();

    public static AccountCollections Of(PatientAccount account, PatientStatements? statements)
    {
        var open = account.Open();
        var finalNotice = FinalNoticeOn(statements);
        var cannot = account.ActivePlacement is { } active ? $"with {active.AgencyName} since {Ui.Fmt.Date(active.PlacedOn)}"
            : finalNotice is null ? "no final notice has been sent"
            : open.Patient <= 0 ? "the patient owes nothing open"
            : null;
        var written = account.WriteOffs.Where(w => w.Reason == WriteOffReason.BadDebt).Sum(w => w.Total);
        var recovered = account.Reinstatements.Sum(r => r.Total);
        return new AccountCollections(account.Id, finalNotice, open.Patient, open.Collections, cannot is null, cannot,
            account.Placements.OrderByDescending(p => p.PlacedOn).Select(p => PlacementView.From(p, account)).ToList(),
            written, recovered, account.BadDebtLines().Sum(l => l.Amount),
            account.Sessions.Where(s => s.NoShow is not null && !s.Voided).OrderByDescending(s => s.DeliveredOn).Select(ChargeNoShowFeeEndpoint.View).ToList());
    }

    /// <summary>The account's collections (placements, bad debt, missed-appointment fees).</summary>
    [PhiRead("collections")]
    [WolverineGet("/api/patients/{patientId}/collections"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Collections")]
    public static async Task<IResult> GetForPatient(Guid patientId, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<PatientAccount>(patientId, ct) is not { } account) return Problems.NotFound($"patient {patientId} does not exist");
        return Results.Ok(Of(account, await session.LoadAsync<PatientStatements>(patientId, ct)));
    }

    /// <summary>
    /// The collections desk: accounts a final notice went to that still owe and are with no agency (to place), accounts with an
    /// agency now, and each agency's totals. Names and amounts only (BillingAdmin).
    /// </summary>
    [WolverineGet("/api/collections"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Collections")]
    public static async Task<CollectionsDesk> Get(IQuerySession session, CancellationToken ct)
    {
        var noticed = await session.Query<PatientStatements>()
            .Where(p => p.Statements.Any(s => s.Stage == DunningStage.FinalNotice)).ToListAsync(ct);
        var finalNotices = noticed.ToDictionary(p => p.Id, p => FinalNoticeOn(p)!.Value);
        var noticedAccounts = finalNotices.Count == 0 ? [] : await session.LoadManyAsync<PatientAccount>(ct, finalNotices.Keys.ToArray());
        var placedAccounts = await session.Query<PatientAccount>().Where(a => a.Placements.Any(p => p.RecalledAt == null)).ToListAsync(ct);

        var candidates = noticedAccounts
            .Where(a => a.ActivePlacement is null && a.Open().Patient > 0)
            .Select(a => new PlacementCandidate(a.Id, a.Name, a.Open().Patient, finalNotices[a.Id]))
            .OrderBy(c => c.FinalNoticeOn).ThenBy(c => c.Patient, StringComparer.Ordinal).ToList();
        var placed = placedAccounts.Select(a => (Account: a, Placement: a.ActivePlacement!))
            .Select(x => new PlacedAccount(x.Account.Id, x.Account.Name, x.Placement.PlacementId, x.Placement.AgencyId, x.Placement.AgencyName, x.Placement.PlacedOn,
                x.Placement.Placed, x.Placement.Collected, x.Placement.Commission, x.Account.Open().Collections))
            .OrderBy(p => p.PlacedOn).ThenBy(p => p.Patient, StringComparer.Ordinal).ToList();
        var agencies = placed.GroupBy(p => p.AgencyId)
            .Select(g => new AgencyTotals(g.Key, g.First().Agency, g.Count(), g.Sum(p => p.StillPlaced), g.Sum(p => p.Collected), g.Sum(p => p.Commission),
                g.Sum(p => p.Collected - p.Commission)))
            .OrderBy(a => a.Agency, StringComparer.Ordinal).ToList();
        return new CollectionsDesk(candidates, placed, agencies);
    }
}
