using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;

namespace KetamineBilling.Infrastructure;

/// <summary>Where requests come from: the TLS-terminating proxy in front of the app (section <c>Network</c>).</summary>
public sealed class NetworkOptions
{
    /// <summary>Proxy addresses whose X-Forwarded-For / X-Forwarded-Proto are believed. Empty: loopback only.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Proxy networks (CIDR, e.g. 172.28.5.0/24) whose forwarded headers are believed.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>
    /// The public HTTPS port: outside Development a plain-HTTP request is redirected to it. Unset: no redirect
    /// (the proxy redirects; set it to 443 behind the compose proxy).
    /// </summary>
    public int? HttpsPort { get; set; }

    /// <summary>Strict-Transport-Security max-age outside Development (HTTPS responses only).</summary>
    public int HstsMaxAgeDays { get; set; } = 365;
}

/// <summary>Abuse limits of the endpoints anyone may call (section <c>RateLimits</c>).</summary>
/// <summary>An endpoint without sign-in that takes bodies larger than the anonymous limit (a processor's webhook).</summary>
public sealed record AnonymousBodyLimit(long Bytes);

public sealed class AnonymousLimitsOptions
{
    /// <summary>Requests per client address per <see cref="Window"/> to anonymous endpoints (sign-in, token, login page, docs, static files).</summary>
    public int PermitLimit { get; set; } = 300;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The largest request body an anonymous endpoint reads; a larger one is a 413 before it is read.</summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024;
}

/// <summary>
/// Transport and browser security: forwarded headers from known proxies only, HTTPS redirection and HSTS outside
/// Development, security headers on every response (NetEscapades.AspNetCore.SecurityHeaders), a per-address rate
/// limit and a small body cap on the anonymous endpoints.
/// </summary>
public static class WebSecurity
{
    /// <summary>The security-headers policy of the Scalar API reference (its page runs an inline script).</summary>
    public const string ApiReferencePolicy = "api-reference";

    /// <summary>
    /// The patient payment page's: the default's, but its card form may lead on to the processor's hosted page
    /// (<c>Stripe:CheckoutOrigin</c>, https://checkout.stripe.com): browsers hold a form's redirect to <c>form-action</c> too.
    /// </summary>
    public const string PaymentPagePolicy = "payment-page";

