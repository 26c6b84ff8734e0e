using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
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

    /// <summary>A processor event as Stripe sends it: JSON with the library's API version, signed with the clinic's secret.</summary>
    private static (string Json, string Signature) Signed(string type, object dataObject, DateTimeOffset? at = null, string? id = null)
    {
        var created = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var json = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = id ?? $"evt_test_{Guid.NewGuid():N}", ["object"] = "event", ["api_version"] = StripeConfiguration.ApiVersion, ["created"] = created,
            ["type"] = type, ["livemode"] = false, ["pending_webhooks"] = 1, ["request"] = new { id = (string?)null, idempotency_key = (string?)null },
            ["data"] = new { @object = dataObject }
        });
        return (json, EventUtility.GenerateSignatureHeader(json, AppFixture.StripeWebhookSecret, created));
    }

    private async Task<(HttpStatusCode Status, string Body)> Deliver((string Json, string Signature) evt, string clinic = AppFixture.Clinic)
    {
        using var client = Fixture.Host.Server.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/stripe/{clinic}") { Content = new StringContent(evt.Json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Stripe-Signature", evt.Signature);
        var response = await client.SendAsync(request, Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    private static object CheckoutCompleted(string paymentIntent, long cents, Guid patient, Guid statement) => new Dictionary<string, object?>
    {
        ["id"] = $"cs_test_{Guid.NewGuid():N}", ["object"] = "checkout.session", ["mode"] = "payment", ["status"] = "complete", ["payment_status"] = "paid",
        ["amount_total"] = cents, ["currency"] = "usd", ["payment_intent"] = paymentIntent, ["client_reference_id"] = statement.ToString(),
        ["metadata"] = new Dictionary<string, string> { ["clinic"] = AppFixture.Clinic, ["patientId"] = patient.ToString(), ["statementId"] = statement.ToString() }
    };

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
        var first = await Deliver(paid);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Contains("recorded: card payment", first.Body);
        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal((0m, 450m), (balance.PatientDue, balance.TotalPaid));
        var payments = (await Fixture.Get<AccountPage<PaymentView>>($"/api/patients/{patient}/payments")).Items;
        var payment = Assert.Single(payments);
        Assert.Equal((CardProcessor.PaymentIdOf("pi_test_vera"), KetamineBilling.Features.Patients.PaymentMethod.Card, 450m, "card pi_test_vera"), (payment.PaymentId, payment.Method, payment.Amount, payment.Reference));

        // Delivered again, or reported again by another event of the same payment: nothing more.
        Assert.Contains("\"duplicate\":true", (await Deliver(paid)).Body);
        var succeeded = Signed(EventTypes.PaymentIntentSucceeded, new Dictionary<string, object?>
        {
            ["id"] = "pi_test_vera", ["object"] = "payment_intent", ["amount"] = 45000, ["amount_received"] = 45000, ["currency"] = "usd", ["status"] = "succeeded",
            ["metadata"] = new Dictionary<string, string> { ["clinic"] = AppFixture.Clinic, ["patientId"] = patient.ToString(), ["statementId"] = statement.ToString() }
        });
        Assert.Contains("already recorded", (await Deliver(succeeded)).Body);
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
        var (status, body) = await Deliver(forged);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Stripe-Signature", body);
        Assert.Equal(HttpStatusCode.BadRequest, (await Deliver((good.Json, EventUtility.GenerateSignatureHeader(good.Json, "whsec_someone_else")))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Deliver(Signed(EventTypes.CheckoutSessionCompleted, data, DateTimeOffset.UtcNow.AddMinutes(-10)))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Deliver(good, "no_such_clinic")).Status);
        Assert.Empty((await Fixture.Get<AccountPage<PaymentView>>($"/api/patients/{patient}/payments")).Items);

        // A type the platform does not act on is taken in and ignored (the processor stops sending it again).
        var other = await Deliver(Signed("customer.created", new Dictionary<string, object?> { ["id"] = "cus_test_1", ["object"] = "customer" }));
        Assert.Equal(HttpStatusCode.OK, other.Status);
        Assert.Contains("ignored", other.Body);
    }
}
