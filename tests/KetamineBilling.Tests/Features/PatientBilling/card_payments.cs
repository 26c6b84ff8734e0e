using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Tests.Infrastructure;
using static KetamineBilling.Tests.Infrastructure.ProcessorEvents;
using Stripe;

namespace KetamineBilling.Tests.Features.PatientBilling;

/// <summary>
/// Card payments through the processor (Stripe): the payment page opens a hosted payment through the official library (to a
/// local fake of Stripe's API), and the processor's signed webhooks, verified with the library, record the payment once.
/// </summary>
public class card_payments(AppFixture fixture) : IntegrationContext(fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _email = $"pay.{Guid.NewGuid():N}@patients.test";

    private HttpClient Browser() =>
        new(new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler { InnerHandler = Fixture.Host.Server.CreateHandler() })
        {
            BaseAddress = new Uri(AppFixture.PublicBaseUrl)
        };

    private static string AntiforgeryToken(string html) =>
        WebUtility.HtmlDecode(Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value);

    /// <summary>A patient owing $450.00, sent a statement; the payment page opened past the date of birth.</summary>
    private async Task<(Guid Patient, Guid Statement, HttpClient Browser, string Path, string Page)> StatementOpenedAsync()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = (await Fixture.Post<PatientCreated>("/api/patients", new RegisterPatient("Vera", "Castellanos", new DateOnly(1971, 6, 9), _email, null))).Id;
        await Fixture.DeliveredSession(patient, Scenarios.Session());
        var run = await Fixture.AndWaitForCascades(() => Fixture.Post<StatementRunView>("/api/statement-runs", new RunStatements(Guid.NewGuid())));
        var statement = (await Fixture.Get<StatementRunView>($"/api/statement-runs/{run.RunId}")).Items!.Single().StatementId;
        var link = new Uri(Regex.Match((await Fixture.Mail.To(_email)).Single().TextBody!, @"https://\S+/pay/\S+").Value);
        var browser = Browser();
        var form = await (await browser.GetAsync(link.PathAndQuery, Ct)).Content.ReadAsStringAsync(Ct);
        var verified = await browser.PostAsync(link.PathAndQuery, new FormUrlEncodedContent([new("__RequestVerificationToken", AntiforgeryToken(form)), new("dob", "1971-06-09")]), Ct);
        Assert.Equal(HttpStatusCode.Redirect, verified.StatusCode);
        return (patient, statement, browser, link.PathAndQuery, await (await browser.GetAsync(link.PathAndQuery, Ct)).Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task the_patient_pays_the_statement_by_card_and_the_signed_webhook_records_the_payment_once()
    {
        var (patient, statement, browser, path, page) = await StatementOpenedAsync();
        using var _ = browser;
        Assert.Contains("Pay $450.00 by card", page);

        // The card button: a hosted payment page opened through the library, for what is due, naming no one.
        var checkout = await browser.PostAsync(path + "/checkout", new FormUrlEncodedContent([new("__RequestVerificationToken", AntiforgeryToken(page))]), Ct);
        Assert.Equal(HttpStatusCode.Redirect, checkout.StatusCode);
        Assert.StartsWith("https://checkout.stripe.test/c/pay/cs_test_", checkout.Headers.Location!.ToString());
        var sent = Fixture.Stripe.Requests.Last(r => r.Form.GetValueOrDefault("client_reference_id") == statement.ToString());
        Assert.Equal(("45000", "usd", "payment", patient.ToString(), AppFixture.Clinic), (sent.Form["line_items[0][price_data][unit_amount]"],
            sent.Form["line_items[0][price_data][currency]"], sent.Form["mode"], sent.Form["metadata[patientId]"], sent.Form["metadata[clinic]"]));
        Assert.Equal("Bearer sk_test_fake", sent.Authorization);
        Assert.StartsWith($"checkout-{statement:N}-45000-", sent.IdempotencyKey);
        Assert.DoesNotContain("Castellanos", string.Join(" ", sent.Form.Values));
        Assert.StartsWith($"{AppFixture.PublicBaseUrl}{path}?paid=1", sent.Form["success_url"]);

        // The processor says it was paid: a card payment on the account, applied to what was due.
        var paid = Signed(EventTypes.CheckoutSessionCompleted, CheckoutCompleted("pi_test_vera", 45000, patient, statement));
        var first = await Fixture.DeliverAsync(paid);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Contains("recorded: card payment", first.Body);
        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal((0m, 450m), (balance.PatientDue, balance.TotalPaid));
        var payments = (await Fixture.Get<AccountPage<PaymentView>>($"/api/patients/{patient}/payments")).Items;
        var payment = Assert.Single(payments);
        Assert.Equal((CardProcessor.PaymentIdOf("pi_test_vera"), KetamineBilling.Features.Patients.PaymentMethod.Card, 450m, "card pi_test_vera"), (payment.PaymentId, payment.Method, payment.Amount, payment.Reference));

        // Delivered again, or reported again by another event of the same payment: nothing more.
        Assert.Contains("\"duplicate\":true", (await Fixture.DeliverAsync(paid)).Body);
        var succeeded = Signed(EventTypes.PaymentIntentSucceeded, new Dictionary<string, object?>
        {
            ["id"] = "pi_test_vera", ["object"] = "payment_intent", ["amount"] = 45000, ["amount_received"] = 45000, ["currency"] = "usd", ["status"] = "succeeded",
            ["metadata"] = new Dictionary<string, string> { ["clinic"] = AppFixture.Clinic, ["patientId"] = patient.ToString(), ["statementId"] = statement.ToString() }
        });
        Assert.Contains("already recorded", (await Fixture.DeliverAsync(succeeded)).Body);
        Assert.Single((await Fixture.Get<AccountPage<PaymentView>>($"/api/patients/{patient}/payments")).Items);

        // Back on the payment page: nothing is due.
        var after = await (await browser.GetAsync(path + "?paid=1", Ct)).Content.ReadAsStringAsync(Ct);
        Assert.Contains("Nothing is due now", after);
        Assert.Contains("data-testid=\"pay-thanks\"", after);
    }

    [Fact]
    public async Task an_event_without_the_processors_valid_signature_or_too_old_or_for_no_clinic_changes_nothing()
    {
        var patient = await Fixture.RegisteredPatient("Wes", "Unsigned");
        var data = CheckoutCompleted("pi_test_forged", 10000, patient, Guid.NewGuid());
        var good = Signed(EventTypes.CheckoutSessionCompleted, data);
        var forged = (good.Json.Replace("10000", "99999", StringComparison.Ordinal), good.Signature);
        var (status, body) = await Fixture.DeliverAsync(forged);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Stripe-Signature", body);
        Assert.Equal(HttpStatusCode.BadRequest, (await Fixture.DeliverAsync((good.Json, EventUtility.GenerateSignatureHeader(good.Json, "whsec_someone_else")))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Fixture.DeliverAsync(Signed(EventTypes.CheckoutSessionCompleted, data, DateTimeOffset.UtcNow.AddMinutes(-10)))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Fixture.DeliverAsync(good, "no_such_clinic")).Status);
        Assert.Empty((await Fixture.Get<AccountPage<PaymentView>>($"/api/patients/{patient}/payments")).Items);

        // A type the platform does not act on is taken in and ignored (the processor stops sending it again).
        var other = await Fixture.DeliverAsync(Signed("customer.created", new Dictionary<string, object?> { ["id"] = "cus_test_1", ["object"] = "customer" }));
        Assert.Equal(HttpStatusCode.OK, other.Status);
        Assert.Contains("ignored", other.Body);
    }

    [Fact]
    public async Task a_refund_and_a_dispute_through_the_processor_move_the_account_and_an_open_dispute_waits_on_the_worklist()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Ola", "Brennan");
        await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: Scenarios.ClinicToday.AddDays(-9)));
        await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: Scenarios.ClinicToday.AddDays(-2)));
        var statement = Guid.NewGuid();
        Assert.Contains("recorded", (await Fixture.DeliverAsync(Signed(EventTypes.CheckoutSessionCompleted, CheckoutCompleted("pi_test_ola_a", 45000, patient, statement)))).Body);
        Assert.Contains("recorded", (await Fixture.DeliverAsync(Signed(EventTypes.CheckoutSessionCompleted, CheckoutCompleted("pi_test_ola_b", 45000, patient, statement)))).Body);
        Assert.Equal(0m, (await Fixture.BalanceOf(patient)).PatientDue);

        // $100.00 of the first payment refunded in the processor's dashboard: back to the card, and owed again.
        var refunded = new Dictionary<string, object?>
        {
            ["id"] = "ch_pi_test_ola_a", ["object"] = "charge", ["amount"] = 45000, ["amount_refunded"] = 10000, ["currency"] = "usd",
            ["payment_intent"] = "pi_test_ola_a", ["paid"] = true, ["refunded"] = false, ["status"] = "succeeded"
        };
        Assert.Contains("recorded: $100.00 refunded", (await Fixture.DeliverAsync(Signed(EventTypes.ChargeRefunded, refunded))).Body);
        Assert.Contains("already recorded", (await Fixture.DeliverAsync(Signed(EventTypes.ChargeRefunded, refunded))).Body);
        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal((100m, 100m, 0m), (balance.PatientDue, balance.TotalRefunded, balance.UnappliedCredit));

        // The second is disputed by the cardholder's bank: reversed, owed again, and on the worklist until it is decided.
        var due = DateTimeOffset.UtcNow.AddDays(12);
        Assert.Contains("reversed by dispute", (await Fixture.DeliverAsync(Signed(EventTypes.ChargeDisputeCreated, Dispute("dp_test_ola", "pi_test_ola_b", 45000, "needs_response", due)))).Body);
        Assert.Equal(550m, (await Fixture.BalanceOf(patient)).PatientDue);
        var item = Assert.Single((await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=card-dispute")).Items);
        Assert.Equal(("card-dispute:dp_test_ola", patient, 450m, "pi_test_ola_b"), (item.Key, item.PatientId, item.Amount, item.Reference));
        Assert.Contains(KetamineBilling.Features.Ui.Fmt.Date(DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(due, TimeZoneInfo.FindSystemTimeZoneById("America/Chicago")).DateTime)), item.Resolution);
        Assert.Equal($"/patients/{patient}", item.Fix);

        // Won: the money is back as a card payment of its own, and the item is gone.
        Assert.Contains("won", (await Fixture.DeliverAsync(Signed(EventTypes.ChargeDisputeClosed, Dispute("dp_test_ola", "pi_test_ola_b", 45000, "won", due)))).Body);
        Assert.Equal(100m, (await Fixture.BalanceOf(patient)).PatientDue);
        Assert.Empty((await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=card-dispute")).Items);
        Assert.Contains("already recorded", (await Fixture.DeliverAsync(Signed(EventTypes.ChargeDisputeClosed, Dispute("dp_test_ola", "pi_test_ola_b", 45000, "won", due)))).Body);

        // A refund of a payment a dispute took back has nothing to return: refused, and the account is as it was.
        Assert.Contains("already recorded", (await Fixture.DeliverAsync(Signed(EventTypes.ChargeDisputeCreated, Dispute("dp_test_ola", "pi_test_ola_b", 45000, "needs_response", due)))).Body);
        var late = new Dictionary<string, object?>(refunded) { ["id"] = "ch_pi_test_ola_b", ["payment_intent"] = "pi_test_ola_b", ["amount_refunded"] = 5000 };
        Assert.Contains("refused", (await Fixture.DeliverAsync(Signed(EventTypes.ChargeRefunded, late))).Body);
        Assert.Equal(100m, (await Fixture.BalanceOf(patient)).PatientDue);
    }
}
