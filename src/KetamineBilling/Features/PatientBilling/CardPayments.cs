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
    public static Guid PaymentIdOf(string paymentIntentId) => DeterministicGuid.From(Guid.Empty, $"stripe:{paymentIntentId}");

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

public static class AutopaySetup
{
    /// <summary>
    /// The processor's hosted page where the patient saves a card for the plan's instalments (Checkout in setup mode, for a
    /// processor customer made for the patient: it names no one, its metadata holds the platform's ids). The same plan on the same
    /// day makes the same request.
    /// </summary>
    public static async Task<Uri> StartAsync(IStripeClient client, string clinic, Guid patientId, Guid planId, Uri returnTo, DateOnly today, CancellationToken ct)
    {
        var metadata = new Dictionary<string, string> { ["clinic"] = clinic, ["patientId"] = patientId.ToString(), ["planId"] = planId.ToString() };
        var customer = await new CustomerService(client).CreateAsync(new CustomerCreateOptions { Metadata = metadata },
            new RequestOptions { IdempotencyKey = $"customer-{patientId:N}-{planId:N}" }, ct);
        var session = await new SessionService(client).CreateAsync(new SessionCreateOptions
        {
            Mode = "setup", Currency = "usd", Customer = customer.Id, Metadata = metadata, SetupIntentData = new SessionSetupIntentDataOptions { Metadata = metadata },
            SuccessUrl = returnTo + "?autopay=1", CancelUrl = returnTo.ToString()
        }, new RequestOptions { IdempotencyKey = $"autopay-setup-{planId:N}-{today:yyyyMMdd}" }, ct);
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

// The card payment stream (one per payment taken through the processor, id = the platform's payment id): what the processor
// said happened to it. The patient's account records the money (Patients' own events, made by ProcessorOnAccount).

/// <summary>A card payment taken through the processor and recorded on the patient's account.</summary>
public record CardPaymentTaken(Guid PaymentId, string PaymentIntentId, Guid PatientId, Guid? StatementId, decimal Amount, DateOnly TakenOn, DateTimeOffset RecordedAt);

/// <summary>The processor refunded part or all of it; <paramref name="RefundedTotal"/> is the processor's running total.</summary>
public record CardPaymentRefunded(Guid PaymentId, Guid PatientId, Guid RefundId, decimal Amount, decimal RefundedTotal, DateOnly RefundedOn, DateTimeOffset RecordedAt);

/// <summary>The cardholder's bank disputed it: the processor took the money back (the payment is reversed on the account).</summary>
/// <param name="EvidenceDueBy">The last day to answer the dispute with evidence (the processor's).</param>
public record CardPaymentDisputed(
    Guid PaymentId, Guid PatientId, string DisputeId, decimal Amount, string Reason, DateOnly DisputedOn, DateOnly? EvidenceDueBy, DateTimeOffset RecordedAt);

/// <summary>The dispute was decided: won (the money came back as a new card payment) or lost (the patient owes it again).</summary>
public record CardDisputeClosed(Guid PaymentId, Guid PatientId, string DisputeId, bool Won, Guid? WonBackPaymentId, DateOnly ClosedOn, DateTimeOffset RecordedAt);

public enum DisputeState
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("open")] Open,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("won")] Won,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("lost")] Lost
}

/// <summary>A card payment as the processor left it (inline): its PaymentIntent, account, refunds and dispute.</summary>
public sealed class CardPayment
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public string PaymentIntentId { get; set; } = "";
    public Guid PatientId { get; set; }
    public Guid? StatementId { get; set; }
    public decimal Amount { get; set; }
    public DateOnly TakenOn { get; set; }
    public decimal Refunded { get; set; }
    public string? DisputeId { get; set; }
    public string? DisputeReason { get; set; }
    public decimal DisputedAmount { get; set; }
    public DateOnly? DisputedOn { get; set; }
    public DateOnly? EvidenceDueBy { get; set; }
    public DisputeState? Dispute { get; set; }

    public static CardPayment Create(CardPaymentTaken e) => new()
    {
        Id = e.PaymentId, PaymentIntentId = e.PaymentIntentId, PatientId = e.PatientId, StatementId = e.StatementId, Amount = e.Amount, TakenOn = e.TakenOn
    };

    public void Apply(CardPaymentRefunded e) => Refunded = e.RefundedTotal;

    public void Apply(CardPaymentDisputed e) =>
        (DisputeId, DisputeReason, DisputedAmount, DisputedOn, EvidenceDueBy, Dispute) = (e.DisputeId, e.Reason, e.Amount, e.DisputedOn, e.EvidenceDueBy, DisputeState.Open);

    public void Apply(CardDisputeClosed e) => Dispute = e.Won ? DisputeState.Won : DisputeState.Lost;
}
