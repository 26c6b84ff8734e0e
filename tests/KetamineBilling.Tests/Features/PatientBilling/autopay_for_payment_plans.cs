using System.Net;
using System.Text.RegularExpressions;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Stripe;
using static KetamineBilling.Tests.Infrastructure.ProcessorEvents;

namespace KetamineBilling.Tests.Features.PatientBilling;

/// <summary>
/// Autopay for payment plans: the patient saves a card on the processor's hosted setup page (from the payment page), and each
/// instalment is charged off-session through the official library on its due date; a declined card is tried again, then the
/// instalment is missed and on the worklist.
/// </summary>
public class autopay_for_payment_plans(AppFixture fixture) : IntegrationContext(fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static DateOnly Today => Scenarios.ClinicToday;
    private AutopayService Service => Fixture.Host.Services.GetRequiredService<AutopayService>();

    private static string AntiforgeryToken(string html) =>
        WebUtility.HtmlDecode(Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value);

    /// <summary>A patient owing $450.00 on a plan of three $150.00 instalments, the first due yesterday.</summary>
    private async Task<(Guid Patient, Guid Plan)> OnAPlanAsync(string last, string? email = null)
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = (await Fixture.Post<PatientCreated>("/api/patients", new RegisterPatient("Ida", last, new DateOnly(1975, 4, 2), email, null))).Id;
        await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: Today.AddDays(-20)));
        var plan = Guid.NewGuid();
        await Fixture.Post<PaymentPlanView>($"/api/patients/{patient}/payment-plans", new AgreePaymentPlan(plan, Today.AddDays(-15),
            [new InstalmentInput(Today.AddDays(-1), 150m), new InstalmentInput(Today.AddDays(29), 150m), new InstalmentInput(Today.AddDays(59), 150m)]));
        return (patient, plan);
    }

    /// <summary>The processor's "setup session completed" for the plan, with the card saved as <paramref name="method"/>.</summary>
    private async Task<string> SavedAsync(Guid patient, Guid plan, string method, string last4 = "4242")
    {
        var setup = $"seti_{method}";
        Fixture.Stripe.SavedCard(setup, $"cus_{method}", method, "visa", last4);
        var completed = Signed(EventTypes.CheckoutSessionCompleted, new Dictionary<string, object?>
        {
            ["id"] = $"cs_setup_{method}", ["object"] = "checkout.session", ["mode"] = "setup", ["status"] = "complete", ["payment_status"] = "no_payment_required",
            ["customer"] = $"cus_{method}", ["setup_intent"] = setup,
            ["metadata"] = new Dictionary<string, string> { ["clinic"] = AppFixture.Clinic, ["patientId"] = patient.ToString(), ["planId"] = plan.ToString() }
        });
        return (await Fixture.DeliverAsync(completed)).Body;
    }

    [Fact]
    public async Task the_patient_saves_a_card_from_the_payment_page_and_each_instalment_is_charged_once_on_its_due_date()
    {
        var email = $"ida.{Guid.NewGuid():N}@patients.test";
        var (patient, plan) = await OnAPlanAsync("Autopay", email);

        // The statement's payment page offers autopay for the plan; the button opens the processor's setup page, naming no one.
        await Fixture.AndWaitForCascades(() => Fixture.Post<StatementRunView>("/api/statement-runs", new RunStatements(Guid.NewGuid())));
        var link = new Uri(Regex.Match((await Fixture.Mail.To(email)).Single().TextBody!, @"https://\S+/pay/\S+").Value);
        using var browser = new HttpClient(new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler { InnerHandler = Fixture.Host.Server.CreateHandler() })
        {
            BaseAddress = new Uri(AppFixture.PublicBaseUrl)
        };
        var form = await (await browser.GetAsync(link.PathAndQuery, Ct)).Content.ReadAsStringAsync(Ct);
        await browser.PostAsync(link.PathAndQuery, new FormUrlEncodedContent([new("__RequestVerificationToken", AntiforgeryToken(form)), new("dob", "1975-04-02")]), Ct);
        var page = await (await browser.GetAsync(link.PathAndQuery, Ct)).Content.ReadAsStringAsync(Ct);
        Assert.Contains("$450.00 is left on your payment plan", page);
        var setup = await browser.PostAsync(link.PathAndQuery + "/autopay", new FormUrlEncodedContent([new("__RequestVerificationToken", AntiforgeryToken(page))]), Ct);
        Assert.Equal(HttpStatusCode.Redirect, setup.StatusCode);
        Assert.StartsWith("https://checkout.stripe.test/c/pay/cs_test_", setup.Headers.Location!.ToString());
        var customer = Fixture.Stripe.Requests.Last(r => r.Path == "/v1/customers");
        Assert.Equal((patient.ToString(), plan.ToString()), (customer.Form["metadata[patientId]"], customer.Form["metadata[planId]"]));
        var session = Fixture.Stripe.Requests.Last(r => r.Path == "/v1/checkout/sessions" && r.Form.GetValueOrDefault("mode") == "setup");
        Assert.Equal(plan.ToString(), session.Form["metadata[planId]"]);
        Assert.StartsWith("cus_test_", session.Form["customer"]);
        Assert.DoesNotContain("Autopay", string.Join(" ", customer.Form.Values.Concat(session.Form.Values)));

        // The processor says the card was saved: autopay is on, with the card's brand and last four (asked of the processor).
        Assert.Contains("recorded: autopay", await SavedAsync(patient, plan, "pm_ida_good"));
        Assert.Contains("already recorded", await SavedAsync(patient, plan, "pm_ida_good"));
        var autopay = Assert.Single(await Fixture.Get<List<AutopayView>>($"/api/patients/{patient}/autopay"));
        Assert.Equal((plan, true, "visa", "4242"), (autopay.PlanId, autopay.Active, autopay.CardBrand, autopay.CardLast4));
        Assert.DoesNotContain("Pay my plan automatically", await (await browser.GetAsync(link.PathAndQuery + "?autopay=1", Ct)).Content.ReadAsStringAsync(Ct));

        // The check: yesterday's instalment is charged off-session to the saved card, once; the rest are not due.
        Assert.Equal(1, await Service.CheckAsync(Ct));
        var charge = Fixture.Stripe.Requests.Last(r => r.Path == "/v1/payment_intents");
        Assert.Equal(("15000", "cus_pm_ida_good", "pm_ida_good", "true", "true"), (charge.Form["amount"], charge.Form["customer"], charge.Form["payment_method"],
            charge.Form["off_session"], charge.Form["confirm"]));
        Assert.Equal($"autopay-{AutopayRules.IdOf(plan):N}-1-1", charge.IdempotencyKey);
        Assert.Equal(300m, (await Fixture.BalanceOf(patient)).PatientDue);
        Assert.Equal(0, await Service.CheckAsync(Ct));
        var paid = Assert.Single((await Fixture.Get<List<AutopayView>>($"/api/patients/{patient}/autopay")).Single().Attempts);
        Assert.Equal((1, 1, 150m, true), (paid.Instalment, paid.Attempt, paid.Amount, paid.Paid));
        var payment = Assert.Single((await Fixture.Get<AccountPage<PaymentView>>($"/api/patients/{patient}/payments")).Items);
        Assert.Equal((KetamineBilling.Features.Patients.PaymentMethod.Card, 150m), (payment.Method, payment.Amount));
        Assert.Equal("paid", (await Fixture.Get<List<PaymentPlanView>>($"/api/patients/{patient}/payment-plans")).Single().Instalments[0].Status);

        // The processor's own webhook of that charge changes nothing more.
        var succeeded = Signed(EventTypes.PaymentIntentSucceeded, new Dictionary<string, object?>
        {
            ["id"] = CardProcessorIntent(payment.Reference), ["object"] = "payment_intent", ["amount"] = 15000, ["amount_received"] = 15000, ["currency"] = "usd",
            ["status"] = "succeeded", ["metadata"] = new Dictionary<string, string> { ["patientId"] = patient.ToString() }
        });
        Assert.Contains("already recorded", (await Fixture.DeliverAsync(succeeded)).Body);
        Assert.Equal(300m, (await Fixture.BalanceOf(patient)).PatientDue);
    }

    private static string CardProcessorIntent(string? reference) => reference!["card ".Length..];

    [Fact]
    public async Task a_declined_card_is_tried_again_twice_then_the_instalment_is_missed_on_the_worklist_until_it_is_paid()
    {
        var (patient, plan) = await OnAPlanAsync("Declined");
        Assert.Contains("recorded: autopay", await SavedAsync(patient, plan, "pm_ida_empty", "0341"));
        Fixture.Stripe.Declines("pm_ida_empty", "insufficient_funds");

        Assert.Equal(1, await Service.CheckAsync(Ct));
        Assert.Equal(0, await Service.CheckAsync(Ct, Today.AddDays(2)));
        Assert.Equal(1, await Service.CheckAsync(Ct, Today.AddDays(3)));
        Assert.Equal(1, await Service.CheckAsync(Ct, Today.AddDays(6)));
        Assert.Equal(0, await Service.CheckAsync(Ct, Today.AddDays(9)));
        var attempts = (await Fixture.Get<List<AutopayView>>($"/api/patients/{patient}/autopay")).Single().Attempts;
        Assert.Equal([(1, false, "insufficient_funds", (DateOnly?)Today.AddDays(3)), (2, false, "insufficient_funds", Today.AddDays(6)), (3, false, "insufficient_funds", null)],
            attempts.Select(a => (a.Attempt, a.Paid, a.Reason, a.NextAttemptOn)));
        Assert.Equal(450m, (await Fixture.BalanceOf(patient)).PatientDue);

        var item = Assert.Single((await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=missed-instalment")).Items);
        Assert.Equal(($"missed-instalment:{plan}:1", patient, 150m, Today.AddDays(-1), $"/patients/{patient}"), (item.Key, item.PatientId, item.Amount, item.Since, item.Fix));
        Assert.Contains("ending 0341 was declined 3 times", item.Detail);
        Assert.Contains("insufficient funds", item.Detail);

        // The patient pays at the desk: the instalment is covered and the item goes.
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "cash", 150m, Today, null), 201);
        Assert.Empty((await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=missed-instalment")).Items);
    }

    [Fact]
    public async Task a_processor_that_does_not_answer_records_nothing_and_billing_can_stop_autopay()
    {
        var (patient, plan) = await OnAPlanAsync("Stopped");
        Assert.Contains("recorded: autopay", await SavedAsync(patient, plan, "pm_ida_later"));
        Fixture.Stripe.ProcessorDown = true;
        try
        {
            Assert.Equal(1, await Service.CheckAsync(Ct));
        }
        finally
        {
            Fixture.Stripe.ProcessorDown = false;
        }

        Assert.Empty((await Fixture.Get<List<AutopayView>>($"/api/patients/{patient}/autopay")).Single().Attempts);
        Assert.Equal(450m, (await Fixture.BalanceOf(patient)).PatientDue);

        // Billing stops it before the next check: nothing is charged.
        var refused = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new StopAutopay(" ")).ToUrl($"/api/patients/{patient}/payment-plans/{plan}/autopay/stop");
            s.StatusCodeShouldBe(400);
        });
        Assert.Contains("reason", await refused.ReadAsTextAsync());
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new StopAutopay("patient asked")).ToUrl($"/api/patients/{patient}/payment-plans/{Guid.NewGuid()}/autopay/stop");
            s.StatusCodeShouldBe(404);
        });
        var stopped = await Fixture.Post<AutopayView>($"/api/patients/{patient}/payment-plans/{plan}/autopay/stop", new StopAutopay("The patient asked to pay by phone"), 200);
        Assert.Equal((false, "The patient asked to pay by phone"), (stopped.Active, stopped.StoppedReason));
        Assert.False((await Fixture.Post<AutopayView>($"/api/patients/{patient}/payment-plans/{plan}/autopay/stop", new StopAutopay("again"), 200)).Active);
        Assert.Equal(0, await Service.CheckAsync(Ct));
        Assert.Equal(450m, (await Fixture.BalanceOf(patient)).PatientDue);
    }
}
