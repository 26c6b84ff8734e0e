using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// A local fake of the parts of Stripe's HTTP API the app calls through the official library (no network reaches Stripe here):
/// Checkout sessions, and a payout's balance transactions (the tests say what each payout holds, <see cref="Payout"/>). It answers as Stripe does (form-encoded requests, JSON objects, the same answer for the same idempotency
/// key) and keeps every request for the tests to read.
/// </summary>
public sealed class FakeStripe : IAsyncDisposable
{
    public sealed record Request(string Method, string Path, string? IdempotencyKey, string? Authorization, IReadOnlyDictionary<string, string> Form);

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, string> _byKey = new();
    private int _sessions;

    public ConcurrentQueue<Request> Requests { get; } = new();

    private readonly ConcurrentDictionary<string, IReadOnlyList<Dictionary<string, object?>>> _payouts = new();

    private readonly ConcurrentDictionary<string, (string Customer, string PaymentMethod, string Brand, string Last4)> _setups = new();
    private readonly ConcurrentDictionary<string, string> _declines = new();
    private readonly ConcurrentDictionary<string, (int Status, string Json)> _charges = new();

    /// <summary>A card the patient saved on the hosted setup page: the SetupIntent the completed session names.</summary>
    public void SavedCard(string setupIntent, string customer, string paymentMethod, string brand = "visa", string last4 = "4242") =>
        _setups[setupIntent] = (customer, paymentMethod, brand, last4);

    /// <summary>Charges to this payment method are declined with the code (as a card with no funds left is).</summary>
    public void Declines(string paymentMethod, string declineCode) => _declines[paymentMethod] = declineCode;

    /// <summary>The card is good again.</summary>
    public void Accepts(string paymentMethod) => _declines.TryRemove(paymentMethod, out _);

    /// <summary>While true, creating a PaymentIntent answers 503.</summary>
    public bool ProcessorDown { get; set; }

    /// <summary>While true, listing balance transactions answers 503 (the processor's API down).</summary>
    public bool BalanceUnavailable { get; set; }

    /// <summary>A payout's balance transactions as Stripe lists them (the payout's own "payout" transaction last).</summary>
    public void Payout(string payoutId, params Dictionary<string, object?>[] transactions) => _payouts[payoutId] = transactions;

    /// <summary>A balance transaction with its source expanded (as <c>expand[]=data.source</c> asks).</summary>
    public static Dictionary<string, object?> Transaction(string id, string type, long amount, long fee, string? sourceObject = null, string? paymentIntent = null) => new()
    {
        ["id"] = id, ["object"] = "balance_transaction", ["amount"] = amount, ["fee"] = fee, ["net"] = amount - fee, ["currency"] = "usd", ["type"] = type,
        ["status"] = "available", ["reporting_category"] = type,
        ["source"] = sourceObject is null ? null : new Dictionary<string, object?> { ["id"] = $"{sourceObject[..2]}_{id}", ["object"] = sourceObject, ["payment_intent"] = paymentIntent }
    };

    public string BaseUrl { get; }

