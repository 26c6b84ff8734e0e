using JasperFx.Events;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Ledger;
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

    /// <summary>The posting date: the fact's own date, or the open period's first day for a fact dated in a closed month.</summary>
    public DateOnly Date { get; set; }

    /// <summary>The fact's own date when it was moved out of a closed month (a prior-period posting); else null.</summary>
    public DateOnly? OriginalDate { get; set; }

    public bool PriorPeriod => OriginalDate is not null;

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

    /// <summary>The month's A/R movement by party (keyed by the party's name): what the close report's roll-forward reads.</summary>
    public Dictionary<string, ArMovement> Receivables { get; set; } = new(StringComparer.Ordinal);

    public int Entries { get; set; }

    /// <summary>Entries posted in this month for facts dated in a month closed before (<see cref="JournalEntry.OriginalDate"/>).</summary>
    public int PriorPeriodEntries { get; set; }

    public static string IdOf(DateOnly day) => day.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    public void Add(JournalEntry entry, IReadOnlyDictionary<ResponsibleParty, ArMovement>? receivables = null)
    {
        Entries++;
        if (entry.PriorPeriod) PriorPeriodEntries++;
        foreach (var (party, movement) in receivables ?? new Dictionary<ResponsibleParty, ArMovement>())
        {
            var key = party.ToString();
            Receivables[key] = Receivables.TryGetValue(key, out var sum) ? sum.Plus(movement) : movement;
        }

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
        typeof(EmployerPaymentReceived), typeof(GrantFundsReceived), typeof(SponsorPaymentReceived), typeof(ProcessorPayoutPaid), typeof(DepositMatched),
        typeof(MonthClosed), typeof(MonthReopened), typeof(Remittances.ProviderAdjustmentsPosted)
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
        var reports = new Dictionary<Guid, CloseReport>();
        JournalBooks? books = null;

        async Task<JournalBooks> BooksAsync() =>
            books ??= await operations.LoadAsync<JournalBooks>(Books.StreamId, cancellation) ?? new JournalBooks { Id = Books.StreamId };

        async Task<JournalMonth> MonthAsync(DateOnly day)
        {
            var id = JournalMonth.IdOf(day);
            if (!months.TryGetValue(id, out var month))
            {
                months[id] = month = await operations.LoadAsync<JournalMonth>(id, cancellation)
                    ?? new JournalMonth { Id = id, Month = new DateOnly(day.Year, day.Month, 1) };
            }

            return month;
        }

        foreach (var e in events)
        {
            switch (e.Data)
            {
                case MonthClosed closed:
                    (await BooksAsync()).Closed.Add(closed.Month);
                    reports[e.Id] = await CloseReportAsync(operations, closed, e, months, cancellation);
                    continue;
                case MonthReopened reopened:
                    var journalBooks = await BooksAsync();
                    if (journalBooks.Closed.Count > 0 && journalBooks.Closed[^1] == reopened.Month) journalBooks.Closed.RemoveAt(journalBooks.Closed.Count - 1);
                    var last = reports.Values.Where(r => r.Month == reopened.Month).MaxBy(r => r.Sequence)
                        ?? await operations.Query<CloseReport>().Where(r => r.Month == reopened.Month).OrderByDescending(r => r.Sequence).FirstOrDefaultAsync(cancellation);
                    if (last is not null)
                    {
                        (last.ReopenedAt, last.ReopenReason) = (reopened.ReopenedAt, reopened.Reason);
                        reports[last.Id] = last;
                    }

                    continue;
            }

            JournalEntry? entry;
            IReadOnlyDictionary<ResponsibleParty, ArMovement>? receivables = null;
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
                if (entry is not null)
                {
                    (entry.Date, entry.Source, entry.Description) = Describe(e.Data, Local(after.LastChangedAt), after);
                    receivables = ReceivableMovement.Of(e.Data, balances, afterBalances);
                }
            }
            else
            {
                entry = Other(e.Data, deposits.GetValueOrDefault(e.StreamId));
            }

            if (entry is null || entry.Lines.Count == 0) continue;
            entry.Id = e.Id;
            entry.Sequence = e.Sequence;
            entry.RecordedAt = e.Timestamp;
            // A fact dated in a closed month posts on the open period's first day, flagged: a closed month never changes.
            if ((await BooksAsync()).LockedThrough is { } locked && entry.Date <= locked)
                (entry.OriginalDate, entry.Date) = (entry.Date, locked.AddDays(1));
            operations.Store(entry);
            (await MonthAsync(entry.Date)).Add(entry, receivables);
        }

        foreach (var month in months.Values) operations.Store(month);
        foreach (var report in reports.Values) operations.Store(report);
        if (books is not null) operations.Store(books);
        foreach (var (id, (account, _)) in folded) operations.Store(new JournalAccount { Id = id, Account = account });
    }

    /// <summary>
    /// The close report of a month, from the tallies as they stand when the journal reaches the close: those of this batch (in
    /// memory, not saved yet) over those saved before it.
    /// </summary>
    private static async Task<CloseReport> CloseReportAsync(
        IDocumentOperations operations, MonthClosed closed, IEvent e, Dictionary<string, JournalMonth> months, CancellationToken ct)
    {
        foreach (var saved in await operations.Query<JournalMonth>().Where(m => m.Month <= closed.Month).ToListAsync(ct))
            months.TryAdd(saved.Id, saved);
        var report = CloseReport.Build(closed.Month, months.Values.Where(m => m.Month <= closed.Month));
        (report.Id, report.Sequence, report.ClosedAt, report.Rule) = (e.Id, e.Sequence, closed.ClosedAt, closed.Rule);
        return report;
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
    /// <remarks>
    /// A payment applied as it is recorded (no application id) is dated by the payment's day received, as is a bad-debt
    /// recovery's reinstatement: the receivable falls on the day the money came. Credit applied later is dated when applied.
    /// </remarks>
    private static (DateOnly Date, string Source, string Description) Describe(object data, DateOnly recorded, PatientAccount account) => data switch
    {
        PaymentApplied { ApplicationId: null } e when account.Payment(e.PaymentId) is { } paid =>
            (paid.ReceivedOn, "application", "Patient payment applied to charges"),
        BadDebtReinstated { ReceivedOn: { } received } => (received, "bad-debt-recovery", "Bad debt recovered"),
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
        InsuranceOverpaid => (recorded, "insurance-overpayment", "Insurance overpayment held for the payer"),
        InsuranceOverpaymentCleared e => (e.ClearedOn, "insurance-overpayment-cleared",
            e.How switch
            {
                "refund" => $"Insurance overpayment refunded to the payer, check {e.Reference}",
                "reversal" => "Insurance overpayment taken back with the payer's reversal",
                _ => $"Insurance overpayment recovered by the payer ({e.Reference})"
            }),
        ResponsibilityMoved => (recorded, "transfer", "Balance moved between payers"),
        ThirdPartyPaymentApplied e => (recorded, "third-party-payment", $"{ApiEnum.Name(e.Party)} payment applied"),
        ThirdPartyAdjusted e => (recorded, "third-party-adjustment", $"{ApiEnum.Name(e.Party)} adjustment"),
        PlacedWithCollectionAgency e => (e.PlacedOn, "collections", "Balance placed with a collection agency"),
        CollectionAgencyRecovered e => (e.ReceivedOn, "agency-recovery", "Collection agency remittance, net of its commission"),
        RecalledFromCollectionAgency => (recorded, "collections", "Balance recalled from a collection agency"),
        BadDebtReinstated => (recorded, "bad-debt-recovery", "Bad debt recovered"),
        _ => (recorded, "account", data.GetType().Name)
    };

    /// <summary>
    /// An 835's provider-level adjustments (ADR 0021): each moves undeposited funds by its amount (a positive amount is money
    /// the payer kept back) against interest income (L6), payer balances (FB carried and taken back, recoveries that found no
    /// credit, any other code); what a recovery cleared of a claim's insurance credit is the account's own entry.
    /// </summary>
    public static JournalEntry? ProviderAdjustments(Remittances.ProviderAdjustmentsPosted e)
    {
        var counters = new Dictionary<GlAccount, decimal>();
        var funds = 0m;
        foreach (var item in e.Items)
        {
            var kept = item.Treatment == Remittances.ProviderAdjustmentPosting.OverpaymentRecovery ? item.Amount - item.Applied : item.Amount;
            funds -= kept;
            var account = item.Treatment == Remittances.ProviderAdjustmentPosting.Interest ? GlAccount.InterestIncome : GlAccount.PayerBalances;
            counters[account] = counters.GetValueOrDefault(account) + kept;
        }

        var lines = counters.Where(c => c.Value != 0m).Select(c => c.Value > 0 ? new JournalLine(c.Key, c.Value, 0m) : new JournalLine(c.Key, 0m, -c.Value)).ToList();
        if (funds != 0m) lines.Add(funds > 0 ? new JournalLine(GlAccount.UndepositedFunds, funds, 0m) : new JournalLine(GlAccount.UndepositedFunds, 0m, -funds));
        return lines.Count == 0 ? null : new JournalEntry
        {
            Date = e.PaidOn, Source = "provider-adjustments", Description = $"Provider-level adjustments of {e.PayerName}'s payment", Lines = lines
        };
    }

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
            Remittances.ProviderAdjustmentsPosted e => ProviderAdjustments(e),
            DepositMatched e when e.Receipts.Sum(r => r.Amount) != 0 => Two(deposit?.DepositedOn ?? DateOnly.FromDateTime(e.MatchedAt.UtcDateTime), "deposit",
                $"Bank deposit {deposit?.Reference}".TrimEnd(), GlAccount.Cash, GlAccount.UndepositedFunds, e.Receipts.Sum(r => r.Amount)),
            _ => null
        };
    }
}
