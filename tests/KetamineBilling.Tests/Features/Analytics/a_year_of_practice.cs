using System.Globalization;
using Alba;
using CsvHelper;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Tests.Features.Analytics;

/// <summary>
/// The demo practice's year (three payers, twelve months, several hundred infusions), seeded as the demo seeds it.
/// Every expected figure is computed here from the plan's plain facts (who came when, what each payer answered,
/// what patients paid), never from the documents the reports read.
/// </summary>
public class a_year_of_practice(AppFixture fixture) : IntegrationContext(fixture)
{
    private PracticePlan _plan = null!;
    private DateOnly _today;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var calendar = Host.Services.GetRequiredService<ClinicCalendar>();
        _today = calendar.Today();
        _plan = PracticePlan.For(_today, DemoSeeder.PracticeSeed);
        await new DemoSeeder(Store, Global, Host.Services.GetRequiredService<KetamineBilling.Infrastructure.Clinics>(), Host.Services.GetRequiredService<UserAccounts>(), calendar, TimeProvider.System, new ConfigurationBuilder().Build(),
            NullLogger<DemoSeeder>.Instance).SeedAsync(AppFixture.Clinic, stories: false, practice: true, TestContext.Current.CancellationToken);
        // Payer trends are kept by an asynchronous projection: read them once it has caught up with the seeded year.
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(60));
    }

    private static string Month(DateOnly d) => d.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private static decimal? Ratio(decimal part, decimal whole) => whole == 0 ? null : Math.Round(part / whole, 4, MidpointRounding.ToEven);

    private static decimal Charge => PracticePlan.Infusion + PracticePlan.Drug;

    private string LastFullMonth => Month(_plan.FirstMonth.AddMonths(11));

    /// <summary>What each party still has open on a visit today, by the posting rules: a denial stays with insurance.</summary>
    private static (decimal Insurance, decimal Patient) Open(PracticeVisit v) => v.PayerId is null
        ? (0m, PracticePlan.InfusionCash + PracticePlan.DrugCash - v.PatientPaid)
        : v.Answer.Count == 0 || v.Denied ? (Charge, 0m) : (0m, v.Answer.Sum(l => l.PatientShare) - v.PatientPaid);

    [Fact]
    public async Task payer_trends_for_twelve_months_are_the_claims_as_the_payers_answered_them()
    {
        Assert.Equal(3, _plan.Visits.Where(v => v.PayerId is not null).Select(v => v.PayerId).Distinct().Count());
        Assert.True(_plan.Visits.Count >= 300, $"only {_plan.Visits.Count} sessions");
        var from = Month(_plan.FirstMonth);

        var report = await Fixture.Get<PayerPerformanceReport>($"/api/analytics/payers?from={from}&to={LastFullMonth}", As.Finance);

        Assert.Equal(36, report.ByMonth.Count);
        Assert.Equal(["Blue Prairie Health", "Cedar Valley Health Plan", "Northwind Medicare Advantage"], report.ByMonth.Select(r => r.Payer).Distinct());
        foreach (var row in report.ByMonth)
        {
            var claims = _plan.Visits.Where(v => v.PayerId == row.PayerId && v.FiledOn is { } f && Month(f) == row.Month).ToList();
            Assert.True(claims.Count > 0, $"{row.Payer} has no claims in {row.Month}");
            var answered = claims.Where(v => v.AnsweredOn is not null).ToList();
            var denied = answered.Where(v => v.Denied).ToList();
            var paidClaims = answered.Where(v => !v.Denied).ToList();
            var lines = answered.SelectMany(v => v.Answer).ToList();
            var f = row.Figures;
            var billed = Charge * claims.Count;
            var paid = lines.Sum(l => l.Paid);
            Assert.Equal(claims.Count, f["claimsFiled"]);
            Assert.Equal(2 * claims.Count, f["lines"]);
            Assert.Equal(billed, f["billed"]);
            Assert.Equal(lines.Sum(l => l.Allowed), f["allowed"]);
            Assert.Equal(paid, f["paid"]);
            Assert.Equal(lines.Sum(l => l.PatientShare), f["patientResponsibility"]);
            Assert.Equal(lines.Sum(l => l.Contractual), f["contractualAdjustments"]);
            Assert.Equal(Ratio(paid, billed), f["reimbursementRate"]);
            Assert.Equal(answered.Count == 0 ? null : Math.Round(paid / answered.Count, 2, MidpointRounding.ToEven), f["averagePaidPerInfusion"]);
            Assert.Equal(2 * denied.Count, f["deniedLines"]);
            Assert.Equal(Ratio(denied.Count, answered.Count), f["denialRateByCount"]);
            Assert.Equal(Ratio(denied.Count * Charge, answered.Count * Charge), f["denialRateByDollars"]);
            var days = paidClaims.Select(v => v.AnsweredOn!.Value.DayNumber - v.FiledOn!.Value.DayNumber).Order().ToList();
            Assert.Equal(days.Count == 0 ? null : days.Count % 2 == 1 ? days[days.Count / 2] : (days[days.Count / 2 - 1] + days[days.Count / 2]) / 2m, f["daysToPayMedian"]);
            Assert.Equal(days.Count == 0 ? null : days[(int)Math.Ceiling(days.Count * 0.9) - 1], f["daysToPayP90"]);
            var reasons = denied.GroupBy(v => v.Answer[0].DenialReason!).Select(g => (Carc: g.Key, Lines: 2 * g.Count()))
                .OrderByDescending(x => x.Lines).ThenBy(x => x.Carc, StringComparer.Ordinal).Take(3);
            Assert.Equal(reasons, row.TopDenialReasons.Select(r => (r.Carc, r.Lines)));
        }

        // The stories the year tells: Cedar Valley's infusion rate falls with its new contract in month seven, and
        // Northwind's denials for missing authorization (CARC 197) rise from month nine.
        decimal? Allowed(Guid payer, string month, string code) =>
            report.ByCode.Single(r => r.PayerId == payer && r.Month == month && r.Code == code).Figures["allowed"];
        Assert.True(report.ByCode.Where(r => r.PayerId == DemoIds.CedarValley && r.Code == "96365").All(r => r.Figures["allowed"] is not null));
        var cedarEarly = _plan.Visits.Where(v => v.PayerId == DemoIds.CedarValley && v.AnsweredOn is not null && !v.Denied && Month(v.FiledOn!.Value) == Month(_plan.FirstMonth.AddMonths(2))).ToList();
        Assert.Equal(cedarEarly.Count * 295.00m, Allowed(DemoIds.CedarValley, Month(_plan.FirstMonth.AddMonths(2)), "96365"));
        var northwindLate = report.ByMonth.Where(r => r.PayerId == DemoIds.Northwind && string.CompareOrdinal(r.Month, Month(_plan.FirstMonth.AddMonths(9))) >= 0).ToList();
        Assert.Contains(northwindLate, r => r.TopDenialReasons.FirstOrDefault()?.Carc == "197");

        // Trends: each month's change is that month less the one before.
        foreach (var series in report.ByMonth.GroupBy(r => r.PayerId))
        {
            var months = series.ToList();
            for (var i = 1; i < months.Count; i++) Assert.Equal(months[i].Figures["paid"] - months[i - 1].Figures["paid"], months[i].Change["paid"]);
        }
    }

    [Fact]
    public async Task aging_today_is_what_each_party_still_owes_by_date_of_service()
    {
        var report = await Fixture.Get<ArAgingReport>("/api/analytics/aging", As.Finance);

        var expected = new Dictionary<string, decimal[]>();
        void Add(string row, DateOnly served, decimal amount)
        {
            if (amount == 0) return;
            var days = _today.DayNumber - served.DayNumber;
            var bucket = days <= 30 ? 0 : days <= 60 ? 1 : days <= 90 ? 2 : days <= 120 ? 3 : 4;
            if (!expected.TryGetValue(row, out var buckets)) expected[row] = buckets = new decimal[5];
            buckets[bucket] += amount;
        }

        foreach (var v in _plan.Visits)
        {
            var (insurance, patient) = Open(v);
            Add(v.PayerId?.ToString() ?? "", v.DeliveredOn, insurance);
            Add("patients", v.DeliveredOn, patient);
        }

        Assert.Equal(4, report.Rows.Count);
        foreach (var row in report.Rows)
        {
            var key = row.Party == ResponsibleParty.Patient ? "patients" : row.PartyId!.Value.ToString();
            Assert.Equal(expected[key], new[] { row.Days0To30, row.Days31To60, row.Days61To90, row.Days91To120, row.Over120 });
            Assert.Equal(expected[key].Sum(), row.Total);
        }

        Assert.Equal(expected.Values.Sum(b => b.Sum()), report.Total.Total);
        Assert.True(report.Total.Over120 > 0, "a year of denials left unworked should age past 120 days");
        Assert.Empty(report.CreditBalances);
    }

    [Fact]
    public async Task kpis_for_the_twelve_months_follow_their_definitions()
    {
        var start = _plan.FirstMonth;
        var end = _plan.FirstMonth.AddMonths(12).AddDays(-1);
        bool In(DateOnly? d) => d is { } day && day >= start && day <= end;

        var kpis = await Fixture.Get<KpiReport>($"/api/analytics/kpis?from={Month(start)}&to={LastFullMonth}", As.Finance);

        var delivered = _plan.Visits.Where(v => In(v.DeliveredOn)).ToList();
        var gross = Charge * delivered.Count;
        var insurancePaid = _plan.Visits.Where(v => In(v.AnsweredOn)).Sum(v => v.Answer.Sum(l => l.Paid));
        var patientPaid = _plan.Visits.Where(v => In(v.PatientPaidOn)).Sum(v => v.PatientPaid);
        var contractual = _plan.Visits.Where(v => In(v.AnsweredOn)).Sum(v => v.Answer.Sum(l => l.Contractual));
        var receivables = _plan.Visits.Sum(v => Open(v).Insurance + Open(v).Patient);
        var filed = _plan.Visits.Where(v => In(v.FiledOn)).ToList();
        var answered = filed.Where(v => v.AnsweredOn is not null).ToList();
        var days = end.DayNumber - start.DayNumber + 1;

        Assert.Equal((gross, insurancePaid + patientPaid, contractual, receivables), (kpis.GrossCharges, kpis.Collections, kpis.ContractualAdjustments, kpis.CurrentReceivables));
        Assert.Equal(Math.Round(receivables / (gross / days), 1, MidpointRounding.ToEven), kpis.DaysInAr);
        Assert.Equal(Ratio(insurancePaid + patientPaid, gross), kpis.GrossCollectionRate);
        Assert.Equal(Ratio(insurancePaid + patientPaid, gross - contractual), kpis.NetCollectionRate);
        Assert.Equal(Ratio(2 * answered.Count(v => v.Denied), 2 * answered.Count), kpis.DenialRate);
        Assert.Equal(1.0m, kpis.CleanClaimRate);
        Assert.Equal(Ratio(answered.Count(v => !v.Denied), answered.Count), kpis.FirstPassResolutionRate);
        Assert.Equal((filed.Count, answered.Count), (kpis.ClaimsFiled, kpis.ClaimsAnswered));

        // Payer mix: charges by who each session was billed to; collections by who paid.
        foreach (var payer in PracticePlan.Payers)
        {
            var charged = delivered.Count(v => v.PayerId == payer.Id && v.FiledOn is not null) * Charge;
            Assert.Equal(charged, kpis.PayerMixByCharges.Single(m => m.PayerId == payer.Id).Amount);
            var collected = _plan.Visits.Where(v => v.PayerId == payer.Id && In(v.AnsweredOn)).Sum(v => v.Answer.Sum(l => l.Paid));
            Assert.Equal(collected, kpis.PayerMixByCollections.Single(m => m.PayerId == payer.Id).Amount);
        }

        Assert.Equal(delivered.Count(v => v.PayerId is null) * Charge, kpis.PayerMixByCharges.Single(m => m.Source == "self-pay").Amount);
        Assert.Equal(patientPaid, kpis.PayerMixByCollections.Single(m => m.Source == "self-pay").Amount);
    }

    [Fact]
    public async Task the_worklist_holds_exactly_the_year_s_loose_ends()
    {
        var summary = (await Fixture.GetCaughtUp<IReadOnlyList<ExceptionSummary>>("/api/reconciliation/exceptions/summary")).ToDictionary(s => s.Type);

        var unbilled = _plan.Visits.Where(v => v.PayerId is not null && v.FiledOn is null && _today.DayNumber - v.DeliveredOn.DayNumber > 7).ToList();
        var unanswered = _plan.Visits.Where(v => v.FiledOn is { } f && v.AnsweredOn is null && f < _today.AddDays(-30)).ToList();
        var denied = _plan.Visits.Where(v => v.Denied).ToList();
        // Receipts the bank has not reported yet: deposited the next weekday, on the statement two days later.
        DateOnly Deposited(DateOnly received)
        {
            var day = received.AddDays(1);
            while (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday) day = day.AddDays(1);
            return day;
        }

        var receipts = _plan.Visits.Where(v => v.PatientPaidOn is not null).GroupBy(v => (Day: v.PatientPaidOn!.Value, Card: v.PaymentMethod == "card"))
            .Select(g => (g.Key.Day, g.Key.Card, Amount: g.Sum(v => v.PatientPaid)))
            .Concat(_plan.Visits.Where(v => v.AnsweredOn is not null).GroupBy(v => (Day: v.AnsweredOn!.Value, v.PayerId))
                .Select(g => (g.Key.Day, Card: true, Amount: g.Sum(v => v.Answer.Sum(l => l.Paid)))).Where(r => r.Amount > 0))
            .ToList();
        // The last cash-and-check batch of ten or more days ago never reached the bank.
        var lost = receipts.Where(r => !r.Card && r.Day <= _today.AddDays(-10)).MaxBy(r => r.Day);
        var undeposited = receipts.Where(r => (r == lost || Deposited(r.Day) > _today.AddDays(-2)) && _today.DayNumber - r.Day.DayNumber > 5).ToList();
        Assert.Contains(lost, undeposited);

        Assert.Equal((unbilled.Count, unbilled.Count * Charge), (summary["unbilled-session"].Count, summary["unbilled-session"].Amount));
        Assert.Equal((unanswered.Count, unanswered.Count * Charge), (summary["claim-no-response"].Count, summary["claim-no-response"].Amount));
        Assert.Equal((2 * denied.Count, denied.Count * Charge), (summary["denied-line"].Count, summary["denied-line"].Amount));
        Assert.Equal((1, DemoDeposits.UnidentifiedAmount), (summary["unmatched-deposit"].Count, summary["unmatched-deposit"].Amount));
        Assert.Equal((undeposited.Count, undeposited.Sum(r => r.Amount)),
            summary.TryGetValue("undeposited-receipt", out var u) ? (u.Count, u.Amount) : (0, 0m));
        Assert.True(unbilled.Count > 0 && unanswered.Count > 0 && denied.Count > 0, "the year should leave some of each");
        // The practice's patients who never finished intake have no address on file: each with money still owed by a payer is one item.
        var owedByPayer = _plan.Visits.Where(v => Open(v).Insurance > 0 && DemoAddresses.IntakeUnfinished(v.Patient)).GroupBy(v => v.Patient).ToList();
        Assert.True(owedByPayer.Count > 0 && owedByPayer.Count < _plan.Patients.Count / 10, $"{owedByPayer.Count} patients without an address owe payer money");
        Assert.Equal((owedByPayer.Count, owedByPayer.Sum(g => g.Sum(v => Open(v).Insurance))), (summary["missing-address"].Count, summary["missing-address"].Amount));
        Assert.Equal(["claim-no-response", "denied-line", "missing-address", "unbilled-session", "undeposited-receipt", "unmatched-deposit"],
            summary.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task the_csvs_read_back_as_proper_spreadsheets_with_the_json_figures()
    {
        async Task<List<string[]>> Csv(string url, string user = As.Finance)
        {
            var result = await Fixture.Call(user, s =>
            {
                s.Get.Url(url);
                s.StatusCodeShouldBeOk();
                s.ContentTypeShouldBe("text/csv");
            });
            var body = await result.ReadAsTextAsync();
            result.Context.Response.Body.Position = 0;
            var bytes = new byte[3];
            await result.Context.Response.Body.ReadExactlyAsync(bytes, TestContext.Current.CancellationToken);
            Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, bytes); // the UTF-8 mark that makes Excel read it as UTF-8
            // Read as a spreadsheet would: RFC 4180 quoting, every malformed field an error.
            using var reader = CsvReader.FromText(body.TrimStart('\uFEFF'), new CsvReaderOptions
            {
                HasHeader = false, Separator = ',', MalformedData = CsvMalformedDataHandling.Throw, SkipEmptyLines = true
            });
            var rows = new List<string[]>();
            while (await reader.ReadAsync(TestContext.Current.CancellationToken)) rows.Add(reader.Current.ToArray());
            return rows;
        }

        var from = Month(_plan.FirstMonth);
        var payers = await Csv($"/api/analytics/payers?from={from}&to={LastFullMonth}&format=csv");
        var json = await Fixture.Get<PayerPerformanceReport>($"/api/analytics/payers?from={from}&to={LastFullMonth}", As.Finance);
        Assert.Equal(1 + json.ByMonth.Count + json.ByCode.Count, payers.Count);
        Assert.All(payers, r => Assert.Equal(payers[0].Length, r.Length));
        var paidColumn = Array.IndexOf(payers[0], "paid");
        Assert.Equal(json.ByMonth.Sum(r => r.Figures["paid"]), payers.Skip(1).Where(r => r[0] == "by-month").Sum(r => decimal.Parse(r[paidColumn], CultureInfo.InvariantCulture)));

        var aging = await Csv("/api/analytics/aging?format=csv");
        var agingJson = await Fixture.Get<ArAgingReport>("/api/analytics/aging", As.Finance);
        var total = aging.Single(r => r[1] == "total");
        Assert.Equal(agingJson.Total.Total, decimal.Parse(total[9], CultureInfo.InvariantCulture));

        // The worklist names patients: BillingAdmin's (issue 13, minimum necessary).
        var exceptions = await Csv("/api/reconciliation/exceptions?format=csv", As.Billing);
        var page = await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions");
        Assert.Equal(1 + page.Total, exceptions.Count);
        Assert.All(exceptions, r => Assert.Equal(exceptions[0].Length, r.Length));
    }

    [Fact]
    public async Task rebuilding_every_projection_from_the_year_s_events_gives_the_same_documents()
    {
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(60));
        var before = await ProjectionSnapshot.DocumentsAsync(Store);
        Assert.True(before.Count(k => k.Key.StartsWith("Claim:", StringComparison.Ordinal)) > 200);

        await ProjectionSnapshot.RebuildAllAsync(Host, Store);

        var after = await ProjectionSnapshot.DocumentsAsync(Store);
        var differences = before.Keys.Union(after.Keys).Where(k => before.GetValueOrDefault(k) != after.GetValueOrDefault(k)).ToList();
        Assert.True(differences.Count == 0, string.Join("\n", differences.Take(3).Select(k => $"{k}\n  live:    {before.GetValueOrDefault(k)}\n  rebuilt: {after.GetValueOrDefault(k)}")));
    }

    /// <summary>What each party had open on a visit at the end of <paramref name="day"/>, from the plan's dated facts alone.</summary>
    private static (decimal Insurance, decimal Patient) OpenOn(PracticeVisit v, DateOnly day)
    {
        if (v.DeliveredOn > day) return (0m, 0m);
        var paid = v.PatientPaidOn is { } on && on <= day ? v.PatientPaid : 0m;
        if (v.PayerId is null) return (0m, PracticePlan.InfusionCash + PracticePlan.DrugCash - paid);
        return v.AnsweredOn is not { } answered || answered > day || v.Denied ? (Charge, 0m) : (0m, v.Answer.Sum(l => l.PatientShare) - paid);
    }

    [Fact]
    public async Task closing_every_month_of_the_year_keeps_roll_forwards_that_tie_to_the_aging_of_each_month_s_last_day()
    {
        // Finance closes the year month by month, then reads each close's report.
        var last = new DateOnly(_today.Year, _today.Month, 1).AddMonths(-1);
        var first = new DateOnly(_plan.FirstMonth.Year, _plan.FirstMonth.Month, 1);
        for (var month = first; month <= last; month = month.AddMonths(1))
            await Fixture.Post<KetamineBilling.Features.GeneralLedger.BooksView>("/api/books/closes", new KetamineBilling.Features.GeneralLedger.CloseMonth(Month(month)), 200, As.Finance);
        await Fixture.CaughtUp();

        var closing = new Dictionary<ResponsibleParty, decimal>();
        var months = 0;
        for (var month = first; month <= last; month = month.AddMonths(1), months++)
        {
            var report = await Fixture.Get<KetamineBilling.Features.GeneralLedger.CloseReport>($"/api/books/closes/{Month(month)}", As.Finance);
            var day = month.AddMonths(1).AddDays(-1);
            var (insurance, patient) = _plan.Visits.Select(v => OpenOn(v, day)).Aggregate((0m, 0m), (a, b) => (a.Item1 + b.Item1, a.Item2 + b.Item2));
            var rows = report.Receivables.ToDictionary(r => r.Party);
            Assert.True((insurance, patient) == (rows.GetValueOrDefault(ResponsibleParty.Insurance)?.Closing ?? 0m, rows.GetValueOrDefault(ResponsibleParty.Patient)?.Closing ?? 0m),
                $"{Month(month)}: the aging of {day} is insurance {insurance}, patients {patient}; the roll-forward closes at {string.Join(", ", report.Receivables.Select(r => $"{r.Party} {r.Closing}"))}");
            foreach (var row in report.Receivables)
            {
                // Each line rolls forward from the month before's close, and transfers only move money between parties.
                Assert.Equal(closing.GetValueOrDefault(row.Party), row.Opening);
                Assert.Equal(row.Closing, row.Opening + row.Charges - row.Payments - row.Adjustments + row.Transfers);
                closing[row.Party] = row.Closing;
            }

            Assert.Equal(0m, report.Receivables.Sum(r => r.Transfers));
            Assert.Equal(report.Total!.Closing, report.TrialBalance.Where(r => r.Number.StartsWith("11", StringComparison.Ordinal)).Sum(r => r.Closing));
            Assert.Equal(report.TrialBalance.Sum(r => r.Debits), report.TrialBalance.Sum(r => r.Credits));
        }

        Assert.True(months >= 12, $"only {months} months closed");
        Assert.True(closing[ResponsibleParty.Insurance] > 0 && closing[ResponsibleParty.Patient] > 0);
    }

    [Fact]
    public async Task the_year_s_journal_balances_its_receivables_are_the_aging_and_its_receipts_are_the_kpi_collections()
    {
        var ct = TestContext.Current.CancellationToken;
        var (from, to) = (new DateOnly(_plan.FirstMonth.Year, _plan.FirstMonth.Month, 1), new DateOnly(_today.Year, _today.Month, 1).AddMonths(1).AddDays(-1));
        var period = $"from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}";
        var journal = await Fixture.Get<KetamineBilling.Features.GeneralLedger.JournalPeriod>($"/api/books/journal?{period}&pageSize=5", As.Finance);
        Assert.True(journal.Entries > 1000, $"only {journal.Entries} journal entries in the year");
        Assert.Equal(journal.Debits, journal.Credits);
        Assert.All(journal.Items, e => Assert.Equal(e.Lines.Sum(l => l.Debit), e.Lines.Sum(l => l.Credit)));

        // The trial balance: nothing before the year, debits equal credits, and the receivables are what the aging says is owed.
        var trial = await Fixture.Get<KetamineBilling.Features.GeneralLedger.TrialBalance>($"/api/books/trial-balance?{period}", As.Finance);
        Assert.All(trial.Rows, r => Assert.Equal(0m, r.Opening));
        Assert.Equal((trial.Debits, 0m), (trial.Credits, trial.ClosingTotal));
        var aging = await Fixture.Get<ArAgingReport>("/api/analytics/aging", As.Finance);
        Assert.Equal(aging.Total.Total, trial.Rows.Where(r => r.Number.StartsWith("11", StringComparison.Ordinal)).Sum(r => r.Closing));
        Assert.Equal(-aging.TotalCredit, trial.Rows.Single(r => r.Account == KetamineBilling.Features.GeneralLedger.GlAccount.RefundsPayable).Closing);

        // Every receipt of the year (undeposited funds in, less the moves to the bank and the processor's fees): the KPI collections.
        await using var session = Store.QuerySession(AppFixture.Clinic);
        var entries = await KetamineBilling.Features.GeneralLedger.JournalQueries.EntriesAsync(session, from, to, ct);
        var received = entries.Where(e => e.Source is not ("deposit" or "processor-fees")).SelectMany(e => e.Lines)
            .Where(l => l.Account == KetamineBilling.Features.GeneralLedger.GlAccount.UndepositedFunds).Sum(l => l.Debit - l.Credit);
        var kpis = await Fixture.Get<KpiReport>($"/api/analytics/kpis?from={Month(from)}&to={Month(to)}", As.Finance);
        Assert.True(kpis.Collections > 100_000m, $"the year collected only {kpis.Collections}");
        Assert.Equal(kpis.Collections, received);
        // And each month on its own.
        for (var month = from; month <= to; month = month.AddMonths(1))
        {
            var end = month.AddMonths(1).AddDays(-1);
            var inMonth = entries.Where(e => e.Date >= month && e.Date <= end && e.Source is not ("deposit" or "processor-fees")).SelectMany(e => e.Lines)
                .Where(l => l.Account == KetamineBilling.Features.GeneralLedger.GlAccount.UndepositedFunds).Sum(l => l.Debit - l.Credit);
            Assert.Equal((await Fixture.Get<KpiReport>($"/api/analytics/kpis?from={Month(month)}&to={Month(month)}", As.Finance)).Collections, inMonth);
        }

        // The exports: the CSV balances to the cent; the IIF has one transaction an entry, each summing to zero.
        var csv = await (await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url($"/api/books/journal?{period}&format=csv");
            s.StatusCodeShouldBeOk();
        })).ReadAsTextAsync();
        using var reader = CsvReader.FromText(csv.TrimStart('\uFEFF'), new CsvReaderOptions
        {
            HasHeader = true, Separator = ',', MalformedData = CsvMalformedDataHandling.Throw, SkipEmptyLines = true
        });
        var (debits, credits, lines) = (0m, 0m, 0);
        decimal Amount(string text) => text.Length == 0 ? 0m : decimal.Parse(text, CultureInfo.InvariantCulture);
        while (await reader.ReadAsync(ct))
        {
            var row = reader.Current.ToArray();
            Assert.Equal(8, row.Length);
            (debits, credits, lines) = (debits + Amount(row[4]), credits + Amount(row[5]), lines + 1);
        }

        Assert.Equal((journal.Debits, journal.Credits), (debits, credits));
        Assert.True(lines >= 2 * journal.Entries);
        var iif = await (await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url($"/api/books/journal?{period}&format=iif");
            s.StatusCodeShouldBeOk();
        })).ReadAsTextAsync();
        var transactions = iif.Split("ENDTRNS\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(journal.Entries, transactions.Count);
        Assert.All(transactions, t => Assert.Equal(0m, t.Split('\n', StringSplitOptions.RemoveEmptyEntries).Sum(l => decimal.Parse(l.Split('\t')[5], CultureInfo.InvariantCulture))));
    }
}
