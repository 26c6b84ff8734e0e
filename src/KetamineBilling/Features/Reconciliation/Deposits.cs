using KetamineBilling.Features.Ui;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Reconciliation;

/// <summary>Money the clinic received that should reach the bank: one 835 payment, a day's card or cash takings, a third party's payment.</summary>
/// <param name="Key">Stable: kind and source id (a card batch is "card-batch:yyyy-MM-dd").</param>
public sealed record Receipt(string Key, string Kind, string Reference, decimal Amount, DateOnly ReceivedOn);

public sealed record ReceiptMatch(string Key, string Kind, string Reference, decimal Amount);

public record DepositRecorded(Guid DepositId, decimal Amount, DateOnly DepositedOn, string Reference, DateTimeOffset RecordedAt);

/// <summary>The deposit is the sum of these receipts (found automatically when recorded, or named by billing).</summary>
public record DepositMatched(Guid DepositId, IReadOnlyList<ReceiptMatch> Receipts, bool Automatic, DateTimeOffset MatchedAt);

public sealed class BankDeposit
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public decimal Amount { get; set; }
    public DateOnly DepositedOn { get; set; }
    public string Reference { get; set; } = "";
    public List<ReceiptMatch> Receipts { get; set; } = [];
    public bool Automatic { get; set; }
    public DateTimeOffset RecordedAt { get; set; }

    public bool Matched => Receipts.Count > 0;

    public static BankDeposit Create(DepositRecorded e) => new() { Id = e.DepositId, Amount = e.Amount, DepositedOn = e.DepositedOn, Reference = e.Reference, RecordedAt = e.RecordedAt };

    public void Apply(DepositMatched e)
    {
        Receipts = [.. e.Receipts];
        Automatic = e.Automatic;
    }
}

/// <summary>
/// Which deposit a receipt went into. Inserted (never upserted) inline with the match, so two deposits that claim
/// the same receipt at the same moment cannot both be saved: the second fails on the key and is a 409.
/// </summary>
public sealed record DepositedReceipt(string Id, Guid DepositId);

public partial class DepositedReceiptProjection : Marten.Events.Projections.EventProjection
{
    public DepositedReceiptProjection()
    {
        Name = nameof(DepositedReceipt);
        Options.DeleteViewTypeOnTeardown<DepositedReceipt>();
    }

    public void Project(DepositMatched e, IDocumentOperations ops)
    {
        foreach (var receipt in e.Receipts) ops.Insert(new DepositedReceipt(receipt.Key, e.DepositId));
    }
}

public static class Receipts
{
    /// <summary>A card batch settles within this many days of the takings.</summary>
    public const int SettlementDays = 3;

    /// <summary>
    /// Every receipt the given documents hold. Card payments taken through the processor are not in a day's card takings: they
    /// reach the bank in the processor's payouts, each a receipt of its net (what it paid less the processor's fees).
    /// </summary>
    public static IReadOnlyList<Receipt> From(
        IEnumerable<Remittance> remittances, IEnumerable<PatientAccount> accounts, IEnumerable<EmployerAgreement> employers, IEnumerable<Grant> grants,
        IEnumerable<Study> studies, IEnumerable<ProcessorPayout>? payouts = null)
    {
        var receipts = new List<Receipt>();
        foreach (var r in remittances)
        {
            if (r.PaymentAmount > 0) receipts.Add(new Receipt($"remittance:{r.Id}", "remittance", r.TraceNumber, r.PaymentAmount, r.PaymentDate ?? DateOnly.FromDateTime(r.ReceivedAt.UtcDateTime)));
        }

        var payments = accounts.SelectMany(a => a.Payments).Where(p => !p.Reversed).ToList();
        foreach (var day in payments.Where(p => (p.Method is PaymentMethod.Card or PaymentMethod.Fsa or PaymentMethod.Hsa) && p.Received.Processor is null).GroupBy(p => p.ReceivedOn))
        {
            receipts.Add(new Receipt($"card-batch:{day.Key:yyyy-MM-dd}", "card-batch", $"card takings {Fmt.Date(day.Key)}", day.Sum(p => p.Amount), day.Key));
        }

        foreach (var day in payments.Where(p => p.Method is PaymentMethod.Cash or PaymentMethod.Check).GroupBy(p => p.ReceivedOn))
        {
            receipts.Add(new Receipt($"cash-check-batch:{day.Key:yyyy-MM-dd}", "cash-check-batch", $"cash and checks {Fmt.Date(day.Key)}", day.Sum(p => p.Amount), day.Key));
        }

        // A collection agency remits what it collected less its commission: the clinic's receipt is the net.
        foreach (var (placement, recovery) in accounts.SelectMany(a => a.Placements.SelectMany(p => p.Recoveries.Select(r => (p, r)))).Where(x => x.r.Net > 0))
        {
            receipts.Add(new Receipt($"agency-recovery:{recovery.RecoveryId}", "agency-recovery",
                $"{placement.AgencyName}{(recovery.Reference is null ? "" : $" {recovery.Reference}")}: {Fmt.Money(recovery.Collected)} less {Fmt.Money(recovery.Commission)} commission",
                recovery.Net, recovery.ReceivedOn));
        }

        foreach (var e in employers)
        {
            receipts.AddRange(e.Payments.Select(p => new Receipt($"employer-payment:{p.PaymentId}", "employer-payment", $"{e.Name} {p.Reference}", p.Amount, p.ReceivedOn)));
        }

        foreach (var g in grants)
        {
            receipts.AddRange(g.Funds.Select(f => new Receipt($"grant-funds:{g.Id}:{f.Reference}", "grant-funds", $"{g.Organization} {f.Reference}", f.Amount, f.ReceivedOn)));
        }

        foreach (var s in studies)
        {
            receipts.AddRange(s.Payments.Select(p => new Receipt($"sponsor-payment:{s.Id}:{p.Reference}", "sponsor-payment", $"{s.Sponsor} {p.Reference}", p.Amount, p.ReceivedOn)));
        }

        foreach (var p in payouts ?? [])
        {
            receipts.Add(new Receipt(p.ReceiptKey, "processor-payout",
                $"card processor payout {p.ProcessorPayoutId}: {Fmt.Money(p.Gross)} less {Fmt.Money(p.Fees)} fees", p.Net, p.ArrivalDate));
        }

        return receipts;
    }

