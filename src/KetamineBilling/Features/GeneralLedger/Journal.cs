using JasperFx.Events;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Projections;

namespace KetamineBilling.Features.GeneralLedger;

/// <summary>One side of a posting: an amount debited or credited to an account (the other is zero).</summary>
public sealed record JournalLine(GlAccount Account, decimal Debit, decimal Credit);

/// <summary>
/// The journal entry of one event: the posting date (the date of the financial fact: a session's date of service, a payment's day
/// received, a deposit's day; else the clinic's day it was recorded), what it was, a reference to the event (never a patient's
/// name or id: the journal is Finance's), and its lines, debits equal to credits.
/// </summary>
public sealed class JournalEntry
{
    /// <summary>The event's id.</summary>
    public Guid Id { get; set; }

    /// <summary>The event's sequence in the clinic's store: the reference billing traces the entry back by.</summary>
    public long Sequence { get; set; }

    public DateOnly Date { get; set; }
    public string Source { get; set; } = "";
    public string Description { get; set; } = "";
    public List<JournalLine> Lines { get; set; } = [];
    public DateTimeOffset RecordedAt { get; set; }

    public string Reference => $"KB-{Sequence}";
    public decimal Debits => Lines.Sum(l => l.Debit);
    public decimal Credits => Lines.Sum(l => l.Credit);
}

/// <summary>
/// One month's postings by account (debits and credits, keyed by the account's name): a trial balance reads these for the
/// whole months before and within its period, and the entries only for the days of a month it cuts.
/// </summary>
public sealed class JournalMonth
{
    /// <summary>"yyyy-MM".</summary>
    public string Id { get; set; } = "";

    /// <summary>The month's first day.</summary>
    public DateOnly Month { get; set; }

    public Dictionary<string, decimal> Debits { get; set; } = new(StringComparer.Ordinal);
    public Dictionary<string, decimal> Credits { get; set; } = new(StringComparer.Ordinal);

    public static string IdOf(DateOnly day) => day.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    public void Add(JournalEntry entry)
    {
        foreach (var line in entry.Lines)
        {
            var key = line.Account.ToString();
            if (line.Debit != 0m) Debits[key] = Debits.GetValueOrDefault(key) + line.Debit;
            if (line.Credit != 0m) Credits[key] = Credits.GetValueOrDefault(key) + line.Credit;
        }
    }
}

/// <summary>The journal's memory of one patient account: the account folded to the last event it posted.</summary>
public sealed class JournalAccount
{
    public Guid Id { get; set; }
    public PatientAccount? Account { get; set; }
}

/// <summary>
/// Keeps the general ledger's journal: an entry for every event that moves money, each the difference the event makes to the
/// account's balances (<see cref="AccountBooks"/>) or, for the other areas' money, the receipt, the payout's fees or the
/// deposit. Asynchronous: a command never pays for it.
/// </summary>
public sealed class JournalProjection(Func<string, CancellationToken, ValueTask<TimeZoneInfo>> zoneOf) : IProjection
{
    public const string Name = "Journal";

    public static readonly Type[] AccountEventTypes = Persistence.FoldedBy(typeof(PatientAccount)).Append(typeof(PatientRegistered)).Distinct().ToArray();

    public static readonly Type[] OtherEventTypes =
    [
        typeof(EmployerPaymentReceived), typeof(GrantFundsReceived), typeof(SponsorPaymentReceived), typeof(ProcessorPayoutPaid), typeof(DepositMatched)
    ];

