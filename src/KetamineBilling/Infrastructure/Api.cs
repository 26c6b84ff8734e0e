using System.Text.Json.Serialization;
using KetamineBilling.Features.AccessAudit;
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
        opts.AddPolicy<AuditPolicy>();
        opts.AddPolicy<PhiReadPolicy>();
    });
}
