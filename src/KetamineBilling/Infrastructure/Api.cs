using System.Text.Json.Serialization;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Clinic;
using Scalar.AspNetCore;
using Wolverine.Http;

namespace KetamineBilling.Infrastructure;

public static class Api
{
    public static void AddApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => ClinicCalendar.FromConfiguration(builder.Configuration, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        builder.Services.AddOpenApi();
        // The antiforgery cookie is Secure whenever the request is HTTPS (behind the proxy: always, through its
        // X-Forwarded-Proto); its default is never. Always would make antiforgery throw on any plain-HTTP request.
        builder.Services.AddAntiforgery(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        builder.AddWebSecurity();
    }

    public static void UseApiPipeline(this WebApplication app)
    {
        app.UseWebSecurity();
        app.UseCorrelationId();
        app.UseRequestLogging();
        app.UseExceptionHandler();
        KetamineBilling.Features.Ui.UiModule.UseNotFoundPage(app);
        app.UseAnonymousLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        // The clinic's time zone for the request; a clinic that is not (or no longer) onboarded: Marten refuses to open its
        // session (the audit's or the endpoint's), a 404.
        app.UseMiddleware<ClinicContextMiddleware>();
        // After authorization: a refused read was no read. Before the endpoint: the record is written before the answer.
        app.UsePhiAccessAudit();
        app.UseAntiforgery();
        // Inside the exception handler, after authorization: a command that lost a race is decided again by its endpoint.
        app.UseMiddleware<DecideAgainMiddleware>();
    }

    public static void MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference("/reference", o => o.DisableDefaultFonts().WithTitle("KetamineBilling API")).AllowAnonymous()
            .WithSecurityHeadersPolicy(WebSecurity.ApiReferencePolicy);
    }

    public static void MapApi(this WebApplication app) => app.MapWolverineEndpoints(opts =>
    {
        // '?page=abc' is a 400 naming the parameter, not a silent default.
        opts.RejectUnparseableQueryValues = true;
        // Every request acts for exactly one clinic, the one its cookie or token carries: Wolverine opens the request's
        // Marten sessions for it, so a clinic's ids are simply not found from another clinic (ADR 0016). Endpoints of the
        // platform itself (sign-in, accounts, the nodes) are [NotTenanted].
        opts.TenantId.IsClaimTypeNamed(UserClaims.Clinic);
        opts.TenantId.AssertExists();
        opts.AddPolicy<AuditPolicy>();
        opts.AddPolicy<PhiReadPolicy>();
    });
}

/// <summary>
/// The request acts for the clinic its cookie or token names: its time zone is the <see cref="ClinicCalendar"/>'s for the
/// request. A cookie or token acting for a clinic Marten does not know (removed, disabled, or a database not reachable from
/// this node's registry) is a 404 naming the clinic, not a 500: Wolverine's own mapping does not cover opening the session.
/// </summary>
public sealed class ClinicContextMiddleware(RequestDelegate next, ClinicZones zones)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            if (await ZoneOfAsync(context.User, zones, context.RequestAborted) is { } zone)
            {
                using (ClinicCalendar.Use(zone)) await next(context);
            }
            else
            {
                await next(context);
            }
        }
        catch (Exception e) when (!context.Response.HasStarted && IsUnknownClinic(e))
        {
            context.Response.Clear();
            await Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown clinic",
                detail: $"clinic: '{context.User.FindFirst(UserClaims.Clinic)?.Value}' is not a clinic of this platform (sign in again)").ExecuteAsync(context);
        }
    }

    /// <summary>
    /// The time zone of the clinic a signed-in user acts for; null when they act for none, or for one this node does not know
    /// (the platform's own pages still answer them, e.g. to choose another clinic).
    /// </summary>
    public static async ValueTask<TimeZoneInfo?> ZoneOfAsync(System.Security.Claims.ClaimsPrincipal user, ClinicZones zones, CancellationToken ct)
    {
        if (user.Identity?.IsAuthenticated != true || user.FindFirst(UserClaims.Clinic)?.Value is not { Length: > 0 } clinic) return null;
        try
        {
            return await zones.ZoneOfAsync(clinic, ct);
        }
        catch (Exception e) when (IsUnknownClinic(e))
        {
            return null;
        }
    }

    private static bool IsUnknownClinic(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is JasperFx.MultiTenancy.UnknownTenantIdException or JasperFx.MultiTenancy.DisabledTenantException) return true;
        }

        return false;
    }
}
