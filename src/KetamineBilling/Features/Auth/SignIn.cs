using System.Net;
using System.Security.Claims;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;

namespace KetamineBilling.Features.Auth;

/// <summary>
/// Cookie sign-in for people using the web UI. The cookie reaches pages only: API policies accept bearer
/// tokens alone, so a page cannot be tricked into calling the API with someone's cookie.
/// </summary>
public static class SignIn
{
    public static void MapSignIn(this WebApplication app)
    {
        app.MapGet("/account/login", (HttpContext http, IAntiforgery antiforgery, string? returnUrl, string? error) =>
            Results.Content(LoginPage(antiforgery.GetAndStoreTokens(http), returnUrl, error), "text/html; charset=utf-8"))
            .AllowAnonymous().ExcludeFromDescription();

        app.MapPost("/account/login", async (HttpContext http, IAntiforgery antiforgery, UserAccounts accounts, LoginThrottle throttle, CancellationToken ct) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid",
                    detail: "The sign-in form expired or did not come from this site; reload the page.");
            }

            var form = await http.Request.ReadFormAsync(ct);
            var email = form["username"].ToString();
            var password = form["password"].ToString();
            if (email.Length > LoginThrottleOptions.MaxUsernameLength || password.Length > LoginThrottleOptions.MaxPasswordLength)
            {
                var problems = new ValidationProblems();
                if (email.Length > LoginThrottleOptions.MaxUsernameLength) problems.Add("username", $"must be at most {LoginThrottleOptions.MaxUsernameLength} characters");
                if (password.Length > LoginThrottleOptions.MaxPasswordLength) problems.Add("password", $"must be at most {LoginThrottleOptions.MaxPasswordLength} characters");
                return problems.ToResult(StatusCodes.Status400BadRequest);
            }

            var returnUrl = LocalOnly(form["returnUrl"].ToString());
            var client = IssueTokenEndpoint.ClientAddress(http);
            if (await throttle.RetryAfterAsync(email, client, ct) is not null)
            {
                return Results.Redirect($"/account/login?error=locked&returnUrl={Uri.EscapeDataString(returnUrl)}");
            }

            var user = await accounts.CheckPasswordAsync(email, password, ct);
            if (user is null)
            {
                await throttle.RecordFailureAsync(email, client, ct);
                return Results.Redirect($"/account/login?error=invalid&returnUrl={Uri.EscapeDataString(returnUrl)}");
            }

            // With a second factor the sign-in succeeds only when the code does: failures keep counting until then.
            if (user.TotpEnabled) return TwoFactorSignIn.Challenge(http, user, returnUrl);
            await throttle.RecordSuccessAsync(email, client, ct);
            await http.SignInAsync(AuthSchemes.Cookie, IssueTokenEndpoint.PrincipalFor(user, AuthSchemes.Cookie));
            return Results.Redirect(returnUrl);
        }).AllowAnonymous().ExcludeFromDescription();

        app.MapPost("/account/logout", async (HttpContext http) =>
        {
            await http.SignOutAsync(AuthSchemes.Cookie);
            return Results.Redirect("/account/login");
        }).AllowAnonymous().ExcludeFromDescription();

        app.MapTwoFactorSignIn();

    }

    /// <summary>
    /// Only a path on this site, else the home page: an absolute URL, a scheme-relative <c>//host</c>, <c>/\host</c>
    /// (browsers read a backslash as a slash) or a path with control characters or whitespace (browsers drop a tab,
    /// so <c>/%09/host</c> becomes <c>//host</c>) would make the login page an open redirect. The checks of
    /// Url.IsLocalUrl, on the text as given and on every percent-decoding of it.
    /// </summary>
    public static string LocalOnly(string? url)
    {
        if (string.IsNullOrEmpty(url) || url.Length > 2048) return "/";
        var text = url;
        for (var round = 0; round < 4; round++)
        {
            if (!IsLocalPath(text)) return "/";
            var decoded = Uri.UnescapeDataString(text);
            if (decoded == text) return url;
            text = decoded;
        }

        return "/";
    }

    private static bool IsLocalPath(string url) =>
        url.Length > 0 && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Contains('\\')
        && !url.Any(c => char.IsControl(c) || char.IsWhiteSpace(c));

    /// <summary>The head of the sign-in pages (the form and its second-factor step): plain HTML, MudBlazor does not serve static pages.</summary>
    internal static string PageHead(string title) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>{{WebUtility.HtmlEncode(title)}} · KetamineBilling</title>
        <link rel="icon" href="data:,">
        <style>
          body { font-family: system-ui, sans-serif; background: #f5f6f8; display: grid; place-items: center; min-height: 100vh; margin: 0; }
          form { background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); width: 20rem; }
          label { display: block; margin-top: 1rem; font-size: .9rem; }
          input { width: 100%; padding: .5rem; box-sizing: border-box; margin-top: .25rem; }
          button { margin-top: 1.5rem; width: 100%; padding: .6rem; background: #3f51b5; color: #fff; border: 0; border-radius: 4px; }
          .error { color: #b00020; }
        </style></head>
        """;

    private static string LoginPage(AntiforgeryTokenSet tokens, string? returnUrl, string? error)
    {
        var message = error switch
        {
            "invalid" => "<p class=\"error\" role=\"alert\">The email or password is wrong.</p>",
            "changed" => "<p role=\"status\">Your password was changed: sign in with the new one.</p>",
            "expired" => "<p class=\"error\" role=\"alert\">The sign-in took too long. Sign in again.</p>",
            "locked" => "<p class=\"error\" role=\"alert\">Too many failed sign-ins. Try again in 15 minutes.</p>",
            _ => ""
        };
        return $$"""
            {{PageHead("Sign in")}}
            <body><form method="post" action="/account/login">
              <h1>KetamineBilling</h1>{{message}}
              <input type="hidden" name="{{tokens.FormFieldName}}" value="{{WebUtility.HtmlEncode(tokens.RequestToken)}}">
              <input type="hidden" name="returnUrl" value="{{WebUtility.HtmlEncode(LocalOnly(returnUrl))}}">
              <label>Email <input name="username" type="email" autocomplete="username" maxlength="{{LoginThrottleOptions.MaxUsernameLength}}" required autofocus></label>
              <label>Password <input name="password" type="password" autocomplete="current-password" maxlength="{{LoginThrottleOptions.MaxPasswordLength}}" required></label>
              <button type="submit">Sign in</button>
            </form></body></html>
            """;
    }

}
