using KetamineBilling.Features.PatientBilling;
using JasperFx.Events;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Projections;

namespace KetamineBilling.Features.Reconciliation;

/// <summary>
/// One worklist item as the Exceptions read model keeps it (and as the on-read definition builds it): the item, the
/// source whose change replaces it, and the first day it shows (an unbilled session after 7 days, an unanswered claim
/// after 30, an undeposited receipt after 5; else always, <see cref="DateOnly.MinValue"/>). Its age is the reader's today.
/// </summary>
/// <param name="Id">The item's key, "type:key".</param>
/// <param name="TypeOrder">The type's place in <see cref="ExceptionsWorklist.Types"/>: the order of the groups.</param>
/// <param name="Source">"account:{id}", "remittance:{id}", "deposit:{id}" or "receipt:{key}".</param>
/// <param name="Search">Patient, reference and detail in lower case: what the worklist's text filter looks in.</param>
public sealed record WorklistEntry(
    string Id, string Type, int TypeOrder, string Source, Guid? PatientId, string? Patient, Guid? ClaimId, string? Reference, decimal Amount, DateOnly Since,
    DateOnly VisibleFrom, string Detail, string Resolution, string Fix, Guid? RemittanceId, string Search)
{
    public ExceptionItem ToItem(DateOnly today) =>
        new(Id, Type, PatientId, Patient, ClaimId, Reference, Amount, Since, Math.Max(0, today.DayNumber - Since.DayNumber), Detail, Resolution, Fix, RemittanceId);

    public static string SearchOf(string? patient, string? reference, string detail) => $"{patient} {reference} {detail}".ToLowerInvariant();
}

/// <summary>
/// How many items of one type, counting from one day and showing from one day, and their amount: the worklist's summary
/// sums these (a few thousand whatever the number of items) unless it is searched.
/// </summary>
public sealed class WorklistTally
{
    /// <summary>"{type}|{since}|{visible from}".</summary>
    public string Id { get; set; } = "";

    public string Type { get; set; } = "";
    public DateOnly Since { get; set; }
    public DateOnly VisibleFrom { get; set; }
    public int Count { get; set; }
    public decimal Amount { get; set; }

    public static string IdOf(WorklistEntry entry) => $"{entry.Type}|{entry.Since:yyyy-MM-dd}|{entry.VisibleFrom:yyyy-MM-dd}";
}

/// <summary>
/// A receipt as the Exceptions read model keeps it: the sum of what its sources hold (a day's card takings is every
/// account's card payments of that day), and whether a deposit was matched to it. The deposits workspace and the
/// deposit commands read these instead of every account.
/// </summary>
/// <param name="Id">The receipt's key (<see cref="Receipt.Key"/>).</param>
/// <param name="Sources">How many sources hold some of it: none, and there is no such receipt.</param>
public sealed class WorklistReceipt
{
    public string Id { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Reference { get; set; } = "";
    public decimal Amount { get; set; }
    public DateOnly ReceivedOn { get; set; }
    public int Sources { get; set; }
    public bool Deposited { get; set; }

    public Receipt ToReceipt() => new(Id, Kind, Reference, Amount, ReceivedOn);
}

/// <summary>What one source (an account, a remittance, an employer, a grant, a study) adds to each receipt, as last counted.</summary>
public sealed class WorklistReceiptSource
{
    public string Id { get; set; } = "";
    public Dictionary<string, decimal> Amounts { get; set; } = [];
}

/// <summary>
/// A session's employer caps and grant uses, folded from those streams' own events: whether an employer cap cut its
/// commitment (and which) and whether a grant pays some of it, for the "cap exceeded" items.
/// </summary>
public sealed class WorklistSponsor
{
    public Guid Id { get; set; }
    public Guid PatientId { get; set; }

    /// <summary>Employer id to what cut it ("money" or "sessions"); only capped commitments.</summary>
    public Dictionary<Guid, string> Caps { get; set; } = [];