    /// <summary>
    /// The receipts no deposit was matched to, from the Exceptions read model (ADR 0017): summed from their sources as the
    /// daemon follows the ledger (the commands wait for it first, <see cref="CaughtUpAsync"/>). A receipt matched
    /// meanwhile is still refused by the match itself (<see cref="DepositedReceipt"/>).
    /// </summary>
    /// <summary>How long a deposit command waits for the receipts to take in what was recorded before it.</summary>
    public static readonly TimeSpan CatchUpWithin = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Waits until the receipts (the clinic's <c>Exceptions</c> shard) have read every event committed before this call,
    /// so that a deposit command sees the payment recorded a moment ago (a user who takes cash and then matches the day's
    /// deposit at once). False when they have not within <paramref name="within"/> (the daemon is down or far behind).
    /// </summary>
    public static Task<bool> CaughtUpAsync(IQuerySession session, TimeSpan within, CancellationToken ct) =>
        Maintenance.ProjectionMaintenance.CaughtUpAsync(session, ExceptionsProjection.Name, within, ct);

    /// <summary>
    /// The receipts not deposited: the read model's, less those a deposit took since it last caught up (<see cref="DepositedReceipt"/>
    /// is written with the match), so a receipt just matched is not offered again.
    /// </summary>
    public static async Task<IReadOnlyList<Receipt>> OpenAsync(IQuerySession session, CancellationToken ct)
    {
        var open = await session.Query<WorklistReceipt>().Where(r => !r.Deposited && r.Sources > 0).ToListAsync(ct);
        if (open.Count == 0) return [];
        var taken = (await session.LoadManyAsync<DepositedReceipt>(ct, open.Select(r => r.Id).ToArray())).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        return open.Where(r => !taken.Contains(r.Id)).Select(r => r.ToReceipt()).ToList();
    }

    /// <summary>The receipts no deposit was matched to.</summary>
    public static IReadOnlyList<Receipt> Undeposited(IEnumerable<Receipt> receipts, IEnumerable<BankDeposit> deposits)
    {
        var matched = deposits.SelectMany(d => d.Receipts).Select(r => r.Key).ToHashSet();
        return receipts.Where(r => !matched.Contains(r.Key)).ToList();
    }

    /// <summary>
    /// The receipts a deposit is, when that is unambiguous: the one whose reference it carries (an 835 trace number,
    /// a check number) for the same amount; else the one card batch or processor payout of the few days before it for the same amount;
    /// else the one receipt of the week before it for the same amount. Nothing when two would fit.
    /// </summary>
    public static IReadOnlyList<Receipt> AutoMatch(BankDeposit deposit, IReadOnlyList<Receipt> open)
    {
        var sameAmount = open.Where(r => r.Amount == deposit.Amount && r.ReceivedOn <= deposit.DepositedOn).ToList();
        var byReference = sameAmount.Where(r => deposit.Reference.Length > 0 && r.Reference.Contains(deposit.Reference, StringComparison.OrdinalIgnoreCase)).ToList();
        if (byReference.Count == 1) return byReference;
        var cards = sameAmount.Where(r => r.Kind is "card-batch" or "processor-payout" && deposit.DepositedOn.DayNumber - r.ReceivedOn.DayNumber <= SettlementDays).ToList();
        if (cards.Count == 1) return cards;
        var week = sameAmount.Where(r => deposit.DepositedOn.DayNumber - r.ReceivedOn.DayNumber <= 7).ToList();
        return week.Count == 1 ? week : [];
    }
}

/// <param name="Recorded">Who recorded it and when (the lists' reads; null in a command's answer).</param>
/// <param name="MatchedBy">Who matched it to its receipts and when: the user who recorded it for an automatic match.</param>
public sealed record DepositView(
    Guid Id, decimal Amount, DateOnly DepositedOn, string Reference, bool Matched, bool Automatic, IReadOnlyList<ReceiptMatch> Receipts,
    Actor? Recorded = null, Actor? MatchedBy = null)
{
    public static DepositView From(BankDeposit d) => new(d.Id, d.Amount, d.DepositedOn, d.Reference, d.Matched, d.Automatic, d.Receipts);
}

public sealed record DepositPage(IReadOnlyList<DepositView> Items, long TotalCount, int Page, int PageSize);

public sealed record DepositWorkspace(IReadOnlyList<DepositView> UnmatchedDeposits, IReadOnlyList<Receipt> UndepositedReceipts);

public static class DepositQueries
{
    /// <summary>Deposits not matched yet and receipts not deposited yet, oldest first.</summary>
    [WolverineGet("/api/deposits/workspace"), Authorize(Policy = Policies.Staff)]
    [Tags("Reconciliation")]
    public static async Task<DepositWorkspace> Workspace(IQuerySession session, CancellationToken ct)
    {
        var open = await Receipts.OpenAsync(session, ct);
        var unmatched = await session.Query<BankDeposit>().Where(d => !d.Receipts.Any()).OrderBy(d => d.DepositedOn).ToListAsync(ct);
        return new DepositWorkspace(
            unmatched.Select(DepositView.From).ToList(),
            open.OrderBy(r => r.ReceivedOn).ThenBy(r => r.Key, StringComparer.Ordinal).ToList());
    }

