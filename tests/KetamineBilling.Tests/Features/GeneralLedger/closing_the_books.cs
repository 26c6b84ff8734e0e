using Alba;
using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.GeneralLedger;

/// <summary>
/// Month-end close through the API: months close in order once ended, a fact dated in a closed month is refused (or, under the
/// "move" rule, posted in the open period flagged prior-period), the close keeps its report, and only an Administrator reopens,
/// with a reason the books' history keeps.
/// </summary>
public class closing_the_books(AppFixture fixture) : IntegrationContext(fixture)
{
    private static DateOnly Today => Scenarios.ClinicToday;
    private static DateOnly ThisMonth => new(Today.Year, Today.Month, 1);
    private static string Name(DateOnly month) => Books.Name(month);

    private async Task<string> Send(string method, string url, object body, int status, string user = As.Finance)
    {
        var result = await Fixture.Call(user, s =>
        {
            if (method == "PUT") s.Put.Json(body, JsonStyle.MinimalApi).ToUrl(url);
            else s.Post.Json(body, JsonStyle.MinimalApi).ToUrl(url);
            s.StatusCodeShouldBe(status);
        });
        return await result.ReadAsTextAsync();
    }

    private async Task<CloseReport> Report(DateOnly month)
    {
        await Fixture.CaughtUp();
        return await Fixture.Get<CloseReport>($"/api/books/closes/{Name(month)}", As.Finance);
    }

