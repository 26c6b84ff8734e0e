using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;

namespace KetamineBilling.Features.GeneralLedger;

/// <summary>
/// A party's receivable moving: charges (less voids), payments (money that paid its lines: cash, credit applied, the agency's
/// gross), adjustments (contractual, discounts, write-offs, bad debt) and transfers (what moved to or from another party: a claim,
/// a denial's patient share, a placement). Opening + charges - payments - adjustments + transfers = closing.
/// </summary>
public sealed record ArMovement(decimal Charges, decimal Payments, decimal Adjustments, decimal Transfers)
{
    public static readonly ArMovement None = new(0m, 0m, 0m, 0m);

    public ArMovement Plus(ArMovement other) =>
        new(Charges + other.Charges, Payments + other.Payments, Adjustments + other.Adjustments, Transfers + other.Transfers);

    /// <summary>What the movement adds to the receivable.</summary>
    public decimal Net => Charges - Payments - Adjustments + Transfers;
}

/// <summary>
/// How one account event moves each party's receivable (<see cref="GlAccount.ArPatients"/> and the others). The entry's money
/// (cash, undeposited funds, credits, third-party receipts, agency fees) and adjustments (contra-income and bad debt) are the
/// acting party's payments and adjustments (the patient's, the insurer's on a remittance, the third party's on its payment,
/// the agency's on its remittance); what else moved between receivables is a transfer. A charge or a void is a charge (negative
/// for a void). The transfers of one event sum to zero across parties (no revenue moves outside a charge or a void).
/// </summary>
public static class ReceivableMovement
{
    private static readonly GlAccount[] Money =
    [
        GlAccount.Cash, GlAccount.UndepositedFunds, GlAccount.RefundsPayable, GlAccount.ThirdPartyUnapplied, GlAccount.CollectionAgencyFees, GlAccount.ProcessorFees,
        GlAccount.InsuranceOverpaymentsPayable
    ];

    private static readonly GlAccount[] Adjustments =
    [
        GlAccount.ContractualAdjustments, GlAccount.Discounts, GlAccount.CharityCare, GlAccount.SmallBalanceWriteOffs, GlAccount.ThirdPartyAdjustments,
        GlAccount.BadDebt
    ];

    public static ResponsibleParty ActingParty(object data) => data switch
    {
        InsurancePaymentPosted or InsurancePaymentReversed or InsuranceOverpaid or InsuranceOverpaymentCleared => ResponsibleParty.Insurance,
        ThirdPartyPaymentApplied e => e.Party,
        ThirdPartyAdjusted e => e.Party,
        CollectionAgencyRecovered => ResponsibleParty.Collections,
        _ => ResponsibleParty.Patient
    };

    public static bool IsCharge(object data) => data is SessionDelivered or NoShowFeeCharged or SessionVoided;

    public static IReadOnlyDictionary<ResponsibleParty, ArMovement> Of(
        object data, IReadOnlyDictionary<GlAccount, decimal> before, IReadOnlyDictionary<GlAccount, decimal> after)
    {
        decimal Change(GlAccount gl) => after.GetValueOrDefault(gl) - before.GetValueOrDefault(gl);
        var (money, adjusted) = (Money.Sum(Change), Adjustments.Sum(Change));
        var acting = ActingParty(data);
        var charge = IsCharge(data);
        var result = new Dictionary<ResponsibleParty, ArMovement>();
        foreach (var party in Enum.GetValues<ResponsibleParty>())
        {
            var change = Change(ChartOfAccounts.ReceivableOf(party));
            var movement = party != acting
                ? charge ? new ArMovement(change, 0m, 0m, 0m) : new ArMovement(0m, 0m, 0m, change)
                : charge ? new ArMovement(change + money + adjusted, money, adjusted, 0m) : new ArMovement(0m, money, adjusted, change + money + adjusted);
            if (movement != ArMovement.None) result[party] = movement;
        }

        return result;
    }
}