    /// <summary>Grants that pay some of it.</summary>
    public List<Guid> Grants { get; set; } = [];
}

/// <summary>
/// Keeps the reconciliation worklist as documents (ADR 0017): per source (an account with its claims, a remittance, a
/// deposit, a receipt) its items, built by the same code as the on-read definition
/// (<see cref="ExceptionsWorklist.EntriesFromLedgerAsync"/>) from the inline documents of the sources a batch touches,
/// and replaced when they differ. Receipts are summed from their sources so that "undeposited" and "deposit mismatch"
/// are decided without reading every account. Asynchronous, per clinic; rebuilt after the documents it reads.
/// </summary>
public sealed class ExceptionsProjection : IProjection
{
    public const string Name = "Exceptions";

    public static readonly Type[] AccountEventTypes = Persistence.FoldedBy(typeof(PatientAccount));
    public static readonly Type[] ClaimEventTypes = Persistence.FoldedBy(typeof(Claim));
    public static readonly Type[] RemittanceEventTypes = Persistence.FoldedBy(typeof(Remittance));
    public static readonly Type[] DepositEventTypes = Persistence.FoldedBy(typeof(BankDeposit));

    public static readonly Type[] SponsorEventTypes =
        [typeof(DirectPayCommitted), typeof(DirectPayReleased), typeof(GrantApplied), typeof(GrantReleased)];

    /// <summary>Third parties' payments: receipts of their own.</summary>
    public static readonly Type[] PaymentEventTypes = [typeof(EmployerPaymentReceived), typeof(GrantFundsReceived), typeof(SponsorPaymentReceived)];

    /// <summary>A card payment's dispute opened or closed: its account's "card dispute" item.</summary>
    public static readonly Type[] CardEventTypes = [typeof(CardPaymentDisputed), typeof(CardDisputeClosed)];

    /// <summary>A processor payout: a receipt of its own (its net).</summary>
    public static readonly Type[] PayoutEventTypes = Persistence.FoldedBy(typeof(ProcessorPayout));

    /// <summary>An autopay's attempts: its account's "missed instalment" items.</summary>
    public static readonly Type[] AutopayEventTypes = Persistence.FoldedBy(typeof(Autopay));

    public static IEnumerable<Type> EventTypes =>
        AccountEventTypes.Concat(ClaimEventTypes).Concat(RemittanceEventTypes).Concat(DepositEventTypes).Concat(SponsorEventTypes).Concat(PaymentEventTypes)
            .Concat(CardEventTypes).Concat(PayoutEventTypes).Concat(AutopayEventTypes).Distinct();

    /// <summary>The inline read models this one reads (<see cref="Maintenance.ProjectionMaintenance.Readers"/>).</summary>
    public static readonly string[] Reads =
        [nameof(PatientAccount), nameof(Claim), nameof(Remittance), nameof(BankDeposit), nameof(DepositedReceipt), nameof(EmployerAgreement), nameof(Grant), nameof(Study), nameof(CardPayment), nameof(ProcessorPayout), nameof(Autopay)];

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var accounts = new HashSet<Guid>();
        var claimIds = new HashSet<Guid>();
        var remittanceIds = new HashSet<Guid>();
        var depositIds = new HashSet<Guid>();
        var employers = new HashSet<Guid>();
        var grants = new HashSet<Guid>();
        var studies = new HashSet<Guid>();
        var payouts = new HashSet<Guid>();
        foreach (var e in events)
        {
            var type = e.EventType;
            if (PayoutEventTypes.Contains(type)) payouts.Add(e.StreamId);
            if (AccountEventTypes.Contains(type)) accounts.Add(e.StreamId);
            if (ClaimEventTypes.Contains(type)) claimIds.Add(e.StreamId);
            if (RemittanceEventTypes.Contains(type)) remittanceIds.Add(e.StreamId);
            if (DepositEventTypes.Contains(type)) depositIds.Add(e.StreamId);
            switch (e.Data)
            {
                case EmployerPaymentReceived p: employers.Add(p.EmployerId); break;
                case GrantFundsReceived f: grants.Add(f.GrantId); break;
                case SponsorPaymentReceived s: studies.Add(s.StudyId); break;
                case CardPaymentDisputed d: accounts.Add(d.PatientId); break;
                case CardDisputeClosed c: accounts.Add(c.PatientId); break;
                case AutopayEnrolled a: accounts.Add(a.PatientId); break;
                case AutopayCharged a: accounts.Add(a.PatientId); break;
                case AutopayChargeFailed a: accounts.Add(a.PatientId); break;
                case AutopayStopped a: accounts.Add(a.PatientId); break;
            }
        }

