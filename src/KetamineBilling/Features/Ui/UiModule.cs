using System.Net.Http.Headers;
using System.Security.Claims;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;

namespace KetamineBilling.Features.Ui;

/// <summary>Who may use which part of the web UI: the signed-in cookie user's role.</summary>
public static class UiRoles
{
    public const string Billing = "ui:billing";
    public const string Finance = "ui:finance";
    public const string Employer = "ui:employer";
    public const string SignedIn = "ui:signed-in";
    public const string Administrator = "ui:administrator";

    /// <summary>Month-end close: Finance closes and reads the reports, the Administrator reopens (and sees no amounts).</summary>
    public const string BooksClose = "ui:books-close";

    public static void Register(AuthorizationOptions options)
    {
        options.AddPolicy(SignedIn, p => p.AddAuthenticationSchemes(AuthSchemes.Cookie).RequireAuthenticatedUser());
        options.AddPolicy(Billing, p => p.AddAuthenticationSchemes(AuthSchemes.Cookie).RequireAuthenticatedUser().RequireRole(Roles.BillingAdmin));
        options.AddPolicy(Finance, p => p.AddAuthenticationSchemes(AuthSchemes.Cookie).RequireAuthenticatedUser().RequireRole(Roles.Finance));
        options.AddPolicy(Employer, p => p.AddAuthenticationSchemes(AuthSchemes.Cookie).RequireAuthenticatedUser().RequireRole(Roles.Employer)
            .RequireClaim(UserClaims.EmployerId));
        options.AddPolicy(Administrator, p => p.AddAuthenticationSchemes(AuthSchemes.Cookie).RequireAuthenticatedUser().RequireRole(Roles.Administrator));
        options.AddPolicy(BooksClose, p => p.AddAuthenticationSchemes(AuthSchemes.Cookie).RequireAuthenticatedUser().RequireRole(Roles.Finance, Roles.Administrator));
    }

    /// <summary>The page a role starts on; null for an account without a role.</summary>
    public static string? HomeOf(ClaimsPrincipal user) =>
        user.IsInRole(Roles.BillingAdmin) ? "/patients"
        : user.IsInRole(Roles.Finance) ? "/finance"
        : user.IsInRole(Roles.Employer) ? "/employer"
        : user.IsInRole(Roles.Administrator) ? "/admin/users"
        : null;

    public static Guid? EmployerOf(ClaimsPrincipal user) =>
        Guid.TryParse(user.FindFirst(UserClaims.EmployerId)?.Value, out var id) ? id : null;
}

public static class UiModule
{
    public static void AddUi(this WebApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices(options =>
        {
            // Bottom centre, where no page keeps its actions: at MudBlazor's top-right default a confirmation sat on
            // the page's own buttons (the employer page's "Record a payment" right after "Issue an invoice") for 10 s.
            options.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomCenter;
            options.SnackbarConfiguration.VisibleStateDuration = 6000;
        });
        builder.Services.AddCascadingAuthenticationState();
        // After Blazor's own: open circuits re-check that their sign-in still stands (revocation, Features/Accounts).
        builder.Services.AddScoped<AuthenticationStateProvider, KetamineBilling.Features.Accounts.RevalidatingAccountStateProvider>();
        builder.Services.AddHttpClient(ApiClient.HttpClientName);
        builder.Services.AddSingleton<ApiTokens>();
        builder.Services.AddSingleton<ApiBase>();
        builder.Services.AddScoped<ApiClient>();
        builder.Services.AddScoped<CircuitSignOut>();
        builder.Services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, ClinicZoneCircuitHandler>();
        builder.Services.Configure<AuthorizationOptions>(UiRoles.Register);
    }

    /// <summary>
    /// An unknown address outside /api shows the app's not-found page with a 404 (issue 21: it was the browser's bare
    /// "HTTP ERROR 401" from the API's bearer-only fallback policy). Only the page fallback of <see cref="MapUi"/> turns
    /// status-code pages on, for GET and HEAD: every other answer (API problems, sign-in redirects, downloads) is left as it is.
    /// At the top of the pipeline (not in a branch), so the re-executed request is routed again.
    /// </summary>
    public static void UseNotFoundPage(this WebApplication app)
    {
        app.UseStatusCodePagesWithReExecute("/not-found");
        app.Use((context, next) =>
        {
            if (context.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodePagesFeature>() is { } pages) pages.Enabled = false;
            return next(context);
        });
    }

