using System.Net.Http.Json;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>A billing administrator's day in a real browser, asserting what they see.</summary>
[Collection("browser")]
public class billing_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();



    private async Task<(HttpClient Api, Guid Patient)> PatientAsync(string first, string last)
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var patient = await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient(first, last, new DateOnly(1986, 4, 2), null, null));
        return (api, patient.Id);
    }

    [Fact]
    public async Task an_administrator_records_a_session_and_a_payment_and_sees_the_balance_change()
    {
        var (_, patient) = await PatientAsync("Marisol", "Quintero");
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");
        await Expect(page.GetByTestId("patient-name")).ToHaveTextAsync("Marisol Quintero");
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("0.00");

        // A self-pay infusion with its ketamine at the list prices (450.00 + 60.00), less the cash prices' 60.00.
        await page.GetByTestId("record-session").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("450.00");
        await Expect(page.GetByTestId("sessions-table")).ToContainTextAsync("96365, J3490");
        await Expect(page.GetByTestId("sessions-table")).ToContainTextAsync("510.00");

        await page.GetByTestId("take-payment").ClickAsync();
        await page.GetByLabel("Amount").FillAsync("300");
        await page.GetByLabel("Reference (card last four, check number)").FillAsync("VISA ending 4242");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("150.00");
        await Expect(page.GetByText("Payment recorded")).ToBeVisibleAsync();

        // The ledger shows both, with the running balance.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Ledger" }).ClickAsync();
        await Expect(page.GetByTestId("ledger-table")).ToContainTextAsync("VISA ending 4242");
        await Expect(page.GetByTestId("ledger-table").Locator("tbody tr").Last).ToContainTextAsync("150.00");
    }

    [Fact]
    public async Task bad_input_in_a_dialog_shows_the_rule_it_broke_and_records_nothing()
    {
        var (api, patient) = await PatientAsync("Tobias", "Lindgren");
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");
        await page.GetByTestId("take-payment").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        // Refused at the field, in words (issue 21), before anything is sent.
        await Expect(page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId("amount") }).Locator(".mud-input-helper-text"))
            .ToHaveTextAsync("Amount is required");
        var balance = await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, TestContext.Current.CancellationToken);
        Assert.Equal(0m, balance!.TotalPaid);
    }

    [Fact]
    public async Task an_administrator_uploads_an_835_and_sees_the_posted_claim_and_an_unmatched_item()
    {
        var (api, patient) = await PatientAsync("Ingrid", "Halvorsen");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77001", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));
        var served = Today.AddDays(-20);
        var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), served, 45, "main-clinic", [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)], ["F33.2"], "dr-patel", ["insurance"]));
        var claim = await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, DemoIds.BluePrairie, [charge.SessionId]));

        var trace = $"UI{Guid.NewGuid():N}"[..16];
        var file = Path.Combine(Path.GetTempPath(), $"{trace}.835");
        await File.WriteAllTextAsync(file, Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 256m + 90m, Today,
        [
            new Remittance835Builder.Clp(claim.ControlNumber, "1", 510m, 256m, 64m,
                new Remittance835Builder.Svc("96365", 450m, 256m, served, null, ("CO", "45", 130m), ("PR", "2", 64m)),
                new Remittance835Builder.Svc("J3490", 60m, 0m, served, null, ("CO", "45", 60m))),
            new Remittance835Builder.Clp("NOSUCHCLAIM42", "1", 200m, 90m, 0m,
                new Remittance835Builder.Svc("99213", 200m, 90m, served, null, ("CO", "45", 110m)))
        ]), TestContext.Current.CancellationToken);

        var page = await browser.SignedInAsync("billing@demo.test", "/remittances");
        await page.Locator("input[type=file]").SetInputFilesAsync(file);
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync("1 claim(s) posted (2 lines)", new() { Timeout = 20_000 });
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync("1 item(s) could not be matched");
        await Expect(page.GetByTestId("posted-claim")).ToContainTextAsync($"claim {claim.ControlNumber}, paid {Fmt.Money(256m)}");
        await Expect(page.GetByTestId("unmatched")).ToContainTextAsync("NOSUCHCLAIM42");

        // The posted claim, as the claim page shows it: paid, with the CARC in words.
        await page.GetByRole(AriaRole.Link, new() { Name = $"claim {claim.ControlNumber}" }).ClickAsync();
        await Expect(page.GetByTestId("claim-title")).ToContainTextAsync(claim.ControlNumber);
        await Expect(page.GetByTestId("adjudication").First).ToContainTextAsync("Charge exceeds fee schedule");
    }

    private static readonly Regex IsoDate = new(@"\b\d{4}-\d{2}-\d{2}\b");

    [Fact]
    public async Task the_claims_list_shows_patient_dates_and_sent_marks_and_a_remittance_opens_to_its_page_where_an_item_is_matched_by_patient_name()
    {
        var (api, patient) = await PatientAsync("Perpetua", "Quennellyn");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77009", "primary", "GRP-1", ActiveFrom: Today.AddDays(-200)));
        var first = Today.AddDays(-12);
        var second = Today.AddDays(-9);
        async Task<ClaimView> Claim(DateOnly on, params SessionLineInput[] lines)
        {
            var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
                new DeliverSession(Guid.NewGuid(), on, 45, "main-clinic", lines, ["F33.2"], "dr-patel", ["insurance"]));
            return await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, DemoIds.BluePrairie, [charge.SessionId]));
        }

        var sent = await Claim(first, new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1));
        var waiting = await Claim(second, new SessionLineInput("96365", 1));
        (await api.PostAsJsonAsync("/api/claim-batches", new ExportClaimBatch([sent.Id], Guid.NewGuid()), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        // The list: patient, date of service, money with $ and dates as MM/dd/yyyy, and which claims an 837 already sent.
        var page = await browser.SignedInAsync("billing@demo.test", "/claims");
        await page.GetByLabel("Find: patient, amount, date of service or claim number").FillAsync("Quennellyn");
        var table = page.GetByTestId("claims-table");
        var sentRow = table.Locator("tr", new() { HasText = sent.ControlNumber });
        var waitingRow = table.Locator("tr", new() { HasText = waiting.ControlNumber });
        await Expect(sentRow.GetByTestId("claim-patient")).ToHaveTextAsync("Perpetua Quennellyn");
        await Expect(sentRow.GetByTestId("claim-date-of-service")).ToHaveTextAsync(Fmt.Date(first));
        await Expect(sentRow).ToContainTextAsync(Fmt.Money(510m));
        await Expect(sentRow.GetByTestId("claim-sent")).ToContainTextAsync($"Sent {Fmt.Date(Today)}");
        await Expect(waitingRow.GetByTestId("claim-date-of-service")).ToHaveTextAsync(Fmt.Date(second));
        await Expect(waitingRow.GetByTestId("claim-sent")).ToHaveTextAsync("not sent");
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(2);
        await sentRow.GetByTestId("claim-sent").Locator(".mud-chip").HoverAsync();
        await Expect(page.GetByText(new Regex(@"Sent in 837 batch \d{9} on \d{2}/\d{2}/\d{4}"))).ToBeVisibleAsync();
        await Expect(page.Locator(".mud-main-content")).Not.ToContainTextAsync(IsoDate);

        // The payer paid the second claim under a number it never had: the item is kept unmatched.
        var trace = $"RP{Guid.NewGuid():N}"[..16];
        var text = Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 300m, Today,
            [new Remittance835Builder.Clp("WRONGNUMBER77", "1", 450m, 300m, 0m, new Remittance835Builder.Svc("96365", 450m, 300m, second, null, ("CO", "45", 150m)))]);
        (await api.PostAsync("/api/remittances", new StringContent(text), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();

        await page.GotoAsync("/remittances");
        await page.GetByTestId("remittances").Locator("tr", new() { HasText = trace }).GetByTestId("open-remittance").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/remittances/[0-9a-f-]{36}$"));
        await Expect(page.GetByTestId("remittance-title")).ToContainTextAsync($"Blue Prairie Health · trace {trace}", new() { IgnoreCase = true });
        var summary = page.GetByTestId("remittance-summary");
        await Expect(summary.GetByTestId("remittance-payment")).ToHaveTextAsync(Fmt.Money(300m));
        await Expect(summary).ToContainTextAsync(Fmt.Date(Today));
        var payments = page.GetByTestId("remittance-payments");
        await Expect(payments.GetByTestId("payment-unmatched")).ToHaveCountAsync(1);
        await Expect(payments).ToContainTextAsync("WRONGNUMBER77");
        await Expect(payments).ToContainTextAsync($"CO-45 {Fmt.Money(150m)}");
        await Expect(payments).ToContainTextAsync(Fmt.Date(second));
        await Expect(page.Locator(".mud-main-content")).Not.ToContainTextAsync(IsoDate);

        // The match dialog finds the claim by the patient's name.
        await payments.GetByTestId("match-item").ClickAsync();
        await page.GetByLabel("Find the claim: patient name, amount, date of service (MM/dd/yyyy) or claim number").PressSequentiallyAsync("quennell");
        await page.GetByTestId("claim-option").Filter(new() { HasText = waiting.ControlNumber }).ClickAsync();
        await page.GetByTestId("post-match").ClickAsync();
        await Expect(payments.GetByTestId("payment-matched")).ToHaveCountAsync(1);
        await Expect(payments.GetByTestId("payment-unmatched")).ToHaveCountAsync(0);
        await Expect(payments).ToContainTextAsync("Perpetua Quennellyn");
        var claim = await api.GetFromJsonAsync<ClaimView>($"/api/claims/{waiting.Id}", ClientCommands.Json, TestContext.Current.CancellationToken);
        Assert.Equal(300m, claim!.Paid);
    }

    [Fact]
    public async Task the_patient_page_and_the_worklist_show_amounts_with_the_dollar_sign_and_dates_as_the_clinic_writes_them()
    {
        var (api, patient) = await PatientAsync("Leocadia", "Fairweatherby");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77010", "primary", "GRP-1", ActiveFrom: Today.AddDays(-200)));
        var served = Today.AddDays(-11);
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), served, 45, "main-clinic", [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)], ["F33.2"], "dr-patel", ["insurance"]));

        // The ledger's own words carry the date of service as MM/dd/yyyy; amounts read "$510.00".
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");
        await Expect(page.GetByTestId("sessions-table")).ToContainTextAsync(Fmt.Date(served));
        await Expect(page.GetByTestId("sessions-table")).ToContainTextAsync(Fmt.Money(510m));
        await Expect(page.Locator(".mud-main-content")).Not.ToContainTextAsync(IsoDate);
        await page.GetByRole(AriaRole.Tab, new() { Name = "Ledger" }).ClickAsync();
        var ledger = page.GetByTestId("ledger-table");
        await Expect(ledger).ToContainTextAsync($"Session of {Fmt.Date(served)}");
        await Expect(ledger).ToContainTextAsync(Fmt.Money(510m));
        await Expect(page.Locator(".mud-main-content")).Not.ToContainTextAsync(IsoDate);

        // The worklist's detail says the same: "Insured session of MM/dd/yyyy ($510.00) is on no claim after 7 days".
        await browser.CaughtUpAsync();
        await page.GotoAsync("/reconciliation");
        await page.GetByTestId("summary-unbilled-session").ClickAsync();
        var row = page.GetByTestId("worklist").Locator("tr", new() { HasText = "Leocadia Fairweatherby" });
        await Expect(row).ToContainTextAsync($"Insured session of {Fmt.Date(served)} ({Fmt.Money(510m)})");
        await Expect(page.Locator(".mud-main-content")).Not.ToContainTextAsync(IsoDate);
    }

    [Fact]
    public async Task an_administrator_works_an_exception_until_it_disappears()
    {
        // An insured session of ten days ago on no claim: "not billed after 7 days".
        var (api, patient) = await PatientAsync("Ottilie", "Brandvold");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77002", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));
        var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), Today.AddDays(-10), 45, "main-clinic", [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)], ["F33.2"], "dr-patel", ["insurance"]));

        await browser.CaughtUpAsync();

        var page = await browser.SignedInAsync("billing@demo.test", "/reconciliation");
        await page.GetByTestId("summary-unbilled-session").ClickAsync();
        var row = page.GetByTestId("worklist").Locator("tr", new() { HasText = "Ottilie Brandvold" });
        await Expect(row).ToBeVisibleAsync();
        await row.GetByTestId("resolve").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex($"/patients/{patient}$"));
        await page.GetByTestId($"file-claim-{charge.SessionId}").ClickAsync();
        await Expect(page.GetByText("filed with Blue Prairie Health")).ToBeVisibleAsync();

        await browser.CaughtUpAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Reconciliation" }).ClickAsync();
        await BrowserFixture.LiveAsync(page);
        await page.GetByTestId("summary-unbilled-session").ClickAsync();
        await Expect(page.GetByTestId("worklist")).Not.ToContainTextAsync("Ottilie Brandvold");
    }

    [Fact]
    public async Task fsa_money_without_a_letter_is_fixed_from_the_worklist_by_recording_the_letter_in_the_dialog_it_opens()
    {
        // A self-pay session paid with an FSA card and no letter of medical necessity on file.
        var (api, patient) = await PatientAsync("Gudrun", "Thorvaldsen");
        var served = Today.AddDays(-6);
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), served, 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["self-pay"]));
        await ClientCommands.PostAsync<PaymentResult>(api, $"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "fsa", 200m, Today.AddDays(-2), "FSA card"));

        await browser.CaughtUpAsync();

        var page = await browser.SignedInAsync("billing@demo.test", "/reconciliation");
        await page.GetByTestId("summary-fsa-without-letter").ClickAsync();
        var row = page.GetByTestId("worklist").Locator("tr", new() { HasText = "Gudrun Thorvaldsen" });
        await Expect(row.GetByTestId("resolve")).ToHaveAttributeAsync("href", $"/patients/{patient}?do=letter");
        await row.GetByTestId("resolve").ClickAsync();

        // The link opens the letter dialog, its dates starting at the session the FSA money paid.
        await Expect(page).ToHaveURLAsync(new Regex($"/patients/{patient}\\?do=letter$"));
        await Expect(page.GetByTestId("letter-valid-from")).ToHaveValueAsync(Fmt.Date(served));
        await page.GetByLabel("Condition treated").FillAsync("Treatment-resistant depression");
        await page.GetByLabel("How often").FillAsync("Six infusions over three weeks");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Letter recorded")).ToBeVisibleAsync();

        // Recorded through the API: the account's alert and the worklist's item are gone.
        var balance = await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(balance!.Alerts, a => a.Kind == "fsa-without-letter");
        await browser.CaughtUpAsync();
        var items = await api.GetFromJsonAsync<KetamineBilling.Features.Reconciliation.ExceptionPage>("/api/reconciliation/exceptions?type=fsa-without-letter", ClientCommands.Json,
            TestContext.Current.CancellationToken);
        Assert.DoesNotContain(items!.Items, i => i.PatientId == patient);
    }

    [Fact]
    public async Task a_session_beyond_its_authorization_leads_to_the_authorizations_where_the_payer_s_approval_and_extension_are_recorded()
    {
        // An insured session delivered while the prior authorization was still requested: beyond authorization.
        var (api, patient) = await PatientAsync("Henrike", "Aalbersberg");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77005", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));
        var authorization = Guid.NewGuid();
        await ClientCommands.PostAsync<KetamineBilling.Features.PriorAuthorizations.AuthorizationView>(api, "/api/prior-authorizations",
            new KetamineBilling.Features.PriorAuthorizations.RequestPriorAuthorization(authorization, patient, DemoIds.BluePrairie, ["96365"], 1, ["F33.2"], null,
                Today.AddDays(-9)));
        var served = Today.AddDays(-5);
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), served, 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["insurance"]));

        async Task<List<KetamineBilling.Features.Reconciliation.ExceptionItem>> Beyond() =>
            (await api.GetFromJsonAsync<KetamineBilling.Features.Reconciliation.ExceptionPage>("/api/reconciliation/exceptions?type=beyond-authorization",
                ClientCommands.Json, TestContext.Current.CancellationToken))!.Items.Where(i => i.PatientId == patient).ToList();
        for (var i = 0; i < 50 && (await Beyond()).Count == 0; i++) await Task.Delay(200, TestContext.Current.CancellationToken);

        await browser.CaughtUpAsync();

        var page = await browser.SignedInAsync("billing@demo.test", "/reconciliation");
        await page.GetByTestId("summary-beyond-authorization").ClickAsync();
        var row = page.GetByTestId("worklist").Locator("tr", new() { HasText = "Henrike Aalbersberg" });
        await Expect(row.GetByTestId("resolve")).ToHaveAttributeAsync("href", $"/patients/{patient}?do=authorizations");
        await row.GetByTestId("resolve").ClickAsync();

        // The link shows the authorizations; the payer's approval is recorded from dates that cover the session.
        await Expect(page.GetByTestId("authorizations-table")).ToBeVisibleAsync();
        await page.GetByTestId($"approve-{authorization}").ClickAsync();
        await page.GetByTestId("auth-number").FillAsync("BPH-PA-5511");
        await page.GetByTestId("auth-valid-from").FillAsync(Fmt.Date(Today.AddDays(-10)));
        await page.GetByTestId("auth-valid-to").FillAsync(Fmt.Date(Today.AddDays(20)));
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Approval recorded")).ToBeVisibleAsync();

        // Then extended: two sessions more, to a later end.
        await page.GetByTestId($"extend-{authorization}").ClickAsync();
        await page.GetByTestId("extend-sessions").FillAsync("2");
        await page.GetByTestId("extend-valid-to").FillAsync(Fmt.Date(Today.AddDays(60)));
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Extension recorded")).ToBeVisibleAsync();

        var view = await api.GetFromJsonAsync<KetamineBilling.Features.PriorAuthorizations.AuthorizationView>($"/api/prior-authorizations/{authorization}",
            ClientCommands.Json, TestContext.Current.CancellationToken);
        Assert.Equal(("approved", "BPH-PA-5511", 3, Today.AddDays(-10), Today.AddDays(60)),
            (view!.Status, view.AuthorizationNumber, view.SessionsApproved, view.ValidFrom!.Value, view.ValidTo!.Value));
        // The approval covers the session: it is counted, and off the worklist.
        for (var i = 0; i < 50 && (await Beyond()).Count > 0; i++) await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Empty(await Beyond());
    }

    [Fact]
    public async Task a_series_over_its_estimate_is_discounted_from_the_worklist_through_the_discount_dialog()
    {
        // A self-pay series of two infusions estimated at one infusion's price: far over the Good Faith Estimate.
        var (api, patient) = await PatientAsync("Leopoldine", "Vasquez-Ober");
        var series = Guid.NewGuid();
        await ClientCommands.PostAsync<object>(api, $"/api/patients/{patient}/series", new PlanSeries(series, "Two infusions", 2, null));
        await ClientCommands.PostAsync<GoodFaithEstimateIssued>(api, $"/api/patients/{patient}/good-faith-estimates",
            new IssueGoodFaithEstimate(Guid.NewGuid(), series, null, [new EstimateLineInput("96365", 1)]));
        foreach (var age in new[] { 8, 4 })
        {
            await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions", new DeliverSession(Guid.NewGuid(), Today.AddDays(-age), 45, "main-clinic",
                [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)], ["F33.2"], "dr-patel", ["self-pay"], series));
        }

        await browser.CaughtUpAsync();
        var over = (await api.GetFromJsonAsync<KetamineBilling.Features.Reconciliation.ExceptionPage>("/api/reconciliation/exceptions?type=over-estimate",
            ClientCommands.Json, TestContext.Current.CancellationToken))!.Items.Single(i => i.PatientId == patient);
        var before = (await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, TestContext.Current.CancellationToken))!
            .Sessions.ToDictionary(x => x.SessionId, x => x.Adjusted);
        await browser.CaughtUpAsync();
        var page = await browser.SignedInAsync("billing@demo.test", "/reconciliation");
        await page.GetByTestId("summary-over-estimate").ClickAsync();
        var row = page.GetByTestId("worklist").Locator("tr", new() { HasText = "Leopoldine Vasquez-Ober" });
        await Expect(row.GetByTestId("resolve")).ToHaveAttributeAsync("href", $"/patients/{patient}?do=discount");
        await row.GetByTestId("resolve").ClickAsync();

        // The link opens the discount dialog on the series; the whole excess is discounted.
        await Expect(page).ToHaveURLAsync(new Regex($"/patients/{patient}\\?do=discount$"));
        await page.GetByTestId("discount-value").FillAsync(over.Amount.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByTestId("discount-reason").FillAsync("Bring the series within its Good Faith Estimate");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Discount granted")).ToBeVisibleAsync();

        var balance = await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(balance!.Alerts, a => a.Kind == "estimate-exceeded");
        // The dialog started on the series: the discount is spread over both its sessions, and is the excess to the cent.
        Assert.Equal(over.Amount, balance.Sessions.Sum(x => x.Adjusted - before[x.SessionId]));
        Assert.All(balance.Sessions, x => Assert.True(x.Adjusted > before[x.SessionId], $"the session of {Fmt.Date(x.DeliveredOn)} got no part of the discount"));
    }

    [Fact]
    public async Task an_unanswered_claim_s_fix_opens_the_claims_list_on_that_claim_ready_to_be_sent_again()
    {
        var (api, patient) = await PatientAsync("Casimir", "Wojtaszek");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77006", "primary", "GRP-1", ActiveFrom: Today.AddDays(-200)));
        var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), Today.AddDays(-3), 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["insurance"]));
        var claim = await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, DemoIds.BluePrairie, [charge.SessionId]));

        // The worklist's claim-no-response link: the list found by the claim's number, with the Resubmission choice beside it.
        var page = await browser.SignedInAsync("billing@demo.test", $"/claims?search={Uri.EscapeDataString(claim.ControlNumber)}");
        await Expect(page.GetByTestId("claims-search")).ToHaveValueAsync(claim.ControlNumber);
        await Expect(page.GetByTestId("claims-table").Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("claims-table")).ToContainTextAsync("Casimir Wojtaszek");
        await Expect(page.GetByText("Resubmission", new() { Exact = true })).ToBeVisibleAsync();
    }

    /// <summary>The worklist page as shown: each group's title, the "N in all" its header says, the rows under it, and whether it says it goes on from the page before.</summary>
    private const string Groups = """
        () => {
          const groups = [];
          for (const row of document.querySelectorAll('[data-testid=worklist] tbody tr')) {
            const header = row.querySelector('th');
            if (header) { const m = header.textContent.match(/^(.*?)\s*·\s*(\d+) in all/); groups.push({ title: m ? m[1].trim() : header.textContent.trim(), all: m ? +m[2] : -1, rows: 0, continued: header.textContent.includes('continued from the page before') }); }
            else if (groups.length > 0 && row.querySelector('[data-testid=resolve]')) groups[groups.length - 1].rows++;
          }
          return groups.map(g => `${g.title}|${g.all}|${g.rows}|${g.continued}`);
        }
        """;

    [Fact]
    public async Task the_worklist_pages_on_the_server_a_group_going_on_where_the_last_page_left_it_and_a_missing_address_opens_the_patient_s_details()
    {
        // An insured patient with no address and an unbilled session: an address to add.
        var (api, patient) = await PatientAsync("Waltraud", "Eskeland");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77004", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), Today.AddDays(-9), 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["insurance"]));

        await browser.CaughtUpAsync();

        var page = await browser.SignedInAsync("billing@demo.test", "/reconciliation");

        // Every group's rows, summed over the pages, are the "N in all" its header says; a group seen on the page before
        // goes on at the top of the next, saying so.
        var rowsOf = new Dictionary<string, int>();
        var allOf = new Dictionary<string, int>();
        var last = "";
        var n = 1;
        while (true)
        {
            await Expect(page.GetByTestId("worklist-page-info")).ToContainTextAsync($"Page {n} of ");
            var groups = await page.EvaluateAsync<string[]>(Groups);
            for (var g = 0; g < groups.Length; g++)
            {
                var (title, all, rows, continued) = (groups[g].Split('|')[0], int.Parse(groups[g].Split('|')[1]), int.Parse(groups[g].Split('|')[2]), groups[g].Split('|')[3] == "true");
                Assert.True(continued == (g == 0 && title == last), $"page {n}: '{title}' says continued: {continued}");
                Assert.True(!rowsOf.ContainsKey(title) || (g == 0 && title == last), $"page {n}: '{title}' came back after other groups");
                rowsOf[title] = rowsOf.GetValueOrDefault(title) + rows;
                allOf[title] = all;
            }

            last = groups.Length == 0 ? "" : groups[^1].Split('|')[0];

            if (await page.GetByTestId("worklist-next").IsDisabledAsync()) break;
            await page.GetByTestId("worklist-next").ClickAsync();
            n++;
        }

        Assert.True(n >= 2, "the demo's worklist should fill more than one page of 50");
        Assert.Equal(allOf, rowsOf);
        Assert.Contains("Insured patients with no address on file", rowsOf.Keys);

        // The address item opens the patient's details to edit.
        // The session's authorization is checked by a message of its own, so the patient may have a second item (no
        // authorization) on the page before: wait for the filter to leave the address group alone on the page.
        await page.GetByTestId("summary-missing-address").ClickAsync();
        await Expect(page.GetByTestId("worklist").GetByText("Ask the payer to extend the authorization")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("worklist").GetByText("Insured patients with no address on file")).ToBeVisibleAsync();
        var row = page.GetByTestId("worklist").Locator("tr", new() { HasText = "Waltraud Eskeland" });
        await Expect(row.GetByTestId("resolve")).ToHaveAttributeAsync("href", $"/patients/{patient}?edit=details");
        await row.GetByTestId("resolve").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/patients/{patient}\\?edit=details$"));
    }

    [Fact]
    public async Task a_remittance_cut_short_shows_on_the_list_and_the_worklist_until_the_same_file_is_uploaded_again()
    {
        var (api, patient) = await PatientAsync("Rasmus", "Oldervik");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77003", "primary", "GRP-1", ActiveFrom: Today.AddDays(-200)));
        var served = Today.AddDays(-15);
        var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), served, 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["insurance"]));
        var claim = await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, DemoIds.BluePrairie, [charge.SessionId]));
        var trace = $"CUT{Guid.NewGuid():N}"[..16];
        var text = Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 300m, Today,
            [new Remittance835Builder.Clp(claim.ControlNumber, "1", 450m, 300m, 0m, new Remittance835Builder.Svc("96365", 450m, 300m, served, null, ("CO", "45", 150m)))]);

        // What an upload cut short by a crash leaves: the trace claimed for this content, nothing recorded after it.
        var remittance = KetamineBilling.Features.Remittances.Remittance835Reader.Read(KetamineBilling.Features.Claims.X12.X12Reader.Read(text)).Single();
        var id = KetamineBilling.Features.Remittances.ImportRemittanceEndpoint.RemittanceId(remittance);
        await using (var session = browser.Services.GetRequiredService<Marten.IDocumentStore>().LightweightSession(KetamineBilling.Features.Demo.DemoSeeder.Lakeside))
        {
            session.Events.StartStream<KetamineBilling.Features.Remittances.Remittance>(id, new KetamineBilling.Features.Remittances.RemittancePostingStarted(id,
                remittance.PayerName, remittance.PayerIdentifier, DemoIds.BluePrairie, trace, remittance.PaymentMethod, remittance.PaymentAmount, remittance.PaymentDate,
                KetamineBilling.Features.Remittances.RemittanceContentHash.Of(remittance), 1, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await browser.CaughtUpAsync();

        var page = await browser.SignedInAsync("billing@demo.test", "/reconciliation");
        await page.GetByTestId("summary-remittance-incomplete").ClickAsync();
        var row = page.GetByTestId("worklist").Locator("tr", new() { HasText = trace });
        await Expect(row).ToContainTextAsync("Upload the same 835 file again");
        await row.GetByTestId("resolve").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/remittances$"));
        await BrowserFixture.LiveAsync(page);
        var listed = page.GetByTestId("remittances").Locator("tr", new() { HasText = trace });
        await Expect(listed.GetByTestId("remittance-incomplete")).ToBeVisibleAsync();

        var file = Path.Combine(Path.GetTempPath(), $"{trace}.835");
        await File.WriteAllTextAsync(file, text, TestContext.Current.CancellationToken);
        await page.Locator("input[type=file]").SetInputFilesAsync(file);
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync("1 claim(s) posted (1 lines)", new() { Timeout = 20_000 });
        await Expect(listed.GetByTestId("remittance-incomplete")).ToHaveCountAsync(0);
        await Expect(listed).ToContainTextAsync("300.00");
    }
}
