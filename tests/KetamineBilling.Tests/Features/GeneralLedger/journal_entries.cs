using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;

namespace KetamineBilling.Tests.Features.GeneralLedger;

/// <summary>The journal entry of each account event, without a host: what the event changes in the account's balances.</summary>
public class journal_entries
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 15, 0, 0, TimeSpan.Zero);
    private static readonly Guid PatientId = Guid.NewGuid();
    private static readonly Guid S1 = Guid.NewGuid();
    private static readonly Guid Payment = Guid.NewGuid();

    /// <summary>The entry each event makes, in order, as (account, debit, credit) lines.</summary>
    private static List<List<(GlAccount, decimal, decimal)>> Entries(params object[] events)
    {
        PatientAccount? account = null;
        var entries = new List<List<(GlAccount, decimal, decimal)>>();
        foreach (var e in events)
        {
            var before = account is null ? new SortedDictionary<GlAccount, decimal>() : AccountBooks.Balances(account);
            account = PatientAccount.Advance(account, e);
            var entry = JournalProjection.Difference(before, AccountBooks.Balances(account));
            entries.Add(entry?.Lines.Select(l => (l.Account, l.Debit, l.Credit)).ToList() ?? []);
            if (entry is not null) Assert.Equal(entry.Debits, entry.Credits);
        }

        return entries;
    }

    [Fact]
    public void a_self_pay_session_with_its_cash_discount_a_payment_and_its_application_post_to_revenue_receivables_and_undeposited_funds()
    {
        var entries = Entries(
            new PatientRegistered(PatientId, "Gail", "Ledger", new DateOnly(1980, 1, 1), null, null, Now),
            new SessionDelivered(PatientId, S1, new DateOnly(2026, 5, 28), 60, "main",
                [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m), new ChargeLine(2, "J3490", "Ketamine", 1, 60m, 60m)], ["F33.2"], 510m, Now, "dr-a",
                [FundingSource.SelfPay]),
            new DiscountGranted(PatientId, Guid.NewGuid(), DiscountBasis.CashPrice, DiscountKind.Amount, 60m, null, "cash price", [new LineAmount(S1, 1, 50m), new LineAmount(S1, 2, 10m)],
                60m, Now),
            new PaymentReceived(PatientId, Payment, PaymentMethod.Card, 500m, new DateOnly(2026, 5, 28), null, Now),
            new PaymentApplied(PatientId, Payment, [new LineAmount(S1, 1, 400m), new LineAmount(S1, 2, 50m)], 450m, Now),
            new RefundIssued(PatientId, Guid.NewGuid(), 50m, PaymentMethod.Card, "overpaid", [new PaymentSource(Payment, 50m)], Now));

        Assert.Empty(entries[0]);
        Assert.Equal([(GlAccount.ArPatients, 510m, 0m), (GlAccount.RevenueInfusions, 0m, 450m), (GlAccount.RevenueDrugs, 0m, 60m)], entries[1]);
        Assert.Equal([(GlAccount.Discounts, 60m, 0m), (GlAccount.ArPatients, 0m, 60m)], entries[2]);
        // Money in before it pays anything is owed back: the patient's credit.
        Assert.Equal([(GlAccount.UndepositedFunds, 500m, 0m), (GlAccount.RefundsPayable, 0m, 500m)], entries[3]);
        Assert.Equal([(GlAccount.RefundsPayable, 450m, 0m), (GlAccount.ArPatients, 0m, 450m)], entries[4]);
        Assert.Equal([(GlAccount.RefundsPayable, 50m, 0m), (GlAccount.UndepositedFunds, 0m, 50m)], entries[5]);
    }

    [Fact]
    public void an_insurer_s_answer_an_agency_s_recovery_a_bad_debt_and_its_recovery_each_post_where_an_accountant_looks_for_them()
    {
        var claim = Guid.NewGuid();
        var payer = Guid.NewGuid();
        var placement = Guid.NewGuid();
        var writeOff = Guid.NewGuid();
        var entries = Entries(
            new PatientRegistered(PatientId, "Gail", "Ledger", new DateOnly(1980, 1, 1), null, null, Now),
            new SessionDelivered(PatientId, S1, new DateOnly(2026, 5, 1), 60, "main", [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m)], ["F33.2"], 450m, Now, "dr-a",
                [FundingSource.Insurance], ResponsibleParty: ResponsibleParty.Insurance),
            new InsurancePaymentPosted(PatientId, claim, payer, "eob:1", [new InsuranceLinePosting(S1, 1, 250m, 100m, 100m, 450m, false)], 250m, Now),
            new PlacedWithCollectionAgency(PatientId, placement, Guid.NewGuid(), "Agency", 30m, [new ResponsibilityMove(S1, 1, ResponsibleParty.Patient, ResponsibleParty.Collections, 100m)],
                100m, new DateOnly(2026, 9, 1), Now, "f"),
            new CollectionAgencyRecovered(PatientId, placement, Guid.NewGuid(), Guid.NewGuid(), 60m, 18m, 42m, new DateOnly(2026, 10, 1), null, [new LineAmount(S1, 1, 60m)], Now, "f"),
            new RecalledFromCollectionAgency(PatientId, placement, Guid.NewGuid(), [new ResponsibilityMove(S1, 1, ResponsibleParty.Collections, ResponsibleParty.Patient, 40m)], 40m, "returned", Now),
            new BalanceWrittenOff(PatientId, writeOff, WriteOffReason.BadDebt, null, [new LineAmount(S1, 1, 40m)], 40m, Now),
            new BadDebtReinstated(PatientId, Payment, [new LineAmount(S1, 1, 25m)], 25m, Now),
            new PaymentReceived(PatientId, Payment, PaymentMethod.Check, 25m, new DateOnly(2026, 12, 1), null, Now),
            new PaymentApplied(PatientId, Payment, [new LineAmount(S1, 1, 25m)], 25m, Now));

        Assert.Equal([(GlAccount.ArInsurance, 450m, 0m), (GlAccount.RevenueInfusions, 0m, 450m)], entries[1]);
        Assert.Equal([(GlAccount.UndepositedFunds, 250m, 0m), (GlAccount.ArPatients, 100m, 0m), (GlAccount.ContractualAdjustments, 100m, 0m), (GlAccount.ArInsurance, 0m, 450m)],
            entries[2]);
        Assert.Equal([(GlAccount.ArCollections, 100m, 0m), (GlAccount.ArPatients, 0m, 100m)], entries[3]);
        // The agency's net is the clinic's money; its commission an expense; the debt falls by all it collected.
        Assert.Equal([(GlAccount.UndepositedFunds, 42m, 0m), (GlAccount.CollectionAgencyFees, 18m, 0m), (GlAccount.ArCollections, 0m, 60m)], entries[4]);
        Assert.Equal([(GlAccount.ArPatients, 40m, 0m), (GlAccount.ArCollections, 0m, 40m)], entries[5]);
        Assert.Equal([(GlAccount.BadDebt, 40m, 0m), (GlAccount.ArPatients, 0m, 40m)], entries[6]);
        Assert.Equal([(GlAccount.ArPatients, 25m, 0m), (GlAccount.BadDebt, 0m, 25m)], entries[7]);
        Assert.Equal([(GlAccount.UndepositedFunds, 25m, 0m), (GlAccount.RefundsPayable, 0m, 25m)], entries[8]);
        Assert.Equal([(GlAccount.RefundsPayable, 25m, 0m), (GlAccount.ArPatients, 0m, 25m)], entries[9]);
    }

    [Fact]
    public void the_journal_exports_as_a_quickbooks_iif_transaction_per_entry_and_as_csv_with_the_chart_s_numbers()
    {
        var entry = new JournalEntry
        {
            Id = Guid.NewGuid(), Sequence = 42, Date = new DateOnly(2026, 5, 28), Source = "payment", Description = "Patient payment by card",
            Lines = [new JournalLine(GlAccount.UndepositedFunds, 500m, 0m), new JournalLine(GlAccount.RefundsPayable, 0m, 500m)]
        };

        Assert.Equal(
            "!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tAMOUNT\tDOCNUM\tMEMO\n!SPL\tSPLID\tTRNSTYPE\tDATE\tACCNT\tAMOUNT\tDOCNUM\tMEMO\n!ENDTRNS\n"
            + "TRNS\t\tGENERAL JOURNAL\t05/28/2026\tUndeposited funds\t500.00\tKB-42\tPatient payment by card\n"
            + "SPL\t\tGENERAL JOURNAL\t05/28/2026\tPatient credits and refunds payable\t-500.00\tKB-42\tPatient payment by card\nENDTRNS\n",
            JournalQueries.Iif([entry]));
        Assert.Equal(
            "JournalNo,JournalDate,AccountNumber,AccountName,Debits,Credits,Description,Source\n"
            + "KB-42,2026-05-28,1010,Undeposited funds,500.00,,Patient payment by card,payment\n"
            + "KB-42,2026-05-28,2100,Patient credits and refunds payable,,500.00,Patient payment by card,payment\n",
            JournalQueries.Csv([entry]));
    }
}
