using System.Net;
using System.Text.RegularExpressions;
using Alba;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using UglyToad.PdfPig;

namespace KetamineBilling.Tests.Features.PatientBilling;

public class statement_runs(AppFixture fixture) : IntegrationContext(fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The run's mail server keeps every test's mail: each test's addresses are its own.</summary>
    private readonly string _inbox = $"t{Guid.NewGuid():N}"[..10];

    private string Address(string name) => $"{name}.{_inbox}@patients.test";

    private async Task<Guid> Patient(string first, string last, string? email, DateOnly? born = null) =>
        (await Fixture.Post<PatientCreated>("/api/patients", new RegisterPatient(first, last, born ?? new DateOnly(1980, 3, 14), email, null))).Id;

    private async Task Pay(Guid patient, decimal amount) =>
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "card", amount, Scenarios.ClinicToday, null));

    private Task<StatementRunView> Run(Guid runId, int status = 201) =>
        Fixture.AndWaitForCascades(() => Fixture.Post<StatementRunView>("/api/statement-runs", new RunStatements(runId), status));

    /// <summary>Five accounts, one for each rule: two get a statement (one by email, one by post).</summary>
    private async Task<(Guid Ada, Guid Bo, Guid Cy, Guid Dee, Guid Eve)> FiveAccountsAsync()
    {
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer();
        var ada = await Patient("Ada", "Quillfeather", Address("ada"));
        var bo = await Patient("Bo", "Lindqvist", null);
        var cy = await Patient("Cy", "Marchetti", Address("cy"));
        var dee = await Patient("Dee", "Okonkwo", Address("dee"));
        var eve = await Patient("Eve", "Saarinen", Address("eve"));
        foreach (var p in new[] { ada, bo, cy, dee, eve }) await Fixture.DeliveredSession(p, Scenarios.Session(deliveredOn: Scenarios.ClinicToday.AddDays(-20)));
        await Pay(bo, 200m);   // owes 250.00, no email: the post
        await Pay(cy, 447m);   // owes 3.00: under the $5.00 minimum
        await Pay(eve, 450m);  // owes nothing
        // Dee owes 450.00 but has a claim out: her statement waits for the insurer's answer.
        await Fixture.Coverage(dee, payer);
        await Fixture.DeliveredSession(dee, Scenarios.Session(deliveredOn: Scenarios.ClinicToday.AddDays(-5)) with { Funding = ["insurance"] });
        return (ada, bo, cy, dee, eve);
    }

    [Fact]
    public async Task a_run_gives_a_statement_to_each_account_that_owes_and_emails_a_notice_that_says_nothing_of_the_patient()
    {
        var (ada, bo, cy, _, _) = await FiveAccountsAsync();
        var runId = Guid.NewGuid();
        var run = await Run(runId);
        Assert.Equal((4, 2, 1, 1, 0, 700m, 1, 1), (run.Considered, run.Statements, run.BelowMinimum, run.WaitingOnInsurance, run.SentRecently, run.Total, run.ByEmail, run.ByPost));

        var detail = await Fixture.Get<StatementRunView>($"/api/statement-runs/{runId}");
        var adaItem = detail.Items!.Single(i => i.PatientId == ada);
        var boItem = detail.Items!.Single(i => i.PatientId == bo);
        Assert.Equal(("Ada Quillfeather", 450m, StatementDelivery.Email, NoticeState.Sent), (adaItem.PatientName, adaItem.AmountDue, adaItem.Delivery, adaItem.Notice));
        Assert.Equal(("Bo Lindqvist", 250m, StatementDelivery.Post, NoticeState.Post), (boItem.PatientName, boItem.AmountDue, boItem.Delivery, boItem.Notice));
        Assert.Equal((Scenarios.ClinicToday.AddDays(-20), Scenarios.ClinicToday), (adaItem.From, adaItem.To));

        // The notice: the clinic's name and a link, nothing of the patient, the money or the care.
        var mail = Assert.Single(await Fixture.Mail.To(Address("ada")));
        var clinic = (await Fixture.Get<KetamineBilling.Features.Clinic.ClinicProfileView>("/api/clinic/profile")).Name;
        Assert.Equal($"A new statement from {clinic}", mail.Subject);
        // The clinic's name is allowed (and may itself say what it treats); nothing else may.
        var text = (mail.TextBody + mail.HtmlBody + mail.Subject).Replace(clinic, "", StringComparison.Ordinal);
        Assert.Equal("statements@clinic.test", mail.From.Mailboxes.Single().Address);
        Assert.Matches($"{Regex.Escape(AppFixture.PublicBaseUrl)}/pay/[A-Za-z0-9_-]+", mail.TextBody);
        foreach (var phi in new[] { "Ada", "Quillfeather", "450", "96365", "F33.2", "ketamine", "infusion", "1980" })
            Assert.DoesNotContain(phi, text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Fixture.Mail.Messages, m => m.To.Mailboxes.Any(x => x.Address == Address("cy") || x.Address == Address("dee") || x.Address == Address("eve")));

        // The patient's own list: what billing answers "when did you send me one?" from.
        var adas = await Fixture.Get<AccountPage<PatientStatementView>>($"/api/patients/{ada}/statements");
        var sentToAda = Assert.Single(adas.Items);
        Assert.Equal((adaItem.StatementId, runId, Scenarios.ClinicToday, 450m, NoticeState.Sent), (sentToAda.StatementId, sentToAda.RunId, sentToAda.IssuedOn, sentToAda.AmountDue, sentToAda.Notice));
        Assert.Equal(NoticeState.Post, Assert.Single((await Fixture.Get<AccountPage<PatientStatementView>>($"/api/patients/{bo}/statements")).Items).Notice);
        Assert.Empty((await Fixture.Get<AccountPage<PatientStatementView>>($"/api/patients/{cy}/statements")).Items);
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/patients/{Guid.NewGuid()}/statements");
            s.StatusCodeShouldBe(404);
        });

        // The same run again is the same run: no second statement, no second email.
        var replay = await Run(runId, 200);
        Assert.Equal((run.RunId, run.Statements, run.Total), (replay.RunId, replay.Statements, replay.Total));
        Assert.Single(await Fixture.Mail.To(Address("ada")));

        // Another run the same day: both were sent one within the 28 days.
        var again = await Run(Guid.NewGuid());
        Assert.Equal((0, 2), (again.Statements, again.SentRecently));
        var runs = await Fixture.Get<List<StatementRunView>>("/api/statement-runs");
        Assert.Equal([again.RunId, runId], runs.Select(r => r.RunId));
        Assert.All(runs, r => Assert.Null(r.Items));

        // On paper: the print file has the statements to post; all of them on request, each from a front page.
        var post = await PdfText($"/api/statement-runs/{runId}/print.pdf");
        Assert.Contains("Bo Lindqvist", post.Text);
        Assert.DoesNotContain("Ada Quillfeather", post.Text);
        var all = await PdfText($"/api/statement-runs/{runId}/print.pdf?delivery=all");
        Assert.Contains("Ada Quillfeather", all.Text);
        Assert.True(all.Text.IndexOf("Bo Lindqvist", StringComparison.Ordinal) < all.Text.IndexOf("Ada Quillfeather", StringComparison.Ordinal), "by last name: Lindqvist, then Quillfeather");
        Assert.Equal(0, all.Pages % 2);
        var one = await PdfText($"/api/statement-runs/{runId}/statements/{adaItem.StatementId}/statement.pdf");
        Assert.Contains("Amount due", one.Text);
        Assert.Contains("$450.00", one.Text);
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/statement-runs/{runId}/print.pdf?delivery=mail");
            s.StatusCodeShouldBe(400);
        });
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/statement-runs/{again.RunId}/print.pdf");
            s.StatusCodeShouldBe(404);
        });
    }

    private async Task<IReadOnlyList<MimeKit.MimeMessage>> MailsAsync(string address, int count)
    {
        for (var i = 0; i < 100; i++)
        {
            var found = await Fixture.Mail.To(address);
            if (found.Count >= count) return found;
            await Task.Delay(100, Ct);
        }

        return await Fixture.Mail.To(address);
    }

    [Fact]
    public async Task past_due_balances_get_a_reminder_then_a_final_notice_in_later_runs_and_never_as_the_first_letter()
    {
        await Fixture.PricedCode("96365", 450m);
        var gus = await Patient("Gus", "Overdue", Address("gus"));
        var hal = await Patient("Hal", "Newcomer", Address("hal"));
        await Fixture.DeliveredSession(gus, Scenarios.Session(deliveredOn: Scenarios.ClinicToday.AddDays(-100)));
        var bus = Fixture.Host.Services.GetRequiredService<Wolverine.IMessageBus>();

        // Statements 70 and 35 days ago (the monthly cycle's runs), then today's by hand: Gus's oldest amount is 30, 65, then 100 days old.
        var first = Guid.NewGuid();
        await Fixture.AndWaitForCascades(async () =>
        {
            await bus.InvokeForTenantAsync(AppFixture.Clinic, new RunScheduledStatements(first, Scenarios.ClinicToday.AddDays(-70)), Ct);
            return first;
        });
        var second = Guid.NewGuid();
        await Fixture.AndWaitForCascades(async () =>
        {
            await bus.InvokeForTenantAsync(AppFixture.Clinic, new RunScheduledStatements(second, Scenarios.ClinicToday.AddDays(-35)), Ct);
            return second;
        });
        // Hal's balance is 80 days old but he was never sent a statement: his first letter is a statement.
        await Fixture.DeliveredSession(hal, Scenarios.Session(deliveredOn: Scenarios.ClinicToday.AddDays(-80)));
        var third = await Run(Guid.NewGuid());
        var secondRun = await Fixture.Get<StatementRunView>($"/api/statement-runs/{second}");
        Assert.Equal((1, 0, DunningStage.Reminder), (secondRun.Reminders, secondRun.FinalNotices, secondRun.Items!.Single().Stage));
        Assert.Equal((0, 1), (third.Reminders, third.FinalNotices));
        var items = (await Fixture.Get<StatementRunView>($"/api/statement-runs/{third.RunId}")).Items!;
        Assert.Equal((DunningStage.FinalNotice, 100), items.Single(i => i.PatientId == gus) is var g ? (g.Stage, g.AgeDays) : default);
        Assert.Equal((DunningStage.Statement, 80), items.Single(i => i.PatientId == hal) is var h ? (h.Stage, h.AgeDays) : default);
        Assert.Equal([DunningStage.Statement], (await Fixture.Get<StatementRunView>($"/api/statement-runs/{first}")).Items!.Select(i => i.Stage));

        // The emails say which letter it is, and still nothing of the patient.
        var mails = await MailsAsync(Address("gus"), 3);
        var clinic = (await Fixture.Get<KetamineBilling.Features.Clinic.ClinicProfileView>("/api/clinic/profile")).Name;
        Assert.Equal([$"A new statement from {clinic}", $"A reminder from {clinic}", $"Final notice from {clinic}"], mails.Select(m => m.Subject).Order(StringComparer.Ordinal));
        var final = mails.Single(m => m.Subject!.StartsWith("Final", StringComparison.Ordinal));
        Assert.Contains("seriously past due", final.TextBody!);
        Assert.DoesNotContain("Overdue", final.TextBody + final.HtmlBody);
        Assert.DoesNotContain("450", final.TextBody + final.HtmlBody);

        var pdf = await PdfText($"/api/statement-runs/{third.RunId}/statements/{items.Single(i => i.PatientId == gus).StatementId}/statement.pdf");
        Assert.Contains("Final Notice: Patient Statement", pdf.Text);
        Assert.Contains("placed with a collection agency", pdf.Text);
        Assert.DoesNotContain("Final Notice", (await PdfText($"/api/statement-runs/{third.RunId}/statements/{items.Single(i => i.PatientId == hal).StatementId}/statement.pdf")).Text);
    }

    private async Task<(string Text, int Pages)> PdfText(string url)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBeOk();
        });
        Assert.Equal("application/pdf", result.Context.Response.ContentType);
        using var pdf = PdfDocument.Open(await ReadBytes(result));
        return (string.Join("\n", pdf.GetPages().Select(p => string.Join(" ", p.GetWords().Select(w => w.Text)))), pdf.NumberOfPages);
    }

    private static async Task<byte[]> ReadBytes(IScenarioResult result)
    {
        using var buffer = new MemoryStream();
        await result.Context.Response.Body.CopyToAsync(buffer, Ct);
        return buffer.ToArray();
    }

    [Fact]
    public async Task the_emailed_link_opens_the_payment_page_after_the_date_of_birth_and_only_for_that_statement()
    {
        var (ada, _, _, _, _) = await FiveAccountsAsync();
        await Run(Guid.NewGuid());
        var link = new Uri(Regex.Match((await Fixture.Mail.To(Address("ada"))).Single().TextBody!, @"https://\S+/pay/\S+").Value);
        Assert.Equal("pay.test.local", link.Host);
        using var browser = Browser();

        // Before the date of birth: the clinic's name and the question, nothing of the statement.
        var first = await browser.GetAsync(link.PathAndQuery, Ct);
        var form = await first.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains((await Fixture.Get<KetamineBilling.Features.Clinic.ClinicProfileView>("/api/clinic/profile")).Name, form);
        Assert.Contains("date of birth", form);
        Assert.DoesNotContain("450", form);
        Assert.DoesNotContain("Quillfeather", form);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync(link.PathAndQuery + "/statement.pdf", Ct)).StatusCode);

        var wrong = await Submit(browser, link, form, "1980-03-15");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong.StatusCode);
        Assert.Contains("does not match", await wrong.Content.ReadAsStringAsync(Ct));
        var right = await Submit(browser, link, await wrong.Content.ReadAsStringAsync(Ct), "1980-03-14");
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);

        var page = await (await browser.GetAsync(link.PathAndQuery, Ct)).Content.ReadAsStringAsync(Ct);
        Assert.Contains("<strong>$450.00</strong>", page);
        var pdf = await browser.GetAsync(link.PathAndQuery + "/statement.pdf", Ct);
        Assert.Equal("application/pdf", pdf.Content.Headers.ContentType?.MediaType);
        using (var doc = PdfDocument.Open(await pdf.Content.ReadAsByteArrayAsync(Ct)))
            Assert.Contains("Quillfeather", string.Join(" ", doc.GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text)));

        // A payment after the statement: due now is less, the statement's amount is what it said.
        await Pay(ada, 100m);
        page = await (await browser.GetAsync(link.PathAndQuery, Ct)).Content.ReadAsStringAsync(Ct);
        Assert.Contains("<strong>$350.00</strong>", page);
        Assert.Contains("data-testid=\"pay-statement-amount\">$450.00", page);

        // A changed token, or one whose time is up, opens nothing; nor does another browser without the date of birth.
        var token = link.Segments[^1];
        Assert.Equal(HttpStatusCode.Gone, (await browser.GetAsync($"/pay/{token[..^3]}xyz", Ct)).StatusCode);
        var links = Fixture.Host.Services.GetRequiredService<StatementLinks>();
        var target = links.Open(token)!;
        Assert.Equal((AppFixture.Clinic, ada), (target.Clinic, target.PatientId));
        var expired = links.Token(target.Clinic, target.RunId, target.StatementId, target.PatientId, DateTimeOffset.UtcNow.AddSeconds(-1));
        Assert.Equal(HttpStatusCode.Gone, (await browser.GetAsync($"/pay/{expired}", Ct)).StatusCode);
        using var other = Browser();
        Assert.DoesNotContain("450", await (await other.GetAsync(link.PathAndQuery, Ct)).Content.ReadAsStringAsync(Ct));

        // The requests were logged, but never with the link's token.
        Assert.Contains(Fixture.Logs.Lines, l => l.Contains("/pay/{token}/statement.pdf", StringComparison.Ordinal));
        Assert.DoesNotContain(Fixture.Logs.Lines, l => l.Contains(token[..40], StringComparison.Ordinal));
    }

    [Fact]
    public async Task five_wrong_dates_of_birth_lock_the_link()
    {
        await FiveAccountsAsync();
        await Run(Guid.NewGuid());
        var link = new Uri(Regex.Match((await Fixture.Mail.To(Address("ada"))).Single().TextBody!, @"https://\S+/pay/\S+").Value);
        using var browser = Browser();
        var html = await (await browser.GetAsync(link.PathAndQuery, Ct)).Content.ReadAsStringAsync(Ct);
        for (var i = 0; i < PaymentPage.MaxFailures; i++)
        {
            var wrong = await Submit(browser, link, html, $"1990-01-0{i + 1}");
            Assert.Equal(HttpStatusCode.UnprocessableEntity, wrong.StatusCode);
            html = await wrong.Content.ReadAsStringAsync(Ct);
        }

        var locked = await Submit(browser, link, html, "1980-03-14");
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Contains("Too many", await locked.Content.ReadAsStringAsync(Ct));
    }

    private HttpClient Browser() =>
        new(new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler { InnerHandler = Fixture.Host.Server.CreateHandler() })
        {
            BaseAddress = new Uri(AppFixture.PublicBaseUrl)
        };

    private static async Task<HttpResponseMessage> Submit(HttpClient browser, Uri link, string html, string dob)
    {
        var token = Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.NotEmpty(token);
        return await browser.PostAsync(link.PathAndQuery, new FormUrlEncodedContent([new("__RequestVerificationToken", WebUtility.HtmlDecode(token)), new("dob", dob)]), Ct);
    }

    [Fact]
    public async Task a_refused_notice_is_recorded_without_the_address_and_can_be_sent_again()
    {
        await Fixture.PricedCode("96365", 450m);
        var zed = await Patient("Zed", "Abernathy", $"zed@{TestSmtpServer.RefusedDomain}");
        await Fixture.DeliveredSession(zed, Scenarios.Session());
        var run = await Run(Guid.NewGuid());
        var item = (await Fixture.Get<StatementRunView>($"/api/statement-runs/{run.RunId}")).Items!.Single();
        Assert.Equal(NoticeState.Failed, item.Notice);
        Assert.StartsWith("the mail server refused the message (550", item.NoticeError);
        Assert.DoesNotContain("zed", item.NoticeError, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Fixture.Logs.Lines, m => m.Contains("zed@", StringComparison.OrdinalIgnoreCase));

        var retried = await Fixture.AndWaitForCascades(() => Fixture.Post<StatementRunView>($"/api/statement-runs/{run.RunId}/notices/retry", new { }, 200));
        Assert.Equal(1, retried.NoticesPending);
        var after = await Fixture.Get<StatementRunView>($"/api/statement-runs/{run.RunId}");
        Assert.Equal(1, after.NoticesFailed);
        var events = await Fixture.EventsOf(run.RunId);
        Assert.Equal(2, events.Count(e => e.Data is StatementNoticeFailed));
        await Fixture.Post<ProblemDetails>($"/api/statement-runs/{Guid.NewGuid()}/notices/retry", new { }, 404);
    }

    [Fact]
    public async Task the_clinic_sets_its_rules_and_the_next_run_follows_them()
    {
        var defaults = await Fixture.Get<StatementPolicy>("/api/statements/policy");
        Assert.Equal(StatementPolicy.Default, defaults);
        var bad = await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetStatementPolicy(0m, 0, "weekly", 31, 0)).ToUrl("/api/statements/policy");
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal(["cycle", "intervalDays", "linkValidDays", "minimumBalance"], (await bad.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys.Order(StringComparer.Ordinal));
        var monthlyWithoutDay = await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetStatementPolicy(10m, 30, "monthly", null, 30)).ToUrl("/api/statements/policy");
            s.StatusCodeShouldBe(400);
        });
        Assert.Contains("dayOfMonth", (await monthlyWithoutDay.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys);

        var rules = new SetStatementPolicy(500m, 14, "monthly", 3, 30);
        var set = await Put(rules);
        Assert.Equal((500m, 14, StatementCycle.Monthly, 3, 30), (set.MinimumBalance, set.IntervalDays, set.Cycle, set.DayOfMonth, set.LinkValidDays));
        var replay = await Put(rules);
        Assert.Equal(set.SetAt, replay.SetAt);

        await Fixture.PricedCode("96365", 450m);
        var patient = await Patient("Mo", "Varga", null);
        await Fixture.DeliveredSession(patient, Scenarios.Session());
        var run = await Run(Guid.NewGuid());
        Assert.Equal((0, 1, 500m, 14), (run.Statements, run.BelowMinimum, run.MinimumBalance, run.IntervalDays));
    }

    private async Task<StatementPolicy> Put(SetStatementPolicy rules)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(rules).ToUrl("/api/statements/policy");
            s.StatusCodeShouldBeOk();
        });
        return (await result.ReadAsJsonAsync<StatementPolicy>())!;
    }

    [Fact]
    public async Task runs_are_billing_work()
    {
        foreach (var user in new[] { As.Finance, As.EmployerA, As.Admin })
        {
            await Fixture.Call(user, s =>
            {
                s.Post.Json(new RunStatements(Guid.NewGuid())).ToUrl("/api/statement-runs");
                s.StatusCodeShouldBe(403);
            });
        }

        await Fixture.Post<ValidationProblemDetails>("/api/statement-runs", new RunStatements(Guid.Empty), 400);
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/statement-runs/{Guid.NewGuid()}");
            s.StatusCodeShouldBe(404);
        });
    }
}