        var sponsors = await SponsorsAsync(operations, events, accounts, cancellation);

        // The claims of the batch name their patients: a claim's status decides its "no response" item and its denied lines'.
        var batchClaims = claimIds.Count == 0 ? [] : await operations.LoadManyAsync<Claim>(cancellation, claimIds.ToArray());
        foreach (var claim in batchClaims) accounts.Add(claim.PatientId);

        var items = new List<WorklistEntry>();
        var sources = new HashSet<string>();
        // The stored items of the sources read so far (the accounts'), to compare the new ones with.
        var stored = new Dictionary<string, WorklistEntry>(StringComparer.Ordinal);
        var preloaded = new HashSet<string>(StringComparer.Ordinal);
        var receiptSources = new Dictionary<string, IReadOnlyList<Receipt>>();

        if (accounts.Count > 0)
        {
            var ids = accounts.ToArray();
            var snapshots = await operations.LoadManyAsync<PatientAccount>(cancellation, ids);
            var accountSources = ids.Select(ExceptionsWorklist.AccountSource).ToArray();
            // The claims each account's items are about: its sessions' claims, the batch's claims of it, and those its
            // current "no response" items name (a claim closed elsewhere must take its item away).
            foreach (var entry in await operations.Query<WorklistEntry>().Where(x => x.Source.IsOneOf(accountSources)).ToListAsync(cancellation))
            {
                stored[entry.Id] = entry;
            }

            var wanted = snapshots.SelectMany(a => a.Sessions.SelectMany(s => s.Claims.Select(c => c.ClaimId)))
                .Concat(stored.Values.Where(x => x.Type is "claim-no-response" or "claim-rejected").Select(x => x.ClaimId!.Value)).Except(batchClaims.Select(c => c.Id)).Distinct().ToArray();
            var claims = batchClaims.ToDictionary(c => c.Id);
            if (wanted.Length > 0)
            {
                foreach (var claim in await operations.LoadManyAsync<Claim>(cancellation, wanted)) claims[claim.Id] = claim;
            }

            var capOf = await CapsAsync(operations, snapshots, sponsors, cancellation);
            var reversed = snapshots.SelectMany(a => a.Payments.Where(p => p.Reversed).Select(p => p.PaymentId)).ToArray();
            var cards = reversed.Length == 0 ? new Dictionary<Guid, CardPayment>() : (await operations.LoadManyAsync<CardPayment>(cancellation, reversed)).ToDictionary(c => c.Id);
            var planned = snapshots.SelectMany(a => a.Plans.Select(p => AutopayRules.IdOf(p.PlanId))).ToArray();
            var autopays = planned.Length == 0 ? new Dictionary<Guid, Autopay>() : (await operations.LoadManyAsync<Autopay>(cancellation, planned)).ToDictionary(a => a.Id);
            sources.UnionWith(accountSources);
            preloaded.UnionWith(accountSources);
            foreach (var account in snapshots)
            {
                items.AddRange(ExceptionsWorklist.ForAccount(account, claims, capOf.CapOf, capOf.Granted, cards.GetValueOrDefault, autopays.GetValueOrDefault));
                receiptSources[ExceptionsWorklist.AccountSource(account.Id)] = Receipts.From([], [account], [], [], []);
            }

            foreach (var id in ids.Except(snapshots.Select(a => a.Id))) receiptSources[ExceptionsWorklist.AccountSource(id)] = [];
        }

        if (remittanceIds.Count > 0)
        {
            var remittances = await operations.LoadManyAsync<Remittance>(cancellation, remittanceIds.ToArray());
            foreach (var id in remittanceIds) sources.Add(ExceptionsWorklist.RemittanceSource(id));
            foreach (var remittance in remittances)
            {
                items.AddRange(ExceptionsWorklist.ForRemittance(remittance));
                receiptSources[ExceptionsWorklist.RemittanceSource(remittance.Id)] = Receipts.From([remittance], [], [], [], []);
            }
        }

        foreach (var employer in employers.Count == 0 ? [] : await operations.LoadManyAsync<EmployerAgreement>(cancellation, employers.ToArray()))
        {
            receiptSources[$"employer:{employer.Id}"] = Receipts.From([], [], [employer], [], []);
        }