    public static void AddWebSecurity(this WebApplicationBuilder builder)
    {
        var network = builder.Configuration.GetSection("Network").Get<NetworkOptions>() ?? new NetworkOptions();
        var limits = builder.Configuration.GetSection("RateLimits:Anonymous").Get<AnonymousLimitsOptions>() ?? new AnonymousLimitsOptions();
        builder.Services.AddSingleton(network);
        builder.Services.AddSingleton(limits);
        // No "Server: Kestrel" on answers (the security headers' RemoveServerHeader cannot reach Kestrel's own).
        builder.WebHost.ConfigureKestrel(o => o.AddServerHeader = false);

        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            // Only the client address and the scheme: the Host stays what the client sent (AllowedHosts checks it).
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.ForwardLimit = 1;
            if (network.KnownProxies.Count + network.KnownNetworks.Count > 0)
            {
                o.KnownProxies.Clear();
                o.KnownIPNetworks.Clear();
                foreach (var proxy in network.KnownProxies) o.KnownProxies.Add(IPAddress.Parse(proxy));
                foreach (var net in network.KnownNetworks) o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(net));
            }
        });

        if (network.HttpsPort is { } port)
        {
            builder.Services.AddHttpsRedirection(o => o.HttpsPort = port);
        }

        var development = builder.Environment.IsDevelopment();
        builder.Services.AddSecurityHeaderPolicies(policies => policies
            .SetDefaultPolicy(p => Common(p, development, network).AddContentSecurityPolicy(csp =>
            {
                csp.AddDefaultSrc().Self();
                // blazor.web.js, MudBlazor.min.js and the app's own script: files of this origin, nothing inline, no eval.
                csp.AddScriptSrc().Self();
                // MudBlazor writes style attributes and its theme's <style> element.
                csp.AddStyleSrc().Self().UnsafeInline();
                csp.AddImgSrc().Self().Data();
                csp.AddFontSrc().Self().Data();
                // 'self' covers the circuit's WebSocket (ws:/wss: of this origin) and its long-polling fallback.
                csp.AddConnectSrc().Self();
                csp.AddObjectSrc().None();
                csp.AddBaseUri().Self();
                csp.AddFormAction().Self();
                csp.AddFrameAncestors().None();
            }))
            .AddPolicy(PaymentPagePolicy, p => Common(p, development, network).AddContentSecurityPolicy(csp =>
            {
                csp.AddDefaultSrc().Self();
                csp.AddScriptSrc().None();
                csp.AddStyleSrc().Self().UnsafeInline();
                csp.AddImgSrc().Self().Data();
                csp.AddObjectSrc().None();
                csp.AddBaseUri().Self();
                csp.AddFormAction().Self().From(builder.Configuration["Stripe:CheckoutOrigin"] is { Length: > 0 } origin ? origin : "https://checkout.stripe.com");
                csp.AddFrameAncestors().None();
            }))
            .AddPolicy(ApiReferencePolicy, p => Common(p, development, network).AddContentSecurityPolicy(csp =>
            {
                csp.AddDefaultSrc().Self();
                csp.AddScriptSrc().Self().UnsafeInline();
                csp.AddStyleSrc().Self().UnsafeInline();
                csp.AddImgSrc().Self().Data().Blob();
                csp.AddFontSrc().Self().Data();
                csp.AddConnectSrc().Self();
                csp.AddWorkerSrc().Self().Blob();
                csp.AddObjectSrc().None();
                csp.AddFrameAncestors().None();
            })));

        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                IsAnonymous(http) && !http.Request.Path.StartsWithSegments("/health")
                    ? RateLimitPartition.GetFixedWindowLimiter(ClientAddress(http), _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = limits.PermitLimit, Window = limits.Window, QueueLimit = 0, AutoReplenishment = true
                    })
                    : RateLimitPartition.GetNoLimiter(""));
            o.OnRejected = async (context, ct) =>
            {
                var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter.TotalSeconds : limits.Window.TotalSeconds;
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(seconds)).ToString(CultureInfo.InvariantCulture);
                await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                        detail: $"At most {limits.PermitLimit} requests per {limits.Window.TotalSeconds:0} s from one address to the endpoints that need no sign-in.")
                    .ExecuteAsync(context.HttpContext);
            };
        });
    }

    private static HeaderPolicyCollection Common(HeaderPolicyCollection p, bool development, NetworkOptions network)
    {
        p.AddContentTypeOptionsNoSniff()
            .AddFrameOptionsDeny()
            .AddReferrerPolicySameOrigin()
            .AddPermissionsPolicyWithDefaultSecureDirectives()
            .AddCrossOriginOpenerPolicy(o => o.SameOrigin())
            .RemoveServerHeader();
        if (!development)
        {
            // Sent on HTTPS responses only (after the proxy's X-Forwarded-Proto is applied).
            p.AddStrictTransportSecurityMaxAgeIncludeSubDomains(network.HstsMaxAgeDays * 24 * 3600);
        }

        return p;
    }

    /// <summary>First in the pipeline: the client's address and scheme, then the headers every answer carries.</summary>
    public static void UseWebSecurity(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseSecurityHeaders();
        if (!app.Environment.IsDevelopment() && app.Services.GetRequiredService<NetworkOptions>().HttpsPort is not null)
        {
            // Not for the node's own loopback calls (the UI's calls to its API, a local health probe) nor for health probes:
            // they never cross a network. Everything else in plain HTTP (not from the proxy) goes to HTTPS.
            app.UseWhen(http => !IPAddress.IsLoopback(http.Connection.RemoteIpAddress ?? IPAddress.None)
                                && !http.Request.Path.StartsWithSegments("/health"),
                branch => branch.UseHttpsRedirection());
        }
    }

    /// <summary>After the exception handler (its 413/429 answers are ProblemDetails with the security headers).</summary>
    public static void UseAnonymousLimits(this WebApplication app)
    {
        var limits = app.Services.GetRequiredService<AnonymousLimitsOptions>();
        app.Use(async (http, next) =>
        {
            if (IsAnonymous(http) && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
            {
                // Kestrel enforces it while the body streams (chunked bodies too); a declared length is refused at once.
                var max = http.GetEndpoint()?.Metadata.GetMetadata<AnonymousBodyLimit>()?.Bytes ?? limits.MaxBodyBytes;
                if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                {
                    size.MaxRequestBodySize = max;
                }

                if (http.Request.ContentLength > max)
                {
                    http.Response.Headers.Connection = "close";
                    await Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The request body is too large",
                        detail: $"body: at most {max} bytes for an endpoint that needs no sign-in").ExecuteAsync(http);
                    return;
                }
            }

            await next(http);
        });
        app.UseRateLimiter();
    }

    private static bool IsAnonymous(HttpContext http) => http.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null;

    /// <summary>The client's address: the forwarded one when a known proxy sent the request.</summary>
    public static string ClientAddress(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