    public static void MapUi(this WebApplication app)
    {
        // Pages check their own [Authorize] in the router (a sign-in redirect or the 403 page). Their endpoints
        // read the sign-in cookie and let anyone through: AllowAnonymous would not do, since the authorization
        // middleware still authenticates the API's bearer-only fallback policy and leaves the circuit anonymous.
        app.MapStaticAssets().AllowAnonymous();
        var readsCookie = new AuthorizationPolicyBuilder(AuthSchemes.Cookie).RequireAssertion(_ => true).Build();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode().RequireAuthorization(readsCookie);
        // Any other address but the API's: a 404 the not-found page answers (UseNotFoundPage), signed in or not. /api stays the
        // API's own (a ProblemDetails 404, or 401 without a token).
        var notApi = Microsoft.AspNetCore.Routing.Patterns.RoutePatternFactory.Parse("{**path:nonfile}", defaults: null,
            parameterPolicies: new { path = new Microsoft.AspNetCore.Routing.Constraints.RegexRouteConstraint("^(?!api(/|$))") });
        app.Map(notApi, (HttpContext context) =>
        {
            if ((HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
                && context.Features.Get<Microsoft.AspNetCore.Diagnostics.IStatusCodePagesFeature>() is { } pages) pages.Enabled = true;
            return Results.NotFound();
        }).RequireAuthorization(readsCookie).ExcludeFromDescription()
            .Add(endpoint => ((RouteEndpointBuilder)endpoint).Order = int.MaxValue);

        var signedIn = new AuthorizationPolicyBuilder(AuthSchemes.Cookie).RequireAuthenticatedUser().RequireRole(Roles.All).Build();

        // Activity in the browser slides the sign-in cookie (the idle limit is in App.razor).
        app.MapGet("/account/keepalive", () => Results.NoContent()).RequireAuthorization(signedIn).ExcludeFromDescription();

        // The clinic switcher: the sign-in cookie is issued again, acting for another of the account's clinics.
        app.MapPost("/account/clinic", async (HttpContext http, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery, UserAccounts accounts,
            AccountStates states, CancellationToken ct) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid",
                    detail: "The form expired or did not come from this site; reload the page.");
            }

            var form = await http.Request.ReadFormAsync(ct);
            var clinic = form["clinic"].ToString().Trim().ToLowerInvariant();
            var returnUrl = KetamineBilling.Features.Auth.SignIn.LocalOnly(form["returnUrl"].ToString());
            if (!await states.IsCurrentAsync(http.User, ct) || !Guid.TryParse(http.User.FindFirstValue(UserClaims.UserId), out var id)
                || await accounts.LoadAsync(id, ct) is not { } user)
            {
                return Results.Redirect("/account/login");
            }

            if (!user.Clinics.Contains(clinic, StringComparer.Ordinal))
            {
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not a clinic of this account",
                    detail: $"clinic: the account does not work for clinic '{clinic}'.");
            }

            await http.SignInAsync(AuthSchemes.Cookie, IssueTokenEndpoint.PrincipalFor(user, AuthSchemes.Cookie, clinic));
            return Results.Redirect(returnUrl);
        }).RequireAuthorization(signedIn).ExcludeFromDescription();

        // Downloads (CSV, PDF) for the signed-in user: the API answers them with the user's own rights.
        app.MapGet("/ui/download", async (string path, HttpContext http, ApiTokens tokens, ApiBase apiBase, IHttpClientFactory factory, CancellationToken ct) =>
        {
            if (!path.StartsWith("/api/", StringComparison.Ordinal) || path.Contains("..", StringComparison.Ordinal) || path.Contains("//", StringComparison.Ordinal) || path.Contains('\\'))
                return Results.Problem(statusCode: 400, title: "path must be an API path", detail: "path: must start with /api/");
            var client = factory.CreateClient(ApiClient.HttpClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(apiBase.Uri, path));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.For(http.User).Token);
            using var response = await client.SendAsync(request, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            var type = response.Content.Headers.ContentType?.ToString() ?? "application/octet-stream";
            var name = response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"');
            if (!response.IsSuccessStatusCode)
            {
                http.Response.StatusCode = (int)response.StatusCode;
                return Results.Bytes(body, type);
            }
            return name is null ? Results.Bytes(body, type) : Results.File(body, type, name);
        }).RequireAuthorization(signedIn).ExcludeFromDescription();
    }
}

/// <summary>API bearer tokens for the signed-in cookie user: the UI calls the API with the user's own rights.</summary>
public sealed class ApiTokens(IOptionsMonitor<BearerTokenOptions> options, TimeProvider clock)
{
    public (string Token, DateTimeOffset ExpiresAt) For(ClaimsPrincipal user)
    {
        var bearer = options.Get(AuthSchemes.Bearer);
        var now = clock.GetUtcNow();
        var expiresAt = now.AddMinutes(30);
        var identity = new ClaimsIdentity(user.Claims.Select(c => new Claim(c.Type, c.Value)), AuthSchemes.Bearer, UserClaims.UserId, UserClaims.Role);
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(identity), new AuthenticationProperties { IssuedUtc = now, ExpiresUtc = expiresAt }, AuthSchemes.Bearer);
        return (bearer.BearerTokenProtector.Protect(ticket), expiresAt);
    }
}