    /// <summary>The deposits as read, with who recorded and matched each and when (<see cref="EventActors"/>).</summary>
    public static async Task<IReadOnlyList<DepositView>> ViewsAsync(IQuerySession session, IGlobalStore accounts, IReadOnlyList<BankDeposit> deposits, CancellationToken ct)
    {
        var events = await EventActors.OfStreamsAsync(session, accounts, deposits.Select(d => d.Id).ToArray(), [typeof(DepositRecorded), typeof(DepositMatched)], ct);
        return deposits.Select(d => DepositView.From(d) with
        {
            Recorded = events.Where(x => x.Event.StreamId == d.Id && x.Event.Data is DepositRecorded).Select(x => x.Actor).FirstOrDefault(),
            MatchedBy = events.Where(x => x.Event.StreamId == d.Id && x.Event.Data is DepositMatched).Select(x => x.Actor).LastOrDefault()
        }).ToList();
    }

    /// <summary>Every deposit, newest first, a page at a time, with who recorded and matched it.</summary>
    /// <param name="matched">true: matched ones only; false: unmatched ones only; left out: all.</param>
    [WolverineGet("/api/deposits"), Authorize(Policy = Policies.Staff)]
    [Tags("Reconciliation")]
    public static async Task<IResult> List(int? page, int? pageSize, bool? matched, IQuerySession session, IGlobalStore accounts, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        if (page is < 1) problems.Add("page", "must be 1 or more");
        if (pageSize is < 1 or > 200) problems.Add("pageSize", "must be from 1 to 200");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        var number = page ?? 1;
        var size = pageSize ?? 25;
        IQueryable<BankDeposit> query = session.Query<BankDeposit>();
        // Matched means it has receipts: an empty JSON array is unmatched.
        if (matched is { } m) query = m ? query.Where(d => d.Receipts.Any()) : query.Where(d => !d.Receipts.Any());
        var (items, total) = await query.OrderByDescending(d => d.DepositedOn).ThenByDescending(d => d.RecordedAt).PageAsync(number, size, ct);
        return Results.Ok(new DepositPage(await ViewsAsync(session, accounts, items, ct), total, number, size));
    }

    [WolverineGet("/api/deposits/{depositId}"), Authorize(Policy = Policies.Staff)]
    [Tags("Reconciliation")]
    public static async Task<IResult> Get(Guid depositId, IQuerySession session, IGlobalStore accounts, CancellationToken ct) =>
        await session.LoadAsync<BankDeposit>(depositId, ct) is { } d ? Results.Ok((await ViewsAsync(session, accounts, [d], ct))[0]) : Problems.NotFound($"deposit {depositId} does not exist");
}
