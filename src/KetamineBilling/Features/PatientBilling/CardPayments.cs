using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Stripe;
using Stripe.Checkout;

namespace KetamineBilling.Features.PatientBilling;

/// <summary>
/// The card processor (Stripe) of each clinic: <c>Stripe:SecretKey</c> and <c>Stripe:WebhookSecret</c> for every clinic, or
/// <c>Stripe:Clinics:{code}:SecretKey</c> and <c>...:WebhookSecret</c> for a clinic with an account of its own. <c>Stripe:ApiBase</c>
/// points the official library at another address (the tests' local fake of Stripe's API). A clinic without a key takes no
/// card payments online: its payment page says to call.
/// </summary>
public sealed class CardProcessor(IConfiguration configuration, IHttpClientFactory http)
{
    public sealed record Account(string SecretKey, string? WebhookSecret);

    public Account? AccountOf(string clinic)
    {
        var own = configuration.GetSection($"Stripe:Clinics:{clinic}");
        var key = own["SecretKey"] is { Length: > 0 } k ? k : configuration["Stripe:SecretKey"];
        var secret = own["WebhookSecret"] is { Length: > 0 } s ? s : configuration["Stripe:WebhookSecret"];
        return key is { Length: > 0 } ? new Account(key, secret is { Length: > 0 } ? secret : null) : null;
    }

    public string? WebhookSecretOf(string clinic) => AccountOf(clinic)?.WebhookSecret;

    public IStripeClient? ClientOf(string clinic) => AccountOf(clinic) is not { } account
        ? null
        : new StripeClient(new StripeClientOptions
        {
            ApiKey = account.SecretKey,
            ApiBase = configuration["Stripe:ApiBase"] is { Length: > 0 } apiBase ? apiBase : StripeClient.DefaultApiBase,
            HttpClient = new SystemNetHttpClient(http.CreateClient("stripe"), maxNetworkRetries: 2, enableTelemetry: false)
        });

    /// <summary>Money as the processor counts it (cents) and back.</summary>
    public static long Cents(decimal amount) => (long)decimal.Round(amount * 100m, 0, MidpointRounding.AwayFromZero);

    public static decimal Dollars(long cents) => cents / 100m;

    /// <summary>The platform's payment id for a processor payment (its PaymentIntent): the same however often it is reported.</summary>
    public static Guid PaymentIdOf(string paymentIntentId)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"stripe|{paymentIntentId}"));
        hash[7] = (byte)((hash[7] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16));
    }

    /// <summary>
    /// A hosted payment page (Stripe Checkout) for what the patient owes now, at most the statement's amount's due: its address to
    /// send the patient to. The processor sees an opaque statement reference, never a name, a service or a diagnosis. The same
    /// statement, amount and day make the same request (the processor's idempotency key), so a double click opens one page.
    /// </summary>
    public static async Task<Uri> StartCheckoutAsync(
        IStripeClient client, string clinic, string clinicName, Guid patientId, Guid statementId, decimal amount, Uri returnTo, DateOnly today, CancellationToken ct)
    {
        var metadata = new Dictionary<string, string> { ["clinic"] = clinic, ["patientId"] = patientId.ToString(), ["statementId"] = statementId.ToString() };
        var session = await new SessionService(client).CreateAsync(new SessionCreateOptions
        {
            Mode = "payment",
            SuccessUrl = returnTo + "?paid=1",
            CancelUrl = returnTo.ToString(),
            ClientReferenceId = statementId.ToString(),
            Metadata = metadata,
            PaymentIntentData = new SessionPaymentIntentDataOptions { Metadata = metadata, StatementDescriptorSuffix = null },
            LineItems =
            [
                new SessionLineItemOptions
                {
                    Quantity = 1,
                    PriceData = new SessionLineItemPriceDataOptions
                    {
                        Currency = "usd", UnitAmount = Cents(amount),
                        ProductData = new SessionLineItemPriceDataProductDataOptions { Name = $"{clinicName}: statement {Patients.Statements.AccountReference(statementId)}" }
                    }
                }
            ]
        }, new RequestOptions { IdempotencyKey = $"checkout-{statementId:N}-{Cents(amount)}-{today:yyyyMMdd}" }, ct);
        return new Uri(session.Url);
    }
}

/// <summary>One processor event taken in, by its id: inserted with its effect, so the same event again is found and does nothing.</summary>
public sealed class ProcessorEventRecord
{
    public string Id { get; set; } = "";
    public string Type { get; set; } = "";
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>What it did (recorded, ignored and why).</summary>
    public string Result { get; set; } = "";
}

/// <summary>A card payment taken through the processor: which account and payment its PaymentIntent is (refunds and disputes name it).</summary>
public sealed class CardPaymentRecord
{
    /// <summary>The processor's PaymentIntent id (pi_...).</summary>
    public string Id { get; set; } = "";
    public Guid PatientId { get; set; }
    public Guid PaymentId { get; set; }
    public Guid? StatementId { get; set; }
    public decimal Amount { get; set; }
    public string? ChargeId { get; set; }
    public DateTimeOffset RecordedAt { get; set; }
}

/// <summary>What a verified processor event does to the clinic's books.</summary>
public static class CardPaymentDecisions
{
    /// <summary>
    /// A paid Checkout session (or a succeeded PaymentIntent) is a card payment on the patient's account, applied to the oldest
    /// open patient amounts (Patients' own decision), once: its payment id is made from the PaymentIntent's.
    /// </summary>
    public static Outcome Paid(PatientAccount account, string paymentIntentId, decimal amount, DateOnly receivedOn, DateTimeOffset now, PaymentOwner? owner) =>
        RecordPaymentEndpoint.Decide(account,
            new RecordPayment(CardProcessor.PaymentIdOf(paymentIntentId), "card", amount, receivedOn, $"card {paymentIntentId}"), now, owner);
}