    public FakeStripe()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(BaseUrl);
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/v1/checkout/sessions", async (HttpContext http) =>
        {
            var form = (await http.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
            var key = http.Request.Headers["Idempotency-Key"].ToString();
            Requests.Enqueue(new Request("POST", "/v1/checkout/sessions", key, http.Request.Headers.Authorization.ToString(), form));
            var json = _byKey.GetOrAdd(key.Length > 0 ? key : Guid.NewGuid().ToString(), _ =>
            {
                var id = $"cs_test_{Interlocked.Increment(ref _sessions):D4}";
                var metadata = form.Where(f => f.Key.StartsWith("metadata[", StringComparison.Ordinal)).ToDictionary(f => f.Key[9..^1], f => f.Value);
                return JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["id"] = id, ["object"] = "checkout.session", ["mode"] = form.GetValueOrDefault("mode"), ["status"] = "open", ["customer"] = form.GetValueOrDefault("customer"),
                    ["payment_status"] = form.GetValueOrDefault("mode") == "setup" ? "no_payment_required" : "unpaid", ["currency"] = "usd",
                    ["amount_total"] = form.TryGetValue("line_items[0][price_data][unit_amount]", out var cents) ? long.Parse(cents) : null,
                    ["client_reference_id"] = form.GetValueOrDefault("client_reference_id"), ["metadata"] = metadata,
                    ["success_url"] = form.GetValueOrDefault("success_url"), ["cancel_url"] = form.GetValueOrDefault("cancel_url"),
                    ["url"] = $"https://checkout.stripe.test/c/pay/{id}", ["livemode"] = false
                });
            });
            return Results.Content(json, "application/json");
        });
        _app.MapPost("/v1/customers", async (HttpContext http) =>
        {
            var form = (await http.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
            var key = http.Request.Headers["Idempotency-Key"].ToString();
            Requests.Enqueue(new Request("POST", "/v1/customers", key, http.Request.Headers.Authorization.ToString(), form));
            var json = _byKey.GetOrAdd("customers:" + (key.Length > 0 ? key : Guid.NewGuid().ToString()), _ => JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["id"] = $"cus_test_{Interlocked.Increment(ref _sessions):D4}", ["object"] = "customer", ["livemode"] = false,
                ["metadata"] = form.Where(f => f.Key.StartsWith("metadata[", StringComparison.Ordinal)).ToDictionary(f => f.Key[9..^1], f => f.Value)
            }));
            return Results.Content(json, "application/json");
        });
        _app.MapGet("/v1/setup_intents/{id}", (string id, HttpContext http) =>
        {
            Requests.Enqueue(new Request("GET", $"/v1/setup_intents/{id}", null, http.Request.Headers.Authorization.ToString(),
                http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString())));
            if (!_setups.TryGetValue(id, out var card)) return Results.Json(new { error = new { type = "invalid_request_error", code = "resource_missing" } }, statusCode: 404);
            return Results.Json(new Dictionary<string, object?>
            {
                ["id"] = id, ["object"] = "setup_intent", ["status"] = "succeeded", ["customer"] = card.Customer, ["usage"] = "off_session",
                ["payment_method"] = new Dictionary<string, object?>
                {
                    ["id"] = card.PaymentMethod, ["object"] = "payment_method", ["type"] = "card", ["customer"] = card.Customer,
                    ["card"] = new Dictionary<string, object?> { ["brand"] = card.Brand, ["last4"] = card.Last4, ["exp_month"] = 12, ["exp_year"] = 2030 }
                }
            });
        });
        _app.MapPost("/v1/payment_intents", async (HttpContext http) =>
        {
            var form = (await http.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
            var key = http.Request.Headers["Idempotency-Key"].ToString();
            Requests.Enqueue(new Request("POST", "/v1/payment_intents", key, http.Request.Headers.Authorization.ToString(), form));
            if (ProcessorDown) return Results.Json(new { error = new { type = "api_error", message = "temporarily unavailable" } }, statusCode: 503);
            var (status, json) = _charges.GetOrAdd(key.Length > 0 ? key : Guid.NewGuid().ToString(), _ =>
            {
                var id = $"pi_auto_{Interlocked.Increment(ref _sessions):D4}";
                var method = form.GetValueOrDefault("payment_method") ?? "";
                var amount = long.Parse(form["amount"]);
                var declined = _declines.TryGetValue(method, out var code);
                var intent = new Dictionary<string, object?>
                {
                    ["id"] = id, ["object"] = "payment_intent", ["amount"] = amount, ["amount_received"] = declined ? 0 : amount, ["currency"] = "usd",
                    ["status"] = declined ? "requires_payment_method" : "succeeded", ["customer"] = form.GetValueOrDefault("customer"), ["payment_method"] = method,
                    ["metadata"] = form.Where(f => f.Key.StartsWith("metadata[", StringComparison.Ordinal)).ToDictionary(f => f.Key[9..^1], f => f.Value), ["livemode"] = false
                };
                return declined
                    ? (402, JsonSerializer.Serialize(new { error = new Dictionary<string, object?>
                    {
                        ["type"] = "card_error", ["code"] = "card_declined", ["decline_code"] = code, ["message"] = "Your card was declined.", ["payment_intent"] = intent
                    } }))
                    : (200, JsonSerializer.Serialize(intent));
            });
            return Results.Content(json, "application/json", statusCode: status);
        });
        _app.MapGet("/v1/balance_transactions", (HttpContext http) =>
        {
            var query = http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString());
            Requests.Enqueue(new Request("GET", "/v1/balance_transactions", null, http.Request.Headers.Authorization.ToString(), query));
            if (BalanceUnavailable) return Results.Json(new { error = new { type = "api_error", message = "temporarily unavailable" } }, statusCode: 503);
            var all = _payouts.GetValueOrDefault(query.GetValueOrDefault("payout") ?? "") ?? [];
            var limit = int.TryParse(query.GetValueOrDefault("limit"), out var l) ? l : 10;
            var after = query.GetValueOrDefault("starting_after");
            var start = after is null ? 0 : all.ToList().FindIndex(t => (string)t["id"]! == after) + 1;
            var page = all.Skip(start).Take(limit).ToList();
            return Results.Json(new Dictionary<string, object?>
            {
                ["object"] = "list", ["url"] = "/v1/balance_transactions", ["has_more"] = start + page.Count < all.Count, ["data"] = page
            });
        });
        _app.StartAsync().GetAwaiter().GetResult();
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