    public static IEnumerable<Type> EventTypes => AccountEventTypes.Concat(OtherEventTypes).Distinct();

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        if (events.Count == 0) return;
        var zone = await zoneOf(operations.TenantId, cancellation);
        DateOnly Local(DateTimeOffset at) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);

        var accountIds = events.Where(e => AccountEventTypes.Contains(e.EventType)).Select(e => e.StreamId).Distinct().ToArray();
        var memories = accountIds.Length == 0 ? [] : (await operations.LoadManyAsync<JournalAccount>(cancellation, accountIds)).ToDictionary(m => m.Id);
        var depositIds = events.Where(e => e.Data is DepositMatched).Select(e => e.StreamId).Distinct().ToArray();
        var deposits = depositIds.Length == 0 ? [] : (await operations.LoadManyAsync<BankDeposit>(cancellation, depositIds)).ToDictionary(d => d.Id);
        var folded = new Dictionary<Guid, (PatientAccount? Account, SortedDictionary<GlAccount, decimal> Balances)>();
        var months = new Dictionary<string, JournalMonth>(StringComparer.Ordinal);
        var posted = new List<JournalEntry>();

        foreach (var e in events)
        {
            JournalEntry? entry;
            if (AccountEventTypes.Contains(e.EventType))
            {
                // The balances before are taken before folding (which changes the account in place), and kept for the next event.
                var (before, balances) = folded.TryGetValue(e.StreamId, out var known) ? known
                    : memories.GetValueOrDefault(e.StreamId)?.Account is { } remembered ? (remembered, AccountBooks.Balances(remembered))
                    : (null, new SortedDictionary<GlAccount, decimal>());
                var after = PatientAccount.Advance(before, e.Data);
                var afterBalances = AccountBooks.Balances(after);
                folded[e.StreamId] = (after, afterBalances);
                entry = Difference(balances, afterBalances);
                // Dated by the event's own time (every account event sets the account's LastChangedAt), as the KPIs date it.
                if (entry is not null) (entry.Date, entry.Source, entry.Description) = Describe(e.Data, Local(after.LastChangedAt));
            }
            else
            {
                entry = Other(e.Data, deposits.GetValueOrDefault(e.StreamId));
            }

            if (entry is null || entry.Lines.Count == 0) continue;
            entry.Id = e.Id;
            entry.Sequence = e.Sequence;
            entry.RecordedAt = e.Timestamp;
            operations.Store(entry);
            posted.Add(entry);
        }

        if (posted.Count > 0)
        {
            var ids = posted.Select(p => JournalMonth.IdOf(p.Date)).Distinct().ToArray();
            foreach (var month in await operations.LoadManyAsync<JournalMonth>(cancellation, ids)) months[month.Id] = month;
            foreach (var entry in posted)
            {
                var id = JournalMonth.IdOf(entry.Date);
                if (!months.TryGetValue(id, out var month)) months[id] = month = new JournalMonth { Id = id, Month = new DateOnly(entry.Date.Year, entry.Date.Month, 1) };
                month.Add(entry);
            }

            foreach (var month in months.Values) operations.Store(month);
        }

        foreach (var (id, (account, _)) in folded) operations.Store(new JournalAccount { Id = id, Account = account });
    }

    /// <summary>The lines that take the books from one set of balances to the other (debits positive), largest first within a side.</summary>
    public static JournalEntry? Difference(IReadOnlyDictionary<GlAccount, decimal> before, IReadOnlyDictionary<GlAccount, decimal> after)
    {
        var lines = before.Keys.Union(after.Keys)
            .Select(gl => (Account: gl, Change: after.GetValueOrDefault(gl) - before.GetValueOrDefault(gl)))
            .Where(x => x.Change != 0m)
            .OrderBy(x => x.Change < 0).ThenBy(x => x.Account)
            .Select(x => new JournalLine(x.Account, Math.Max(x.Change, 0m), Math.Max(-x.Change, 0m)))
            .ToList();
        return lines.Count == 0 ? null : new JournalEntry { Lines = lines };
    }

    /// <summary>An account event's posting date, source and description (no patient named).</summary>
    private static (DateOnly Date, string Source, string Description) Describe(object data, DateOnly recorded) => data switch
    {
        SessionDelivered e => (e.DeliveredOn, "charge", $"Session charges, {e.Lines.Count} line(s)"),
        NoShowFeeCharged e => (e.MissedOn, "charge", "Missed-appointment fee"),
        SessionVoided e => (recorded, "void", "Session voided"),
        PaymentReceived e => (e.ReceivedOn, "payment", $"Patient payment by {ApiEnum.Name(e.Method)}{(e.Processor is null ? "" : $" through {e.Processor}")}"),
        PaymentApplied => (recorded, "application", "Patient credit applied to charges"),
        PaymentUnapplied => (recorded, "unapplication", "Payment returned to patient credit"),
        PaymentReversed e => (e.ReversedOn, "reversal", "Patient payment reversed"),
        RefundIssued e => (recorded, "refund", $"Refund by {ApiEnum.Name(e.Method)}"),
        DiscountGranted e => (recorded, "discount", $"Discount ({ApiEnum.Name(e.Basis)})"),
        BalanceWrittenOff e => (recorded, "write-off", $"Write-off ({ApiEnum.Name(e.Reason)})"),
        SessionsClaimed => (recorded, "claim", "Charges billed to insurance"),
        InsurancePaymentPosted => (recorded, "insurance-payment", "Insurance payment and adjustments posted"),
        InsurancePaymentReversed => (recorded, "insurance-reversal", "Insurance payment reversed"),
        ResponsibilityMoved => (recorded, "transfer", "Balance moved between payers"),
        ThirdPartyPaymentApplied e => (recorded, "third-party-payment", $"{ApiEnum.Name(e.Party)} payment applied"),
        ThirdPartyAdjusted e => (recorded, "third-party-adjustment", $"{ApiEnum.Name(e.Party)} adjustment"),
        PlacedWithCollectionAgency e => (e.PlacedOn, "collections", "Balance placed with a collection agency"),
        CollectionAgencyRecovered e => (e.ReceivedOn, "agency-recovery", "Collection agency remittance, net of its commission"),
        RecalledFromCollectionAgency => (recorded, "collections", "Balance recalled from a collection agency"),
        BadDebtReinstated => (recorded, "bad-debt-recovery", "Bad debt recovered"),
        _ => (recorded, "account", data.GetType().Name)
    };

    /// <summary>The other areas' money: third parties' receipts, the processor's fees, a deposit into the bank.</summary>
    private static JournalEntry? Other(object data, BankDeposit? deposit)
    {
        // A negative amount (fees the processor gave back) posts the other way round.
        JournalEntry Two(DateOnly date, string source, string description, GlAccount debit, GlAccount credit, decimal amount) => new()
        {
            Date = date, Source = source, Description = description,
            Lines = amount >= 0
                ? [new JournalLine(debit, amount, 0m), new JournalLine(credit, 0m, amount)]
                : [new JournalLine(credit, -amount, 0m), new JournalLine(debit, 0m, -amount)]
        };

        return data switch
        {
            EmployerPaymentReceived e when e.Amount > 0 => Two(e.ReceivedOn, "employer-payment", $"Employer payment {e.Reference}", GlAccount.UndepositedFunds,
                GlAccount.ThirdPartyUnapplied, e.Amount),
            GrantFundsReceived e when e.Amount > 0 => Two(e.ReceivedOn, "grant-funds", $"Grant funds {e.Reference}", GlAccount.UndepositedFunds,
                GlAccount.ThirdPartyUnapplied, e.Amount),
            SponsorPaymentReceived e when e.Amount > 0 => Two(e.ReceivedOn, "sponsor-payment", $"Study sponsor payment {e.Reference}", GlAccount.UndepositedFunds,
                GlAccount.ThirdPartyUnapplied, e.Amount),
            ProcessorPayoutPaid e when e.Fees != 0 => Two(e.ArrivalDate, "processor-fees", $"Card processor fees, payout {e.ProcessorPayoutId}", GlAccount.ProcessorFees,
                GlAccount.UndepositedFunds, e.Fees),
            DepositMatched e when e.Receipts.Sum(r => r.Amount) != 0 => Two(deposit?.DepositedOn ?? DateOnly.FromDateTime(e.MatchedAt.UtcDateTime), "deposit",
                $"Bank deposit {deposit?.Reference}".TrimEnd(), GlAccount.Cash, GlAccount.UndepositedFunds, e.Receipts.Sum(r => r.Amount)),
            _ => null
        };
    }
}
