using Alba;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.GeneralLedger;

/// <summary>
/// The journal and the trial balance through the API: a month of a small practice posts balanced entries, dated by their facts,
/// a deposit moves its receipts to cash, and a trial balance of any days (whole months or cut) is the entries' sums.
/// </summary>
public class the_general_ledger(AppFixture fixture) : IntegrationContext(fixture)
{
    private static DateOnly Today => Scenarios.ClinicToday;

    [Fact]
    public async Task a_session_its_payment_and_their_deposit_post_balanced_entries_dated_by_their_facts_and_the_trial_balance_sums_them_for_any_days()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Lena", "Journal");
        var served = Today.AddDays(-40);
        await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: served));
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "cash", 300m, Today.AddDays(-2), "R-1"));
        await Fixture.Post<BalanceWrittenOff>($"/api/patients/{patient}/write-offs", new WriteOffBalance(Guid.NewGuid(), "small-balance", null, 5m, null));
        await Fixture.CaughtUp();
        var deposit = Guid.NewGuid();
        await Fixture.Post<DepositView>("/api/deposits", new RecordDeposit(deposit, 300m, Today.AddDays(-1), "BRANCH 7"));
        await Fixture.CaughtUp();

        var from = served.AddDays(-5);
        var journal = await Fixture.Get<JournalPeriod>($"/api/books/journal?from={from:yyyy-MM-dd}&to={Today:yyyy-MM-dd}", As.Finance);
        Assert.Equal((journal.Debits, 450m + 300m + 300m + 5m + 300m), (journal.Credits, journal.Debits));
        var charge = journal.Items.Single(e => e.Source == "charge");
        Assert.Equal((served, "1100", 450m), (charge.Date, charge.Lines[0].Number, charge.Lines[0].Debit));
        Assert.Equal(("4000", 450m), (charge.Lines[1].Number, charge.Lines[1].Credit));
        Assert.Equal(Today.AddDays(-2), journal.Items.Single(e => e.Source == "payment").Date);
        var banked = journal.Items.Single(e => e.Source == "deposit");
        Assert.Equal((Today.AddDays(-1), "Bank deposit BRANCH 7"), (banked.Date, banked.Description));
        Assert.Equal([("1000", 300m, 0m), ("1010", 0m, 300m)], banked.Lines.Select(l => (l.Number, l.Debit, l.Credit)));
        Assert.DoesNotContain(journal.Items, e => e.Description.Contains("Lena", StringComparison.Ordinal) || e.Description.Contains("Journal", StringComparison.Ordinal));

        // Any days: the trial balance is the sums of the entries before (opening) and within (movement) them.
        var entries = journal.Items;
        foreach (var (start, end) in new[] { (from, Today), (served, served), (served.AddDays(1), Today.AddDays(-2)), (new DateOnly(Today.Year, Today.Month, 1), Today),
                     (Today.AddDays(-1), Today.AddDays(3)) })
        {
            var trial = await Fixture.Get<TrialBalance>($"/api/books/trial-balance?from={start:yyyy-MM-dd}&to={end:yyyy-MM-dd}", As.Finance);
            foreach (var account in ChartOfAccounts.Default)
            {
                var lines = entries.SelectMany(e => e.Lines.Select(l => (e.Date, l))).Where(x => x.l.Account == account.Account).ToList();
                var opening = lines.Where(x => x.Date < start).Sum(x => x.l.Debit - x.l.Credit);
                var during = lines.Where(x => x.Date >= start && x.Date <= end).ToList();
                var row = trial.Rows.SingleOrDefault(r => r.Account == account.Account);
                Assert.Equal((opening, during.Sum(x => x.l.Debit), during.Sum(x => x.l.Credit)), row is null ? (0m, 0m, 0m) : (row.Opening, row.Debits, row.Credits));
            }

            Assert.Equal(trial.Debits, trial.Credits);
        }

        var receivables = (await Fixture.Get<TrialBalance>($"/api/books/trial-balance?from={from:yyyy-MM-dd}&to={Today:yyyy-MM-dd}", As.Finance))
            .Rows.Single(r => r.Account == GlAccount.ArPatients).Closing;
        Assert.Equal((await Fixture.Get<ArAgingReport>("/api/analytics/aging", As.Finance)).Total.Total, receivables);
        Assert.Equal(145m, receivables);

        var refused = await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url($"/api/books/journal?from={Today:yyyy-MM-dd}&to={Today.AddDays(-1):yyyy-MM-dd}");
            s.StatusCodeShouldBe(400);
        });
        Assert.Contains("must not be before from", await refused.ReadAsTextAsync());
    }

    private async Task<string> Put(string url, object body, int status, string user = As.Finance)
    {
        var result = await Fixture.Call(user, s =>
        {
            s.Put.Json(body, JsonStyle.MinimalApi).ToUrl(url);
            s.StatusCodeShouldBe(status);
        });
        return await result.ReadAsTextAsync();
    }

    [Fact]
    public async Task a_clinic_names_its_accounts_as_its_accounting_package_does_and_every_view_and_export_uses_them()
    {
        Assert.Contains("\"number\":\"12000\"", await Put("/api/books/accounts/ar-patients", new SetChartAccount(" 12000 ", "Patient Receivables"), 200));
        await Put("/api/books/accounts/ar-patients", new SetChartAccount("12000", "Patient Receivables"), 200);
        Assert.Contains("Cash in bank", await Put("/api/books/accounts/ar-patients", new SetChartAccount("1000", "Patient Receivables"), 422));
        Assert.Contains("account 1010 already", await Put("/api/books/accounts/ar-insurance", new SetChartAccount("11100", "undeposited funds"), 422));
        Assert.Contains("no account 'ar-nobody'", await Put("/api/books/accounts/ar-nobody", new SetChartAccount("9", "Nobody"), 404));
        var refused = await Put("/api/books/accounts/cash", new SetChartAccount("10 00", "Operating\taccount"), 400);
        Assert.Contains("number", refused);
        Assert.Contains("line break", refused);
        await Put("/api/books/accounts/cash", new SetChartAccount("10000", "First Prairie Bank operating"), 403, As.Admin);

        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Chart", "Ofaccounts");
        await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: Today.AddDays(-3)));
        await Fixture.CaughtUp();
        var period = $"from={Today.AddDays(-10):yyyy-MM-dd}&to={Today:yyyy-MM-dd}";
        var charge = (await Fixture.Get<JournalPeriod>($"/api/books/journal?{period}", As.Finance)).Items.Single(e => e.Source == "charge");
        Assert.Equal(("12000", "Patient Receivables", 450m), (charge.Lines[0].Number, charge.Lines[0].Name, charge.Lines[0].Debit));
        var csv = await (await Fixture.Call(As.Finance, s => s.Get.Url($"/api/books/journal?{period}&format=csv"))).ReadAsTextAsync();
        Assert.Contains(",12000,Patient Receivables,450.00,,", csv);
        var iif = await (await Fixture.Call(As.Finance, s => s.Get.Url($"/api/books/journal?{period}&format=iif"))).ReadAsTextAsync();
        Assert.Contains("\tPatient Receivables\t450.00\t", iif);
        var trial = await Fixture.Get<TrialBalance>($"/api/books/trial-balance?{period}", As.Finance);
        Assert.Equal(("12000", "Patient Receivables"), trial.Rows.Where(r => r.Account == GlAccount.ArPatients).Select(r => (r.Number, r.Name)).Single());
        var accounts = await Fixture.Get<List<ChartAccount>>("/api/books/accounts", As.Finance);
        Assert.Equal(ChartOfAccounts.Default.Count, accounts.Count);
        Assert.Equal("12000", accounts.Single(a => a.Account == GlAccount.ArPatients).Number);

        // Another clinic's chart is its own.
        using (Fixture.ActingFor(AppFixture.OtherClinic))
            Assert.Equal("1100", (await Fixture.Get<List<ChartAccount>>("/api/books/accounts", As.Finance)).Single(a => a.Account == GlAccount.ArPatients).Number);
    }
}