        foreach (var grant in grants.Count == 0 ? [] : await operations.LoadManyAsync<Grant>(cancellation, grants.ToArray()))
        {
            receiptSources[$"grant:{grant.Id}"] = Receipts.From([], [], [], [grant], []);
        }

        foreach (var study in studies.Count == 0 ? [] : await operations.LoadManyAsync<Study>(cancellation, studies.ToArray()))
        {
            receiptSources[$"study:{study.Id}"] = Receipts.From([], [], [], [], [study]);
        }

        foreach (var payout in payouts.Count == 0 ? [] : await operations.LoadManyAsync<ProcessorPayout>(cancellation, payouts.ToArray()))
        {
            receiptSources[$"payout:{payout.Id}"] = Receipts.From([], [], [], [], [], [payout]);
        }

        // Receipts: each source's share changed by what it holds now; then the deposits and the undeposited receipts they touch.
        var (receipts, changedKeys) = await ReceiptsAsync(operations, receiptSources, cancellation);
        var keys = changedKeys.ToHashSet();
        if (depositIds.Count > 0 || keys.Count > 0)
        {
            var depositedBy = keys.Count == 0
                ? []
                : (await operations.LoadManyAsync<DepositedReceipt>(cancellation, keys.ToArray())).ToDictionary(d => d.Id, d => d.DepositId);
            depositIds.UnionWith(depositedBy.Values);
            var deposits = depositIds.Count == 0 ? [] : await operations.LoadManyAsync<BankDeposit>(cancellation, depositIds.ToArray());
            var theirs = deposits.SelectMany(d => d.Receipts.Select(r => r.Key)).Where(k => !receipts.ContainsKey(k)).Distinct().ToArray();
            if (theirs.Length > 0)
            {
                foreach (var receipt in await operations.LoadManyAsync<WorklistReceipt>(cancellation, theirs)) receipts[receipt.Id] = receipt;
            }

            foreach (var id in depositIds) sources.Add(ExceptionsWorklist.DepositSource(id));
            foreach (var deposit in deposits)
            {
                items.AddRange(ExceptionsWorklist.ForDeposit(deposit, key => receipts.GetValueOrDefault(key) is { Sources: > 0 } r ? r.Amount : 0m));
                foreach (var receipt in deposit.Receipts)
                {
                    depositedBy[receipt.Key] = deposit.Id;
                    keys.Add(receipt.Key);
                }
            }

            foreach (var key in keys)
            {
                sources.Add(ExceptionsWorklist.ReceiptSource(key));
                if (!receipts.TryGetValue(key, out var receipt)) continue;
                var deposited = depositedBy.ContainsKey(key);
                if (receipt.Sources > 0 && !deposited) items.AddRange(ExceptionsWorklist.ForUndeposited(receipt.ToReceipt()));
                if (receipt.Deposited == deposited) continue;
                receipt.Deposited = deposited;
                if (receipt.Sources > 0) operations.Store(receipt);
            }
        }

        if (sources.Count == 0) return;
        await ReplaceAsync(operations, sources, preloaded, stored, items, cancellation);
    }

    /// <summary>
    /// Writes the items that differ from the stored ones of the same sources, deletes the stored ones no longer there, and
    /// moves the tallies of both by the difference.
    /// </summary>
    private static async Task ReplaceAsync(
        IDocumentOperations operations, HashSet<string> sources, HashSet<string> preloaded, Dictionary<string, WorklistEntry> stored, List<WorklistEntry> items,
        CancellationToken cancellation)
    {
        var names = sources.Except(preloaded).ToArray();
        if (names.Length > 0)
        {
            foreach (var entry in await operations.Query<WorklistEntry>().Where(x => x.Source.IsOneOf(names)).ToListAsync(cancellation)) stored[entry.Id] = entry;
        }

        var tallies = new Dictionary<string, WorklistTally>(StringComparer.Ordinal);
        void Count(WorklistEntry entry, int sign)
        {
            var id = WorklistTally.IdOf(entry);
            if (!tallies.TryGetValue(id, out var tally))
            {
                tallies[id] = tally = new WorklistTally { Id = id, Type = entry.Type, Since = entry.Since, VisibleFrom = entry.VisibleFrom };
            }

            tally.Count += sign;
            tally.Amount += sign * entry.Amount;
        }

        foreach (var item in items)
        {
            if (stored.Remove(item.Id, out var before))
            {
                if (before == item) continue;
                Count(before, -1);
            }

            Count(item, 1);
            operations.Store(item);
        }

        foreach (var (id, gone) in stored)
        {
            Count(gone, -1);
            operations.Delete<WorklistEntry>(id);
        }

        var moved = tallies.Where(t => t.Value is not { Count: 0, Amount: 0m }).Select(t => t.Key).ToArray();
        if (moved.Length == 0) return;
        var current = (await operations.LoadManyAsync<WorklistTally>(cancellation, moved)).ToDictionary(t => t.Id);
        foreach (var id in moved)
        {
            var delta = tallies[id];
            var tally = current.GetValueOrDefault(id) ?? new WorklistTally { Id = id, Type = delta.Type, Since = delta.Since, VisibleFrom = delta.VisibleFrom };
            tally.Count += delta.Count;
            tally.Amount += delta.Amount;
            if (tally.Count == 0) operations.Delete<WorklistTally>(id);
            else operations.Store(tally);
        }
    }