    [Fact]
    public async Task a_closed_month_refuses_facts_dated_in_it_keeps_its_report_and_only_an_administrator_reopens_it_with_a_reason()
    {
        var (twoAgo, lastMonth) = (ThisMonth.AddMonths(-2), ThisMonth.AddMonths(-1));
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Clo", "Sing");
        await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: twoAgo.AddDays(3)));
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "cash", 300m, twoAgo.AddDays(4), "R-1"));
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "cash", 50m, lastMonth.AddDays(1), "R-2"));
        var early = new RecordPayment(Guid.NewGuid(), "card", 20m, twoAgo.AddDays(9), "R-3");
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", early);

        // Not a month that has not ended; the first close may be any ended month; then in order.
        Assert.Contains("has not ended", await Send("POST", "/api/books/closes", new CloseMonth(Name(ThisMonth)), 422));
        Assert.Contains("month", await Send("POST", "/api/books/closes", new CloseMonth("2026-13"), 400));
        var closed = await Fixture.Post<BooksView>("/api/books/closes", new CloseMonth(Name(twoAgo)), 200, As.Finance);
        Assert.Equal([Name(twoAgo)], closed.Closed);
        Assert.Equal((twoAgo.AddMonths(1).AddDays(-1), ClosedPeriodRule.Refuse), (closed.LockedThrough, closed.Rule));
        Assert.Equal(closed.Closed, (await Fixture.Post<BooksView>("/api/books/closes", new CloseMonth(Name(twoAgo)), 200, As.Finance)).Closed);
        Assert.Contains($"close {Books.Title(lastMonth)} first", await Send("POST", "/api/books/closes", new CloseMonth(Name(ThisMonth)), 422));
        Assert.Contains("locked with it", await Send("POST", "/api/books/closes", new CloseMonth(Name(twoAgo.AddMonths(-1))), 409));

        // Facts dated in it are refused, naming the field; the same request made before the close still gets its answer.
        var refused = await Send("POST", $"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "cash", 10m, twoAgo.AddDays(20), null), 422, As.Billing);
        Assert.Contains("receivedOn", refused);
        Assert.Contains("closed period", refused);
        Assert.Contains("deliveredOn", await Send("POST", $"/api/patients/{patient}/sessions", Scenarios.Session(deliveredOn: twoAgo.AddDays(5)), 422, As.Billing));
        Assert.Contains("depositedOn", await Send("POST", "/api/deposits", new RecordDeposit(Guid.NewGuid(), 300m, twoAgo.AddDays(6), "BR"), 422, As.Billing));
        Assert.Equal(20m, (await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", early, 200)).Amount);
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "cash", 10m, lastMonth.AddDays(2), null));

        // The report: the patient's receivable rolled forward over the month, tying to the month's trial balance.
        var report = await Report(twoAgo);
        var row = Assert.Single(report.Receivables);
        Assert.Equal((ResponsibleParty.Patient, 0m, 450m, 320m, 0m, 0m, 130m), (row.Party, row.Opening, row.Charges, row.Payments, row.Adjustments, row.Transfers, row.Closing));
        Assert.Equal(130m, report.TrialBalance.Single(r => r.Account == GlAccount.ArPatients).Closing);
        Assert.Equal(report.TrialBalance.Sum(r => r.Debits), report.TrialBalance.Sum(r => r.Credits));
        Assert.Equal((5, 0), (report.Entries, report.PriorPeriodEntries)); // the charge, and each payment's receipt and application
        var trial = await Fixture.Get<TrialBalance>($"/api/books/trial-balance?from={twoAgo:yyyy-MM-dd}&to={twoAgo.AddMonths(1).AddDays(-1):yyyy-MM-dd}", As.Finance);
        Assert.Equal(report.TrialBalance.Select(r => (r.Account, r.Closing)), trial.Rows.Select(r => (r.Account, r.Closing)));

        // Only an Administrator reopens, the last closed month only, with a reason; the history says who and why.
        await Send("POST", $"/api/books/closes/{Name(twoAgo)}/reopen", new ReopenMonth("the auditor found a missing deposit"), 403);
        Assert.Contains("reason", await Send("POST", $"/api/books/closes/{Name(twoAgo)}/reopen", new ReopenMonth("because"), 400, As.Admin));
        Assert.Contains("is not closed", await Send("POST", $"/api/books/closes/{Name(lastMonth)}/reopen", new ReopenMonth("the auditor found a missing deposit"), 409, As.Admin));
        var reopen = new ReopenMonth("the auditor found a missing deposit");
        var reopened = await Fixture.Post<BooksView>($"/api/books/closes/{Name(twoAgo)}/reopen", reopen, 200, As.Admin);
        Assert.Empty(reopened.Closed);
        Assert.Null(reopened.LockedThrough);
        Assert.Empty((await Fixture.Post<BooksView>($"/api/books/closes/{Name(twoAgo)}/reopen", reopen, 200, As.Admin)).Closed);
        var periods = await Fixture.Get<BooksView>("/api/books/periods", As.Admin);
        Assert.Equal(["reopened", "closed"], periods.History!.Select(h => h.Act));
        Assert.Equal(("the auditor found a missing deposit", "Administrator"), (periods.History![0].Reason, periods.History[0].Actor.By));
        Assert.Equal("Finance Tester", periods.History[1].Actor.By);
        Assert.Equal(reopen.Reason, (await Report(twoAgo)).ReopenReason);

        // Open again: the late payment is taken, and the month's next close keeps a report of its own.
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "cash", 10m, twoAgo.AddDays(20), null));
        await Fixture.Post<BooksView>("/api/books/closes", new CloseMonth(Name(twoAgo)), 200, As.Finance);
        Assert.Equal(120m, (await Report(twoAgo)).Receivables.Single().Closing);
        await Fixture.CaughtUp();
        var all = await Fixture.Get<List<CloseReport>>($"/api/books/closes/{Name(twoAgo)}?all=true", As.Finance);
        Assert.Equal([120m, 130m], all.Select(r => r.Receivables.Single().Closing));
    }

    [Fact]
    public async Task under_the_move_rule_a_fact_dated_in_a_closed_month_posts_in_the_open_period_flagged_and_the_closed_month_never_changes()
    {
        var lastMonth = ThisMonth.AddMonths(-1);
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Mo", "Ving");
        await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: lastMonth.AddDays(2)));
        var rule = await Fixture.Call(As.Finance, s =>
        {
            s.Put.Json(new SetClosedPeriodRule("move"), JsonStyle.MinimalApi).ToUrl("/api/books/closed-period-rule");
            s.StatusCodeShouldBeOk();
        });
        Assert.Equal(ClosedPeriodRule.Move, (await rule.ReadAsJsonAsync<BooksView>())!.Rule);
        Assert.Contains("rule", await Send("PUT", "/api/books/closed-period-rule", new SetClosedPeriodRule("ignore"), 400));
        await Fixture.Post<BooksView>("/api/books/closes", new CloseMonth(Name(lastMonth)), 200, As.Finance);
        var before = await Report(lastMonth);
        Assert.Equal(ClosedPeriodRule.Move, before.Rule);

        // A payment received last month, recorded now: accepted, posted on this month's first day, flagged with its own date.
        var lateOn = lastMonth.AddDays(20);
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "check", 200m, lateOn, "CHK 1"));
        await Fixture.CaughtUp();
        var journal = await Fixture.Get<JournalPeriod>($"/api/books/journal?from={lastMonth:yyyy-MM-dd}&to={Today:yyyy-MM-dd}", As.Finance);
        var moved = journal.Items.Single(e => e.Source == "payment");
        Assert.Equal((ThisMonth, lateOn), (moved.Date, moved.OriginalDate));
        Assert.Null(journal.Items.Single(e => e.Source == "charge").OriginalDate);
        var csv = await Fixture.Call(As.Finance, s => s.Get.Url($"/api/books/journal?from={ThisMonth:yyyy-MM-dd}&to={Today:yyyy-MM-dd}&format=csv"));
        Assert.Contains($"(prior period: dated {lateOn:MM/dd/yyyy})", await csv.ReadAsTextAsync());

        // The closed month is as it was closed; the open month's report will count the payment, and that it came from before.
        var trial = await Fixture.Get<TrialBalance>($"/api/books/trial-balance?from={lastMonth:yyyy-MM-dd}&to={ThisMonth.AddDays(-1):yyyy-MM-dd}", As.Finance);
        Assert.Equal(before.TrialBalance.Select(r => (r.Account, r.Debits, r.Credits)), trial.Rows.Select(r => (r.Account, r.Debits, r.Credits)));
        Assert.Equal(450m, trial.Rows.Single(r => r.Account == GlAccount.ArPatients).Closing);
        var month = await Fixture.Get<TrialBalance>($"/api/books/trial-balance?from={ThisMonth:yyyy-MM-dd}&to={Today:yyyy-MM-dd}", As.Finance);
        Assert.Equal((450m, 200m, 250m), month.Rows.Where(r => r.Account == GlAccount.ArPatients).Select(r => (r.Opening, r.Credits, r.Closing)).Single());
    }
}
