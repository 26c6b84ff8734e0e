using System.Net;
using System.Text;
using System.Text.Json;
using Stripe;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>The card processor's webhook events as Stripe sends them: JSON with the library's API version, signed with the clinic's secret.</summary>
public static class ProcessorEvents
{
    public static (string Json, string Signature) Signed(string type, object dataObject, DateTimeOffset? at = null, string? id = null)
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

    public static async Task<(HttpStatusCode Status, string Body)> DeliverAsync(this AppFixture fixture, (string Json, string Signature) evt, string clinic = AppFixture.Clinic)
    {
        using var client = fixture.Host.Server.CreateClient();
        return await DeliverAsync(client, evt, clinic);
    }

    /// <summary>Posts the event to the clinic's webhook as the processor does.</summary>
    public static async Task<(HttpStatusCode Status, string Body)> DeliverAsync(HttpClient client, (string Json, string Signature) evt, string clinic)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/webhooks/stripe/{clinic}") { Content = new StringContent(evt.Json, Encoding.UTF8, "application/json") };
        request.Headers.Add("Stripe-Signature", evt.Signature);
        var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    public static object CheckoutCompleted(string paymentIntent, long cents, Guid patient, Guid statement, string clinic = AppFixture.Clinic) => new Dictionary<string, object?>
    {
        ["id"] = $"cs_test_{Guid.NewGuid():N}", ["object"] = "checkout.session", ["mode"] = "payment", ["status"] = "complete", ["payment_status"] = "paid",
        ["amount_total"] = cents, ["currency"] = "usd", ["payment_intent"] = paymentIntent, ["client_reference_id"] = statement.ToString(),
        ["metadata"] = new Dictionary<string, string> { ["clinic"] = clinic, ["patientId"] = patient.ToString(), ["statementId"] = statement.ToString() }
    };

    /// <summary>A payout to the clinic's bank, arriving on <paramref name="arrival"/> (Stripe gives the day as midnight UTC).</summary>
    public static Dictionary<string, object?> PayoutPaid(string id, long cents, DateOnly arrival) => new()
    {
        ["id"] = id, ["object"] = "payout", ["amount"] = cents, ["currency"] = "usd", ["status"] = "paid", ["automatic"] = true, ["method"] = "standard",
        ["type"] = "bank_account", ["arrival_date"] = new DateTimeOffset(arrival.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds(), ["livemode"] = false
    };

    public static Dictionary<string, object?> Dispute(string id, string paymentIntent, long cents, string status, DateTimeOffset dueBy) => new()
    {
        ["id"] = id, ["object"] = "dispute", ["amount"] = cents, ["currency"] = "usd", ["charge"] = $"ch_{paymentIntent}", ["payment_intent"] = paymentIntent,
        ["reason"] = "fraudulent", ["status"] = status, ["is_charge_refundable"] = false, ["livemode"] = false,
        ["evidence_details"] = new Dictionary<string, object?> { ["due_by"] = dueBy.ToUnixTimeSeconds(), ["has_evidence"] = false, ["past_due"] = false, ["submission_count"] = 0 }
    };
}