    /// <summary>
    /// Each source's receipts now against its memory: the receipts' sums move by the difference. Returns the receipts
    /// loaded or changed (by key) and the keys whose amount or existence changed.
    /// </summary>
    private static async Task<(Dictionary<string, WorklistReceipt> Receipts, List<string> Changed)> ReceiptsAsync(
        IDocumentOperations operations, Dictionary<string, IReadOnlyList<Receipt>> now, CancellationToken cancellation)
    {
        var receipts = new Dictionary<string, WorklistReceipt>(StringComparer.Ordinal);
        if (now.Count == 0) return (receipts, []);
        var memories = (await operations.LoadManyAsync<WorklistReceiptSource>(cancellation, now.Keys.ToArray())).ToDictionary(m => m.Id);
        var deltas = new Dictionary<string, (decimal Amount, int Sources, Receipt? Shape)>(StringComparer.Ordinal);
        foreach (var (source, held) in now)
        {
            var before = memories.GetValueOrDefault(source)?.Amounts ?? [];
            var after = held.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Sum(r => r.Amount));
            if (before.Count == after.Count && before.All(b => after.TryGetValue(b.Key, out var a) && a == b.Value)) continue;
            foreach (var (key, amount) in before)
            {
                var d = deltas.GetValueOrDefault(key);
                deltas[key] = (d.Amount - amount, d.Sources - 1, d.Shape);
            }

            foreach (var receipt in held)
            {
                var d = deltas.GetValueOrDefault(receipt.Key);
                deltas[receipt.Key] = (d.Amount + receipt.Amount, d.Sources + 1, receipt);
            }

            if (after.Count == 0)
            {
                if (memories.ContainsKey(source)) operations.Delete<WorklistReceiptSource>(source);
            }
            else
            {
                operations.Store(new WorklistReceiptSource { Id = source, Amounts = after });
            }
        }

        var changed = deltas.Where(d => d.Value is not { Amount: 0m, Sources: 0 }).Select(d => d.Key).ToList();
        if (changed.Count == 0) return (receipts, changed);
        foreach (var receipt in await operations.LoadManyAsync<WorklistReceipt>(cancellation, changed.ToArray())) receipts[receipt.Id] = receipt;
        foreach (var key in changed)
        {
            var (amount, count, shape) = deltas[key];
            if (!receipts.TryGetValue(key, out var receipt)) receipts[key] = receipt = new WorklistReceipt { Id = key };
            if (shape is not null) (receipt.Kind, receipt.Reference, receipt.ReceivedOn) = (shape.Kind, shape.Reference, shape.ReceivedOn);
            receipt.Amount += amount;
            receipt.Sources += count;
            if (receipt.Sources <= 0) operations.Delete<WorklistReceipt>(key);
            else operations.Store(receipt);
        }