/// <summary>One party's line of a close report's A/R roll-forward.</summary>
public sealed record RollForwardRow(
    ResponsibleParty Party, decimal Opening, decimal Charges, decimal Payments, decimal Adjustments, decimal Transfers, decimal Closing);

/// <summary>
/// What a month's close kept: the A/R roll-forward by party (opening + charges - payments - adjustments + transfers = closing),
/// the month's trial balance, and how many entries posted in it (and how many of them were moved from an earlier closed month).
/// Made by the journal when it reaches the <see cref="MonthClosed"/> event, so it counts exactly what was posted before the close;
/// a later close of the same month (after a reopening) keeps a report of its own.
/// </summary>
public sealed class CloseReport
{
    /// <summary>The <see cref="MonthClosed"/> event's id.</summary>
    public Guid Id { get; set; }

    public DateOnly Month { get; set; }
    public long Sequence { get; set; }
    public DateTimeOffset ClosedAt { get; set; }
    public ClosedPeriodRule Rule { get; set; }
    public List<RollForwardRow> Receivables { get; set; } = [];
    public RollForwardRow? Total { get; set; }
    public List<TrialBalanceRow> TrialBalance { get; set; } = [];
    public int Entries { get; set; }
    public int PriorPeriodEntries { get; set; }

    /// <summary>Set when the month was opened again after this close.</summary>
    public DateTimeOffset? ReopenedAt { get; set; }

    public string? ReopenReason { get; set; }

    /// <summary>The report from the month tallies of every month up to the closed one (the month's own and those before it).</summary>
    public static CloseReport Build(DateOnly month, IEnumerable<JournalMonth> months)
    {
        var before = months.Where(m => m.Month < month).ToList();
        var current = months.FirstOrDefault(m => m.Month == month) ?? new JournalMonth { Id = JournalMonth.IdOf(month), Month = month };
        var rows = Enum.GetValues<ResponsibleParty>().Select(party =>
        {
            var key = party.ToString();
            var opening = before.Sum(m => m.Receivables.GetValueOrDefault(key)?.Net ?? 0m);
            var moved = current.Receivables.GetValueOrDefault(key) ?? ArMovement.None;
            return new RollForwardRow(party, opening, moved.Charges, moved.Payments, moved.Adjustments, moved.Transfers, opening + moved.Net);
        }).Where(r => r is not { Opening: 0m, Charges: 0m, Payments: 0m, Adjustments: 0m, Transfers: 0m }).ToList();
        var total = new RollForwardRow(ResponsibleParty.Patient, rows.Sum(r => r.Opening), rows.Sum(r => r.Charges), rows.Sum(r => r.Payments),
            rows.Sum(r => r.Adjustments), rows.Sum(r => r.Transfers), rows.Sum(r => r.Closing));

        var trial = ChartOfAccounts.Default.Select(a =>
        {
            var key = a.Account.ToString();
            var opening = before.Sum(m => m.Debits.GetValueOrDefault(key) - m.Credits.GetValueOrDefault(key));
            var (debits, credits) = (current.Debits.GetValueOrDefault(key), current.Credits.GetValueOrDefault(key));
            return new TrialBalanceRow(a.Account, a.Number, a.Name, a.Type, opening, debits, credits, opening + debits - credits);
        }).Where(r => r is not { Opening: 0m, Debits: 0m, Credits: 0m }).ToList();

        return new CloseReport
        {
            Month = month, Receivables = rows, Total = total, TrialBalance = trial, Entries = current.Entries, PriorPeriodEntries = current.PriorPeriodEntries
        };
    }
}

/// <summary>The journal's copy of the books' closed months, in the order of the store (what it moves postings out of).</summary>
public sealed class JournalBooks
{
    public Guid Id { get; set; }
    public List<DateOnly> Closed { get; set; } = [];
    public DateOnly? LockedThrough => Closed.Count == 0 ? null : Closed[^1].AddMonths(1).AddDays(-1);
}