public class monthly_statement_cycle(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly TimeZoneInfo Chicago = TimeZoneInfo.FindSystemTimeZoneById("America/Chicago");

    private static StatementPolicy Monthly(int day, DateTimeOffset setAt) => StatementPolicy.Default with { Cycle = StatementCycle.Monthly, DayOfMonth = day, SetAt = setAt };

    [Fact]
    public void a_month_runs_once_its_day_has_come_and_a_rule_set_after_that_day_starts_next_month()
    {
        var setEarly = new DateTimeOffset(2026, 10, 20, 15, 0, 0, TimeSpan.Zero);
        Assert.False(StatementCycleService.Due(Monthly(5, setEarly), new DateOnly(2026, 11, 4), Chicago));
        Assert.True(StatementCycleService.Due(Monthly(5, setEarly), new DateOnly(2026, 11, 5), Chicago));
        Assert.True(StatementCycleService.Due(Monthly(5, setEarly), new DateOnly(2026, 11, 19), Chicago), "a node down on the day catches up");
        var setLate = new DateTimeOffset(2026, 11, 10, 15, 0, 0, TimeSpan.Zero);
        Assert.False(StatementCycleService.Due(Monthly(5, setLate), new DateOnly(2026, 11, 20), Chicago));
        Assert.True(StatementCycleService.Due(Monthly(5, setLate), new DateOnly(2026, 12, 5), Chicago));
        Assert.False(StatementCycleService.Due(StatementPolicy.Default, new DateOnly(2026, 12, 5), Chicago));
        Assert.Equal(StatementCycleService.RunIdOf("test_a", 2026, 11), StatementCycleService.RunIdOf("test_a", 2026, 11));
        Assert.NotEqual(StatementCycleService.RunIdOf("test_a", 2026, 11), StatementCycleService.RunIdOf("test_b", 2026, 11));
        Assert.NotEqual(StatementCycleService.RunIdOf("test_a", 2026, 11), StatementCycleService.RunIdOf("test_a", 2026, 12));
    }

    [Fact]
    public async Task a_clinic_on_a_monthly_cycle_gets_its_run_by_itself_once_a_month()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = (await Fixture.Post<KetamineBilling.Features.Patients.PatientCreated>("/api/patients",
            new KetamineBilling.Features.Patients.RegisterPatient("Noor", "Haddad", new DateOnly(1975, 1, 2), null, null))).Id;
        await Fixture.DeliveredSession(patient, Scenarios.Session());
        // The rule was set long before this month's first day.
        await using (var session = Store.LightweightSession(AppFixture.Clinic))
        {
            session.Events.Append(StatementPolicyState.StreamId,
                new StatementPolicySet(StatementPolicyState.StreamId, 5m, 28, StatementCycle.Monthly, 1, 60, DateTimeOffset.UtcNow.AddDays(-40)));
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        var cycle = Fixture.Host.Services.GetRequiredService<StatementCycleService>();
        await Fixture.AndWaitForCascades(async () => { await cycle.CheckAsync(TestContext.Current.CancellationToken); return 0; });
        await Fixture.AndWaitForCascades(async () => { await cycle.CheckAsync(TestContext.Current.CancellationToken); return 0; });
        var runs = await Fixture.Get<List<StatementRunView>>("/api/statement-runs");
        var run = Assert.Single(runs);
        var today = Scenarios.ClinicToday;
        Assert.Equal((StatementCycleService.RunIdOf(AppFixture.Clinic, today.Year, today.Month), true, 1, today),
            (run.RunId, run.Scheduled, run.Statements, run.RunOn));
        // The other clinic has no monthly cycle: nothing ran there.
        using (Fixture.ActingFor(AppFixture.OtherClinic)) Assert.Empty(await Fixture.Get<List<StatementRunView>>("/api/statement-runs"));
    }
}
