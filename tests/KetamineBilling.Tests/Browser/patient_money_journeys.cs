using System.Net.Http.Json;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>
/// Issue 15, the patient account's money screens: void a session, reverse a bounced check or chargeback, discounts, payment plans,
/// letters of medical necessity and out-of-network reimbursements. Each journey sets up its own patient through the API, does the
/// happy path and one refused input in the browser, and checks the effect (or that nothing was written) through the API.
/// </summary>
[Collection("browser")]
public class patient_money_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A new self-pay patient with one session (96365 + J3490: $510.00 less the $60.00 cash-price discount, $450.00 owed).</summary>
    private async Task<(HttpClient Api, Guid Patient, Guid Session)> PatientAsync(string first, string last, int daysAgo = 0)
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient(first, last, new DateOnly(1984, 5, 6), null, null))).Id;
        var session = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions", new DeliverSession(Guid.NewGuid(), Today.AddDays(-daysAgo), 45,
            "main-clinic", [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)], ["F33.2"], "dr-patel", ["self-pay"]));
        return (api, patient, session.SessionId);
    }

    private static async Task<T> GetAsync<T>(HttpClient api, string url) => (await api.GetFromJsonAsync<T>(url, ClientCommands.Json, Ct))!;

    private static Task<PatientBalance> BalanceAsync(HttpClient api, Guid patient) => GetAsync<PatientBalance>(api, $"/api/patients/{patient}/balance");

    /// <summary>The message MudBlazor shows under the field whose input carries the test id.</summary>
    private static ILocator FieldError(IPage page, string testId) =>
        page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId(testId) }).Locator(".mud-input-helper-text");

    private static ILocator Dialog(IPage page) => page.Locator(".mud-dialog");

    private static async Task MoreAsync(IPage page, string item)
    {
        await page.GetByTestId("more-actions").ClickAsync();
        await page.GetByTestId(item).ClickAsync();
    }

    private static string Date(DateOnly day) => Fmt.Date(day);

    /// <summary>The patient's account, once it has loaded (the first page of a run waits for a cold server).</summary>
    private async Task<IPage> OpenAsync(Guid patient)
    {
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");
        await Expect(page.GetByTestId("patient-name")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        return page;
    }

    [Fact]
    public async Task voiding_a_session_shows_what_it_releases_refuses_no_reason_and_turns_what_was_paid_into_credit()
    {
        var (api, patient, session) = await PatientAsync("Ottilie", "Wrenfield");
        await ClientCommands.PostAsync<PaymentResult>(api, $"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "card", 200m, Today, "VISA 4242"));

        var page = await OpenAsync(patient);
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("250.00");
        await page.AssertAccessibleAsync("the patient account");
        await MoreAsync(page, "void-session");
        var dialog = Dialog(page);
        await Expect(dialog.GetByTestId("release-charge")).ToContainTextAsync("$510.00 is reversed, with its $60.00 of discounts and adjustments");
        await Expect(dialog.GetByTestId("release-credit")).ToContainTextAsync("$200.00 the patient paid on it becomes unapplied credit");
        await Expect(dialog.GetByTestId("release-patient")).ToContainTextAsync("no longer owes $250.00");
        await page.AssertAccessibleAsync("the void-a-session dialog");

        // No reason: the API's rule at the field, nothing voided.
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "void-reason")).ToHaveTextAsync("Reason is required");
        Assert.False((await BalanceAsync(api, patient)).Sessions.Single(s => s.SessionId == session).Voided);

        await dialog.GetByTestId("void-reason").FillAsync("Entered on the wrong patient");
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("credit")).ToContainTextAsync("200.00");
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("0.00");

        var balance = await BalanceAsync(api, patient);
        var voided = balance.Sessions.Single(s => s.SessionId == session);
        Assert.Equal((true, "Entered on the wrong patient"), (voided.Voided, voided.VoidReason));
        Assert.Equal((200m, 0m), (balance.UnappliedCredit, balance.PatientDue));
    }

    [Fact]
    public async Task a_bounced_check_is_reversed_from_the_payments_tab_and_a_future_date_is_refused_at_the_field()
    {
        var (api, patient, _) = await PatientAsync("Bartholomew", "Quince");
        var check = await ClientCommands.PostAsync<PaymentResult>(api, $"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "check", 300m, Today, "Check 1042"));

        var page = await OpenAsync(patient);
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("150.00");
        await MoreAsync(page, "reverse-payment"); // shows the Payments tab, where each payment has its Reverse button
        var row = page.GetByTestId("payments-table").Locator("tr", new() { HasText = "Check 1042" });
        await Expect(row).ToContainTextAsync("$300.00");
        await page.AssertAccessibleAsync("the payments tab");

        await row.GetByTestId($"reverse-{check.PaymentId}").ClickAsync();
        var dialog = Dialog(page);
        await Expect(dialog.GetByTestId("reverse-payment-summary")).ToContainTextAsync("Check payment of $300.00");
        await Expect(dialog.GetByTestId("reverse-effects")).ToContainTextAsync($"$300.00 it paid on {Date(Today)} is owed again");
        await page.AssertAccessibleAsync("the reverse-a-payment dialog");

        // A reversal dated in the future: the API refuses it, at the date.
        await dialog.GetByTestId("reversed-on").FillAsync(Date(Today.AddDays(5)));
        await dialog.GetByTestId("reverse-reason").FillAsync("NSF, returned by the bank");
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "reversed-on")).ToHaveTextAsync("Reversed on must not be in the future");
        Assert.False((await GetAsync<AccountPage<PaymentView>>(api, $"/api/patients/{patient}/payments")).Items.Single().Reversed);

        await dialog.GetByTestId("reversed-on").FillAsync(Date(Today));
        await dialog.GetByTestId("reverse-reason").ClickAsync();
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
        await Expect(page.GetByTestId($"payment-reversed-{check.PaymentId}")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("450.00");

        Assert.True((await GetAsync<AccountPage<PaymentView>>(api, $"/api/patients/{patient}/payments")).Items.Single().Reversed);
        var ledger = await GetAsync<PatientLedger>(api, $"/api/patients/{patient}/ledger");
        Assert.Contains(ledger.Entries, e => e.Description.Contains("Bounced check: NSF, returned by the bank", StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_sliding_scale_discount_by_income_band_needs_a_reason_and_the_cash_price_discount_is_listed()
    {
        var (api, patient, session) = await PatientAsync("Marisol", "Fairweather");
        var page = await OpenAsync(patient);
        await page.GetByRole(AriaRole.Tab, new() { Name = "Payments" }).ClickAsync();
        await Expect(page.GetByTestId("discounts-table")).ToContainTextAsync("Cash price (self-pay)");

        await MoreAsync(page, "discount");
        var dialog = Dialog(page);
        await dialog.GetByTestId("discount-basis").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { NameRegex = new Regex("Sliding scale") }).ClickAsync();
        await dialog.GetByTestId("discount-band").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { NameRegex = new Regex("201-300% .*30% off") }).ClickAsync();
        await page.AssertAccessibleAsync("the discount dialog, sliding scale");

        // No reason: the API's rule at the field, nothing granted.
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "discount-reason")).ToHaveTextAsync("Reason is required");
        Assert.Equal(1L, (await GetAsync<AccountPage<DiscountView>>(api, $"/api/patients/{patient}/discounts")).TotalCount);

        await dialog.GetByTestId("discount-reason").FillAsync("Household income at 250% of the guideline");
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("315.00");
        await Expect(page.GetByTestId("discounts-table")).ToContainTextAsync("Sliding scale, income 201-300% of the poverty guideline (30%)");

        var discounts = await GetAsync<AccountPage<DiscountView>>(api, $"/api/patients/{patient}/discounts");
        var sliding = Assert.Single(discounts.Items, d => d.Basis == DiscountBasis.SlidingScale);
        Assert.Equal(("fpg-201-300", 135.00m), (sliding.IncomeBand, sliding.Total));
        Assert.Equal(315.00m, (await BalanceAsync(api, patient)).Sessions.Single(s => s.SessionId == session).PatientDue);
    }

    [Fact]
    public async Task a_payment_plan_over_what_is_owed_is_refused_then_agreed_and_an_instalment_is_paid_through_the_payment_form()
    {
        var (api, patient, _) = await PatientAsync("Cornelius", "Ashdown");
        var page = await OpenAsync(patient);
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("450.00");
        await MoreAsync(page, "agree-plan");
        var dialog = Dialog(page);
        await Expect(dialog.GetByTestId("plan-sum")).ToContainTextAsync("$450.00");
        await page.AssertAccessibleAsync("the payment plan dialog");

        // More than the patient owes: the API refuses it, at the total.
        await dialog.GetByTestId("plan-total").FillAsync("900");
        await dialog.GetByTestId("plan-spread").ClickAsync();
        await Expect(dialog.GetByTestId("instalment-amount-0")).ToHaveValueAsync("300.00");
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "plan-total")).ToContainTextAsync("more than the $450.00 the patient owes");
        Assert.Empty(await GetAsync<List<PaymentPlanView>>(api, $"/api/patients/{patient}/payment-plans"));

        await dialog.GetByTestId("plan-total").FillAsync("450");
        await dialog.GetByTestId("plan-spread").ClickAsync();
        await Expect(dialog.GetByTestId("instalment-amount-2")).ToHaveValueAsync("150.00");
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);

        await page.GetByRole(AriaRole.Tab, new() { Name = "Payment plans" }).ClickAsync();
        await Expect(page.GetByTestId("plan-0-status-1")).ToHaveTextAsync("upcoming");
        // The "plan agreed" snackbar fades in and out: axe reads its colors mid-fade, so the tab is checked once it has gone.
        await Expect(page.Locator(".mud-snackbar")).ToHaveCountAsync(0, new() { Timeout = 20_000 });
        await page.AssertAccessibleAsync("the payment plans tab");
        await page.GetByTestId("plan-0-pay-1").ClickAsync();
        await Expect(Dialog(page).GetByTestId("payment-for")).ToContainTextAsync("Instalment 1 of the plan agreed");
        await Expect(Dialog(page).GetByTestId("amount")).ToHaveValueAsync("150.00");
        await page.AssertAccessibleAsync("the pay-an-instalment dialog");
        await Dialog(page).GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("plan-0-status-1")).ToHaveTextAsync("paid");
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("300.00");

        var plan = Assert.Single(await GetAsync<List<PaymentPlanView>>(api, $"/api/patients/{patient}/payment-plans"));
        Assert.Equal((450m, 150m), (plan.Total, plan.PaidSinceAgreed));
        Assert.Equal(["paid", "upcoming", "upcoming"], plan.Instalments.Select(i => i.Status));
        Assert.Equal(plan.Instalments.Select(i => Today.AddMonths(1).AddMonths(i.Number - 1)), plan.Instalments.Select(i => i.DueOn));
    }

    [Fact]
    public async Task a_missed_instalment_shows_on_its_plan()
    {
        var (api, patient, _) = await PatientAsync("Philippa", "Marchbank", daysAgo: 45);
        await ClientCommands.PostAsync<PaymentPlanView>(api, $"/api/patients/{patient}/payment-plans", new AgreePaymentPlan(Guid.NewGuid(), Today.AddDays(-40),
            [new InstalmentInput(Today.AddDays(-10), 200m), new InstalmentInput(Today.AddDays(20), 250m)]));

        var page = await OpenAsync(patient);
        await page.GetByRole(AriaRole.Tab, new() { Name = "Payment plans" }).ClickAsync();
        await Expect(page.GetByTestId("plan-0-missed")).ToHaveTextAsync("1 missed");
        await Expect(page.GetByTestId("plan-0-status-1")).ToHaveTextAsync("missed");
        await Expect(page.GetByTestId("plan-0-status-2")).ToHaveTextAsync("upcoming");
        await Expect(page.GetByTestId("plan-0-pay-1")).ToHaveTextAsync("Pay $200.00");
        Assert.Equal(1, Assert.Single(await GetAsync<List<PaymentPlanView>>(api, $"/api/patients/{patient}/payment-plans")).MissedInstalments);
    }

    [Fact]
    public async Task a_letter_of_medical_necessity_is_recorded_from_its_tab_and_shows_its_validity_and_the_fsa_payment_it_covers()
    {
        var (api, patient, _) = await PatientAsync("Evander", "Holloway");
        // The day read once: a run that crosses the clinic's midnight must not compare two different days.
        var today = Today;
        await ClientCommands.PostAsync<PaymentResult>(api, $"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "fsa", 450m, today, "FSA card"));

        var page = await OpenAsync(patient);
        await page.GetByRole(AriaRole.Tab, new() { Name = "Letters" }).ClickAsync();
        await Expect(page.GetByTestId("letters-table")).ToContainTextAsync("No letter of medical necessity on file.");
        await page.AssertAccessibleAsync("the letters tab");
        await page.GetByTestId("letters-record").ClickAsync();
        var dialog = Dialog(page);
        await Expect(dialog.GetByTestId("letter-treatment")).ToHaveValueAsync("IV ketamine infusions");
        await page.AssertAccessibleAsync("the letter dialog");

        // No condition: the API's rule at the field, nothing recorded.
        await dialog.GetByTestId("letter-frequency").FillAsync("Six infusions over three weeks");
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "letter-condition")).ToHaveTextAsync("Condition treated is required");
        Assert.Equal(0L, (await GetAsync<AccountPage<LetterView>>(api, $"/api/patients/{patient}/medical-necessity-letters")).TotalCount);

        await dialog.GetByTestId("letter-condition").FillAsync("Treatment-resistant depression");
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
        var letter = Assert.Single((await GetAsync<AccountPage<LetterView>>(api, $"/api/patients/{patient}/medical-necessity-letters")).Items);
        await Expect(page.GetByTestId($"letter-status-{letter.LetterId}")).ToHaveTextAsync("valid");
        await Expect(page.GetByTestId($"letter-covers-{letter.LetterId}")).ToContainTextAsync($"FSA $450.00 received {Date(today)}, for {Date(today)}");

        Assert.Equal(("valid", "Treatment-resistant depression"), (letter.Status, letter.Condition));
        Assert.Equal(450m, Assert.Single(letter.Covers).Amount);
        Assert.DoesNotContain((await BalanceAsync(api, patient)).Alerts, a => a.Kind == "fsa-without-letter");
    }

    [Fact]
    public async Task an_out_of_network_reimbursement_needs_its_sessions_and_is_listed_without_touching_the_balance()
    {
        var (api, patient, session) = await PatientAsync("Rosalind", "Thackeray");
        var page = await OpenAsync(patient);
        await MoreAsync(page, "report-oon");
        var dialog = Dialog(page);
        await dialog.GetByTestId("reimbursement-payer").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Lakeshore Mutual" }).ClickAsync();
        await dialog.GetByTestId("reimbursement-amount").FillAsync("280");
        await page.AssertAccessibleAsync("the out-of-network reimbursement dialog");

        // No session named: the API's rule under the sessions, nothing recorded.
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(dialog.GetByTestId("reimbursement-sessions-error")).ToHaveTextAsync("Sessions must name the sessions the insurer reimbursed");
        Assert.Equal(0L, (await GetAsync<AccountPage<ReimbursementView>>(api, $"/api/patients/{patient}/out-of-network-reimbursements")).TotalCount);

        await dialog.GetByRole(AriaRole.Checkbox).First.CheckAsync();
        await dialog.GetByTestId("save").ClickAsync();
        await Expect(dialog).ToHaveCountAsync(0);
        await page.GetByRole(AriaRole.Tab, new() { Name = "Payments" }).ClickAsync();
        await Expect(page.GetByTestId("reimbursements-table").Locator("tr", new() { HasText = "Lakeshore Mutual" })).ToContainTextAsync("$280.00");

        var reported = Assert.Single((await GetAsync<AccountPage<ReimbursementView>>(api, $"/api/patients/{patient}/out-of-network-reimbursements")).Items);
        Assert.Equal((280m, Today), (reported.Amount, reported.ReceivedOn));
        Assert.Equal([session], reported.SessionIds);
        Assert.Equal(450m, (await BalanceAsync(api, patient)).PatientDue);
    }
}
