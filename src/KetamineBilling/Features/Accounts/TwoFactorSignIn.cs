using System.Globalization;
using System.Net;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;

namespace KetamineBilling.Features.Accounts;

/// <summary>
/// The second step of signing in for a user with the second factor on: the token endpoint's <c>otp</c> field, and
/// the sign-in form's code page (the password step leaves a short-lived protected cookie naming the user).
/// </summary>
public static class TwoFactorSignIn
{
    public const string CodePage = "/account/login/code";
    public const string PendingCookie = "kb.2fa";
    private static readonly TimeSpan PendingFor = TimeSpan.FromMinutes(5);

    /// <summary>For the token endpoint: null when the user has no second factor or the code is right (and now used up), else the 401.</summary>
    public static async Task<IResult?> TokenProblemAsync(TwoFactor twoFactor, UserAccount user, string? otp, CancellationToken ct)
    {
        if (!user.TotpEnabled) return null;
        if (string.IsNullOrWhiteSpace(otp))
            return Unauthorized("One-time code required", "This account signs in with a second factor: send the 6-digit code of the authenticator app in otp.", "is required for this account");
        return await twoFactor.UseCodeAsync(user, otp, ct)
            ? null
            : Unauthorized("Wrong one-time code", "The code is wrong, expired or was used already: send the authenticator app's current code.", "is wrong, expired or was used already");
    }

    private static IResult Unauthorized(string title, string detail, string rule) =>
        Results.Problem(new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["otp"] = [rule] })
        {
            Status = StatusCodes.Status401Unauthorized, Title = title, Detail = detail
        });

    /// <summary>After the right password of a user with the second factor: remember who for five minutes and ask for the code.</summary>
    public static IResult Challenge(HttpContext http, UserAccount user, string returnUrl)
    {
        var protector = Protector(http);
        var expires = DateTimeOffset.UtcNow + PendingFor;
        var payload = string.Join('|', user.Id.ToString(), user.SecurityStamp, expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        http.Response.Cookies.Append(PendingCookie, protector.Protect(payload), new CookieOptions
        {
            HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = http.Request.IsHttps, Path = "/account/login", MaxAge = PendingFor, IsEssential = true
        });
        return Results.Redirect($"{CodePage}?returnUrl={Uri.EscapeDataString(returnUrl)}");
    }

    public static void MapTwoFactorSignIn(this WebApplication app)
    {
        app.MapGet(CodePage, (HttpContext http, IAntiforgery antiforgery, string? returnUrl, string? error) =>
            http.Request.Cookies.ContainsKey(PendingCookie)
                ? Results.Content(Page(antiforgery.GetAndStoreTokens(http), SignIn.LocalOnly(returnUrl), error), "text/html; charset=utf-8")
                : Results.Redirect("/account/login"))
            .AllowAnonymous().ExcludeFromDescription();

        app.MapPost(CodePage, async (HttpContext http, IAntiforgery antiforgery, UserAccounts accounts, TwoFactor twoFactor, LoginThrottle throttle,
            ILogger<TwoFactor> logger, CancellationToken ct) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid",
                    detail: "The sign-in form expired or did not come from this site; reload the page.");
            }

            var form = await http.Request.ReadFormAsync(ct);
            var returnUrl = SignIn.LocalOnly(form["returnUrl"].ToString());
            var user = await PendingUserAsync(http, accounts, ct);
            if (user is null)
            {
                http.Response.Cookies.Delete(PendingCookie, new CookieOptions { Path = "/account/login" });
                return Results.Redirect("/account/login?error=expired");
            }

            var client = IssueTokenEndpoint.ClientAddress(http);
            if (await throttle.RetryAfterAsync(user.Email, client, ct) is not null)
            {
                return Results.Redirect($"/account/login?error=locked&returnUrl={Uri.EscapeDataString(returnUrl)}");
            }

            if (!await twoFactor.UseCodeAsync(user, form["code"].ToString(), ct))
            {
                await throttle.RecordFailureAsync(user.Email, client, ct);
                logger.LogWarning("Wrong one-time code for user {UserId}", user.Id);
                return Results.Redirect($"{CodePage}?error=invalid&returnUrl={Uri.EscapeDataString(returnUrl)}");
            }

            await throttle.RecordSuccessAsync(user.Email, client, ct);
            http.Response.Cookies.Delete(PendingCookie, new CookieOptions { Path = "/account/login" });
            await http.SignInAsync(AuthSchemes.Cookie, IssueTokenEndpoint.PrincipalFor(user, AuthSchemes.Cookie));
            return Results.Redirect(returnUrl);
        }).AllowAnonymous().ExcludeFromDescription();
    }

    private static async Task<UserAccount?> PendingUserAsync(HttpContext http, UserAccounts accounts, CancellationToken ct)
    {
        if (!http.Request.Cookies.TryGetValue(PendingCookie, out var value) || string.IsNullOrEmpty(value)) return null;
        string payload;
        try
        {
            payload = Protector(http).Unprotect(value);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }

        var parts = payload.Split('|');
        if (parts.Length != 3 || !Guid.TryParse(parts[0], out var id) || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out var expires)
            || DateTimeOffset.FromUnixTimeSeconds(expires) < DateTimeOffset.UtcNow)
            return null;
        var user = await accounts.LoadAsync(id, ct);
        return user is { Disabled: false, TotpEnabled: true } && user.SecurityStamp == parts[1] ? user : null;
    }

    private static IDataProtector Protector(HttpContext http) =>
        http.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector("KetamineBilling.SignIn.SecondStep.v1");

    private static string Page(AntiforgeryTokenSet tokens, string returnUrl, string? error)
    {
        var message = error == "invalid" ? "<p class=\"error\" role=\"alert\">The code is wrong, expired or was used already.</p>" : "";
        return $$"""
            {{SignIn.PageHead("One-time code")}}
            <body><form method="post" action="{{CodePage}}">
              <h1>KetamineBilling</h1>{{message}}
              <p>Enter the 6-digit code your authenticator app shows for KetamineBilling.</p>
              <input type="hidden" name="{{tokens.FormFieldName}}" value="{{WebUtility.HtmlEncode(tokens.RequestToken)}}">
              <input type="hidden" name="returnUrl" value="{{WebUtility.HtmlEncode(returnUrl)}}">
              <label>Code <input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required autofocus></label>
              <button type="submit">Sign in</button>
            </form></body></html>
            """;
    }
}
