using Alba;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Features.Analytics;

public class payer_performance(AppFixture fixture) : IntegrationContext(fixture)
{
    private enum Outcome { Paid, Denied, Unanswered }

    /// <summary>One session on a claim as the test made it: 96365 450.00 and J3490 60.00.</summary>
    private sealed record Case(Guid PayerId, string Month, Guid ClaimId, Outcome Outcome, int DaysToAnswer, decimal Allowed96365, decimal Paid96365, decimal Pr96365, decimal PaidDrug)
    {
        public string? DenialReason { get; init; }
    }

    private readonly List<Case> _cases = [];
    private DateOnly _today;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _today = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Today();
    }

    private static string MonthOf(DateOnly d) => d.ToString("yyyy-MM");

    /// <summary>Claims as they happened in past months, recorded with their own dates (the payer's answers come later).</summary>
    private async Task History(Guid payer, DateOnly firstOfMonth, Random random, int claims)
    {
        await using var write = Fixture.Store.LightweightSession(AppFixture.Clinic);
        for (var i = 0; i < claims; i++)
        {
            var claimId = Guid.NewGuid();
            var sessionId = Guid.NewGuid();
            var filed = firstOfMonth.AddDays(random.Next(2, 26));
            var filedAt = new DateTimeOffset(filed.ToDateTime(new TimeOnly(17, 0)), TimeSpan.Zero);
            var outcome = (Outcome)random.Next(3);
            var days = random.Next(8, 70);
            var allowed = 300m + random.Next(0, 10) * 10m;
            var pr = random.Next(2) == 0 ? 0m : 40m;
            var paid = allowed - pr;
            var paidDrug = random.Next(2) == 0 ? 60m : 45m;
            write.Events.StartStream<Claim>(claimId, new ClaimFiled(claimId, Guid.NewGuid(), payer, Guid.NewGuid(), $"KB{claimId:N}"[..20],
                [
                    new ClaimLine(1, sessionId, 1, "96365", [], 1, 450m, filed.AddDays(-2)),
                    new ClaimLine(2, sessionId, 2, "J3490", [], 1, 60m, filed.AddDays(-2))
                ], ["F33.2"], null, null, [], 510m, filedAt));
            var answeredAt = filedAt.AddDays(days);
            if (outcome == Outcome.Paid)
            {
                write.Events.Append(claimId, new ClaimAdjudicated(claimId, null, $"835 T{i}", ClaimStatus.Paid,
                [
                    new AdjudicatedLine(1, 450m, allowed, paid, [new ClaimAdjustment("CO", "45", 450m - allowed), .. pr > 0 ? new[] { new ClaimAdjustment("PR", "3", pr) } : []], []),
                    new AdjudicatedLine(2, 60m, paidDrug, paidDrug, paidDrug < 60m ? [new ClaimAdjustment("CO", "45", 60m - paidDrug)] : [], [])
                ], paid + paidDrug, pr, null, answeredAt));
            }
            else if (outcome == Outcome.Denied)
            {
                var reason = random.Next(3) == 0 ? "50" : "197";
                write.Events.Append(claimId, new ClaimAdjudicated(claimId, null, $"835 T{i}", ClaimStatus.Denied,
                [
                    new AdjudicatedLine(1, 450m, 0m, 0m, [new ClaimAdjustment("CO", reason, 450m)], []),
                    new AdjudicatedLine(2, 60m, 0m, 0m, [new ClaimAdjustment("CO", reason, 60m)], [])
                ], 0m, 0m, null, answeredAt));
                _cases.Add(new Case(payer, MonthOf(filed), claimId, outcome, days, 0m, 0m, 0m, 0m) { DenialReason = reason });
                continue;
            }

            _cases.Add(new Case(payer, MonthOf(filed), claimId, outcome, days, outcome == Outcome.Paid ? allowed : 0m,
                outcome == Outcome.Paid ? paid : 0m, outcome == Outcome.Paid ? pr : 0m, outcome == Outcome.Paid ? paidDrug : 0m));
        }

        await write.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task figures_by_payer_and_month_and_by_code_match_what_the_claims_say_with_trends()
    {
        var blue = await Fixture.Payer("Blue Prairie Health", "BPH01");
        var lake = await Fixture.Payer("Lakeshore Mutual", "LKM02");
        var first = new DateOnly(_today.Year, _today.Month, 1).AddMonths(-4);
        var random = new Random(20261127);
        for (var m = 0; m < 4; m++)
        {
            await History(blue, first.AddMonths(m), random, 5 + m);
            await History(lake, first.AddMonths(m), random, 7 - m);
        }

        // Authorizations requested in the first month: two approved, one denied (Blue Prairie only).
        var patient = await Fixture.RegisteredPatient("Ines", "Aldana");
        await Fixture.Coverage(patient, blue);
        for (var i = 0; i < 3; i++)
        {
            var requested = await Fixture.Post<AuthorizationView>("/api/prior-authorizations", new RequestPriorAuthorization(Guid.NewGuid(), patient, blue,
                ["96365", "J3490"], 6, ["F33.2"], new MedicalNecessityEvidence(["sertraline", "bupropion"], 22, 35, null), first.AddDays(3 + i)));
            if (i < 2)
            {
                await Fixture.AndWaitForCascades(() => Fixture.Post<AuthorizationView>($"/api/prior-authorizations/{requested.Id}/approve",
                    new ApprovePriorAuthorization($"PA-{i}", 6, null, first, first.AddDays(90)), 200));
            }
            else
            {
                await Fixture.Post<AuthorizationView>($"/api/prior-authorizations/{requested.Id}/deny", new DenyPriorAuthorization("Not medically necessary"), 200);
            }
        }

        // Out of network: a patient reports what Lakeshore reimbursed them in the second month.
        await Fixture.PricedCode("96365", 450m);
        var oonPatient = await Fixture.RegisteredPatient("Wren", "Castellano");
        var session = await Fixture.DeliveredSession(oonPatient, Scenarios.Session(deliveredOn: first.AddMonths(1).AddDays(1)));
        await Fixture.Post<OutOfNetworkReimbursementReported>($"/api/patients/{oonPatient}/out-of-network-reimbursements",
            new ReportOutOfNetworkReimbursement(Guid.NewGuid(), lake, 180m, first.AddMonths(1).AddDays(9), [session.SessionId]));

        var from = MonthOf(first);
        var to = MonthOf(first.AddMonths(3));
        // The figures are kept by an asynchronous projection: once it has caught up, they are what the claims say.
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var report = await Fixture.Get<PayerPerformanceReport>($"/api/analytics/payers?from={from}&to={to}", As.Finance);

        Assert.Equal(8, report.ByMonth.Count);
        Assert.Equal(["Blue Prairie Health", "Lakeshore Mutual"], report.ByMonth.Select(r => r.Payer).Distinct());
        foreach (var row in report.ByMonth)
        {
            var cases = _cases.Where(c => c.PayerId == row.PayerId && c.Month == row.Month).ToList();
            var answered = cases.Where(c => c.Outcome != Outcome.Unanswered).ToList();
            var denied = cases.Where(c => c.Outcome == Outcome.Denied).ToList();
            var paid = cases.Where(c => c.Outcome == Outcome.Paid).ToList();
            var f = row.Figures;
            Assert.Equal(cases.Count, f["claimsFiled"]);
            Assert.Equal(2 * cases.Count, f["lines"]);
            Assert.Equal(510m * cases.Count, f["billed"]);
            Assert.Equal(paid.Sum(c => c.Allowed96365 + c.PaidDrug), f["allowed"]);
            Assert.Equal(paid.Sum(c => c.Paid96365 + c.PaidDrug), f["paid"]);
            Assert.Equal(paid.Sum(c => c.Pr96365), f["patientResponsibility"]);
            Assert.Equal(paid.Sum(c => 450m - c.Allowed96365 + 60m - c.PaidDrug), f["contractualAdjustments"]);
            Assert.Equal(Math.Round(paid.Sum(c => c.Paid96365 + c.PaidDrug) / (510m * cases.Count), 4), f["reimbursementRate"]);
            Assert.Equal(answered.Count == 0 ? null : Math.Round(paid.Sum(c => c.Paid96365 + c.PaidDrug) / answered.Count, 2), f["averagePaidPerInfusion"]);
            Assert.Equal(2 * denied.Count, f["deniedLines"]);
            Assert.Equal(answered.Count == 0 ? null : Math.Round((decimal)denied.Count / answered.Count, 4), f["denialRateByCount"]);
            Assert.Equal(answered.Count == 0 ? null : Math.Round((decimal)denied.Count / answered.Count, 4), f["denialRateByDollars"]);
            var days = paid.Select(c => c.DaysToAnswer).Order().ToList();
            decimal? median = days.Count == 0 ? null : days.Count % 2 == 1 ? days[days.Count / 2] : (days[days.Count / 2 - 1] + days[days.Count / 2]) / 2m;
            Assert.Equal(median, f["daysToPayMedian"]);
            Assert.Equal(days.Count == 0 ? null : days[(int)Math.Ceiling(days.Count * 0.9) - 1], f["daysToPayP90"]);
            var reasons = denied.GroupBy(c => c.DenialReason!).Select(g => (Carc: g.Key, Lines: 2 * g.Count())).OrderByDescending(x => x.Lines).ThenBy(x => x.Carc, StringComparer.Ordinal);
            Assert.Equal(reasons, row.TopDenialReasons.Select(r => (r.Carc, r.Lines)));
        }

        var blueFirst = report.ByMonth.Single(r => r.PayerId == blue && r.Month == from);
        Assert.Equal((3m, Math.Round(2m / 3m, 4)), (blueFirst.Figures["authorizationsDecided"]!.Value, blueFirst.Figures["authorizationApprovalRate"]!.Value));
        var lakeSecond = report.ByMonth.Single(r => r.PayerId == lake && r.Month == MonthOf(first.AddMonths(1)));
        Assert.Equal((1m, 180m), (lakeSecond.Figures["outOfNetworkReimbursements"]!.Value, lakeSecond.Figures["outOfNetworkAmount"]!.Value));

        // Trends: each month's change is that month's figure less the one before; the first month has none.
        foreach (var series in report.ByMonth.GroupBy(r => r.PayerId))
        {
            var months = series.ToList();
            Assert.All(months[0].Change.Values, v => Assert.Null(v));
            for (var i = 1; i < months.Count; i++)
            {
                Assert.Equal(months[i].Figures["billed"] - months[i - 1].Figures["billed"], months[i].Change["billed"]);
                Assert.Equal(months[i].Figures["paid"] - months[i - 1].Figures["paid"], months[i].Change["paid"]);
            }
        }

        // By code: the drug line's own figures.
        var drug = report.ByCode.Where(r => r.Code == "J3490" && r.PayerId == blue).ToList();
        Assert.Equal(4, drug.Count);
        foreach (var row in drug)
        {
            var paid = _cases.Where(c => c.PayerId == blue && c.Month == row.Month && c.Outcome == Outcome.Paid).ToList();
            Assert.Equal(paid.Sum(c => c.PaidDrug), row.Figures["paid"]);
            Assert.Null(row.Figures["claimsFiled"]);
        }

        var filtered = await Fixture.Get<PayerPerformanceReport>($"/api/analytics/payers?from={from}&to={to}&payerId={lake}&code=96365");
        Assert.All(filtered.ByMonth, r => Assert.Equal(lake, r.PayerId));
        Assert.Empty(filtered.ByMonth);
        Assert.All(filtered.ByCode, r => Assert.Equal("96365", r.Code));
    }

    [Fact]
    public async Task the_csv_has_a_row_per_payer_month_and_code_and_bad_ranges_are_named()
    {
        var blue = await Fixture.Payer("Blue Prairie Health", "BPH01");
        var first = new DateOnly(_today.Year, _today.Month, 1).AddMonths(-2);
        await History(blue, first, new Random(7), 3);
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var csv = await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url($"/api/analytics/payers?from={MonthOf(first)}&to={MonthOf(first.AddMonths(1))}&format=csv");
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe("text/csv");
        });
        var lines = (await csv.ReadAsTextAsync()).TrimStart('\uFEFF').TrimEnd('\n').Split('\n');
        Assert.StartsWith("view,payer_id,payer,month,code,claims_filed,lines,billed,", lines[0]);
        Assert.Equal(1 + 2 + 2 * 2, lines.Length);
        Assert.StartsWith($"by-month,{blue},Blue Prairie Health,{MonthOf(first)},,3,6,1530,", lines[1]);
        Assert.All(lines.Skip(1), l => Assert.Equal(lines[0].Count(c => c == ','), l.Count(c => c == ',')));

        var problem = await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url("/api/analytics/payers?from=2026-13&to=2020-01&code=9636%2A");
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal(["code", "from"], (await problem.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys.Order());
        var range = await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url("/api/analytics/payers?from=2026-05&to=2026-01");
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal(["to"], (await range.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url($"/api/analytics/payers?from=2026-01&to=2026-02&payerId={Guid.NewGuid()}");
            s.StatusCodeShouldBe(404);
        });
    }
}