        return (receipts, changed);
    }

    private sealed record Caps(Func<Guid, string?> CapOf, Func<Guid, bool> Granted);

    /// <summary>The caps and grant uses of the accounts' sessions that have something the patient owes (the only ones they decide).</summary>
    private static async Task<Caps> CapsAsync(
        IDocumentOperations operations, IReadOnlyList<PatientAccount> accounts, Dictionary<Guid, WorklistSponsor?> changed, CancellationToken cancellation)
    {
        var wanted = accounts.SelectMany(a => a.Sessions)
            .Where(s => !s.Voided && s.Lines.Sum(l => l.Open.Patient) > 0 && (s.Funding.Contains(FundingSource.Employer) || s.Funding.Contains(FundingSource.Grant)))
            .Select(s => s.SessionId).Where(id => !changed.ContainsKey(id)).Distinct().ToArray();
        var sponsors = changed.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!);
        if (wanted.Length > 0)
        {
            foreach (var s in await operations.LoadManyAsync<WorklistSponsor>(cancellation, wanted)) sponsors[s.Id] = s;
        }

        var employerIds = sponsors.Values.SelectMany(s => s.Caps.Keys).Distinct().ToArray();
        var names = employerIds.Length == 0
            ? new Dictionary<Guid, string>()
            : (await operations.Query<EmployerAgreement>().Where(e => e.Id.IsOneOf(employerIds)).Select(e => new EmployerName(e.Id, e.Name)).ToListAsync(cancellation))
            .ToDictionary(e => e.Id, e => e.Name);
        return new Caps(
            session => sponsors.GetValueOrDefault(session)?.Caps.Select(c => ExceptionsWorklist.CapText(names.GetValueOrDefault(c.Key, ""), c.Value)).FirstOrDefault(),
            session => sponsors.GetValueOrDefault(session)?.Grants.Count > 0);
    }

    public sealed record EmployerName(Guid Id, string Name);

    /// <summary>
    /// Folds this batch's commitments, releases and grant uses into the sponsor documents (written here) and returns them
    /// by session (null: nothing left); the accounts of the sessions they touch join <paramref name="accounts"/>.
    /// </summary>
    private static async Task<Dictionary<Guid, WorklistSponsor?>> SponsorsAsync(
        IDocumentOperations operations, IReadOnlyList<IEvent> events, HashSet<Guid> accounts, CancellationToken cancellation)
    {
        var changes = new Dictionary<Guid, WorklistSponsor?>();
        var folded = events.Where(e => SponsorEventTypes.Contains(e.EventType)).Select(e => e.Data).ToList();
        if (folded.Count == 0) return changes;
        var sessions = folded.Select(e => e switch
        {
            DirectPayCommitted c => c.SessionId,
            DirectPayReleased r => r.SessionId,
            GrantApplied a => a.SessionId,
            GrantReleased r => r.SessionId,
            _ => Guid.Empty
        }).Distinct().ToArray();
        var known = (await operations.LoadManyAsync<WorklistSponsor>(cancellation, sessions)).ToDictionary(s => s.Id);
        WorklistSponsor Of(Guid session, Guid? patient)
        {
            if (changes.TryGetValue(session, out var s) && s is not null) return s;
            s = known.GetValueOrDefault(session) ?? new WorklistSponsor { Id = session };
            if (patient is { } p) s.PatientId = p;
            changes[session] = s;
            return s;
        }

        foreach (var e in folded)
        {
            switch (e)
            {
                case DirectPayCommitted c:
                    var committed = Of(c.SessionId, c.PatientId);
                    if (c.CappedBy is { } by) committed.Caps[c.EmployerId] = by;
                    break;
                case DirectPayReleased r:
                    Of(r.SessionId, null).Caps.Remove(r.EmployerId);
                    break;
                case GrantApplied a:
                    var applied = Of(a.SessionId, a.PatientId);
                    if (a.Amount > 0 && !applied.Grants.Contains(a.GrantId)) applied.Grants.Add(a.GrantId);
                    break;
                case GrantReleased r:
                    Of(r.SessionId, null).Grants.Remove(r.GrantId);
                    break;
            }
        }

        foreach (var session in changes.Keys.ToList())
        {
            var sponsor = changes[session]!;
            if (sponsor.PatientId != Guid.Empty) accounts.Add(sponsor.PatientId);
            if (sponsor.Caps.Count == 0 && sponsor.Grants.Count == 0)
            {
                if (known.ContainsKey(session)) operations.Delete<WorklistSponsor>(session);
                changes[session] = null;
            }
            else
            {
                operations.Store(sponsor);
            }
        }

        return changes;
    }
}
