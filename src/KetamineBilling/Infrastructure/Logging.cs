using System.Text.RegularExpressions;
using Serilog;
using Serilog.Context;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// Structured logs with a correlation id on every request. Logs carry ids and amounts, never a patient's
/// name, date of birth or diagnosis: no request or message body is ever logged, and request logging
/// records the path (ids only) without the query string (which may hold a searched name).
/// </summary>
public static partial class Logging
{
    public const string CorrelationHeader = "X-Correlation-ID";

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$")]
    private static partial Regex SafeCorrelationId();

    public static void AddLogging(this WebApplicationBuilder builder)
    {
        var json = builder.Configuration.GetValue("Logging:Json", builder.Environment.IsProduction());
        // Each host keeps its own logger (no static Log.Logger): two hosts in one process, as in the tests,
        // would otherwise take each other's sinks.
        builder.Services.AddSerilog(preserveStaticLogger: true, configureLogger: (services, log) =>
        {
            log.ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
                .MinimumLevel.Override("Wolverine", LogEventLevel.Warning)
                .MinimumLevel.Override("Marten", LogEventLevel.Warning)
                .MinimumLevel.Override("JasperFx", LogEventLevel.Warning)
                .Enrich.FromLogContext()
                .Enrich.With<RedactPaymentLinks>()
                .Enrich.WithProperty("Application", "KetamineBilling");
            if (!builder.Configuration.GetValue("Logging:Console", true))
            {
                return;
            }

            if (json)
            {
                log.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
            else
            {
                log.WriteTo.Console(outputTemplate:
                    "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}");
            }
        });
    }

    /// <summary>
    /// Takes the caller's X-Correlation-ID when it is a safe token, else makes one; echoes it on the
    /// response and puts it on the request so Wolverine copies it into Marten's event metadata.
    /// </summary>
    public static IApplicationBuilder UseCorrelationId(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var incoming = context.Request.Headers[CorrelationHeader].ToString();
        var correlationId = SafeCorrelationId().IsMatch(incoming) ? incoming : Guid.NewGuid().ToString("N");
        context.Request.Headers[CorrelationHeader] = correlationId;
        context.TraceIdentifier = correlationId;
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[CorrelationHeader] = correlationId;
            return Task.CompletedTask;
        });
        using (LogContext.PushProperty("CorrelationId", correlationId))
        {
            await next(context);
        }
    });

    public static IApplicationBuilder UseRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(o =>
        {
            o.Logger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>();
            o.EnrichDiagnosticContext = (diagnostics, http) =>
            {
                var userId = http.User.FindFirst(UserClaims.UserId)?.Value;
                if (userId is not null)
                {
                    diagnostics.Set("UserId", userId);
                }
            };
            // Health probes every few seconds would drown the log.
            o.GetLevel = (http, _, ex) => ex is not null || http.Response.StatusCode >= 500
                ? LogEventLevel.Error
                : http.Request.Path.StartsWithSegments("/health") ? LogEventLevel.Verbose : LogEventLevel.Information;
        });
}

/// <summary>
/// A payment link's token is a key to a patient's statement (with the date of birth): the path of a request to the payment
/// page is logged as <c>/pay/{token}</c>, never with the token itself.
/// </summary>
public sealed class RedactPaymentLinks : Serilog.Core.ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, Serilog.Core.ILogEventPropertyFactory factory)
    {
        if (logEvent.Properties.TryGetValue("RequestPath", out var value) && value is ScalarValue { Value: string path }
            && path.StartsWith("/pay/", StringComparison.Ordinal))
        {
            var rest = path.IndexOf('/', 5) is var slash and > 0 ? path[slash..] : "";
            logEvent.AddOrUpdateProperty(new LogEventProperty("RequestPath", new ScalarValue("/pay/{token}" + rest)));
        }
    }
}
