using System.Globalization;
using System.Security.Claims;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Wolverine.Http;

namespace KetamineBilling.Features.Auth;

/// <summary>
/// <c>otp</c>: the 6-digit code of the authenticator app, for an account with the second factor on. <c>clinic</c>: the
/// clinic the token acts for, one of the account's (default: its first).
/// </summary>
public record TokenRequest(string? Username, string? Password, string? Otp = null, string? Clinic = null);

public record TokenResponse(string AccessToken, DateTimeOffset ExpiresAt, string TokenType = "Bearer");

/// <param name="Clinic">The clinic the cookie or token acts for; <paramref name="Clinics"/>: every clinic the account works for.</param>
public record CurrentUser(Guid Id, string Email, string DisplayName, IReadOnlyList<string> Roles, Guid? EmployerId, string? Clinic,
    IReadOnlyList<ClinicChoice> Clinics);

/// <summary>A clinic a user may act for: its code and name.</summary>
public record ClinicChoice(string Code, string Name);

public static class IssueTokenEndpoint
{
    /// <summary>The principal of a cookie or token acting for <paramref name="clinic"/> (one of the account's; default its first).</summary>
    public static ClaimsPrincipal PrincipalFor(UserAccount user, string scheme, string? clinic = null)
    {
        clinic ??= user.Clinics.FirstOrDefault();
        if (clinic is not null && !user.Clinics.Contains(clinic, StringComparer.Ordinal))
        {
            throw new InvalidOperationException("a principal acts only for one of the account's clinics");
        }

        var claims = new List<Claim>
        {
            new(UserClaims.UserId, user.Id.ToString()),
            new(UserClaims.Email, user.Email),
            new("name", user.DisplayName),
            new(UserClaims.SecurityStamp, user.SecurityStamp)
        };
        claims.AddRange(user.Roles.Select(r => new Claim(UserClaims.Role, r)));
        if (clinic is not null)
        {
            claims.Add(new Claim(UserClaims.Clinic, clinic));
        }

        if (user.EmployerId is { } employerId)
        {
            claims.Add(new Claim(UserClaims.EmployerId, employerId.ToString()));
        }

        // The identity's Name is the user id: Wolverine relays it into Marten's event metadata (who).
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, UserClaims.UserId, UserClaims.Role));
    }

    /// <summary>The client's address: the forwarded one when a known proxy sent the request (Network:KnownProxies).</summary>
    public static string ClientAddress(HttpContext context) => WebSecurity.ClientAddress(context);

    [WolverinePost("/api/auth/token"), AllowAnonymous, NotTenanted]
    [Tags("Authentication")]
    [ProducesResponseType<TokenResponse>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status400BadRequest)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status401Unauthorized)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status403Forbidden)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status413PayloadTooLarge)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status429TooManyRequests)]
    public static async Task<IResult> Post(
        TokenRequest request,
        HttpContext context,
        UserAccounts accounts,
        LoginThrottle throttle,
        IOptionsMonitor<BearerTokenOptions> bearerOptions,
        TimeProvider clock,
        ILogger<TokenRequest> logger,
        CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.Username) || string.IsNullOrEmpty(request.Password)
            || request.Username.Length > LoginThrottleOptions.MaxUsernameLength || request.Password.Length > LoginThrottleOptions.MaxPasswordLength)
        {
            var problems = new ValidationProblems();
            if (string.IsNullOrWhiteSpace(request.Username)) problems.Add("username", "is required");
            else if (request.Username.Length > LoginThrottleOptions.MaxUsernameLength) problems.Add("username", $"must be at most {LoginThrottleOptions.MaxUsernameLength} characters");
            if (string.IsNullOrEmpty(request.Password)) problems.Add("password", "is required");
            else if (request.Password.Length > LoginThrottleOptions.MaxPasswordLength) problems.Add("password", $"must be at most {LoginThrottleOptions.MaxPasswordLength} characters");
            return problems.ToResult(StatusCodes.Status400BadRequest);
        }

        var client = ClientAddress(context);
        if (await throttle.RetryAfterAsync(request.Username, client, ct) is { } wait)
        {
            context.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many failed sign-ins",
                detail: "Sign-in is paused for this account or address after repeated failures; try again later.");
        }

        var user = await accounts.CheckPasswordAsync(request.Username, request.Password, ct);
        if (user is null)
        {
            await throttle.RecordFailureAsync(request.Username, client, ct);
            logger.LogWarning("Failed sign-in from {ClientAddress}", client);
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: "The username or password is wrong.");
        }

        if (await TwoFactorSignIn.TokenProblemAsync(context.RequestServices.GetRequiredService<TwoFactor>(), user, request.Otp, ct) is { } refused)
        {
            await throttle.RecordFailureAsync(request.Username, client, ct);
            return refused;
        }

        await throttle.RecordSuccessAsync(request.Username, client, ct);
        var clinic = request.Clinic?.Trim().ToLowerInvariant();
        if (clinic is { Length: > 0 } && !user.Clinics.Contains(clinic, StringComparer.Ordinal))
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not a clinic of this account",
                detail: $"clinic: the account does not work for clinic '{clinic}'; it works for: {string.Join(", ", user.Clinics)}.");
        }

        var options = bearerOptions.Get(AuthSchemes.Bearer);
        var now = clock.GetUtcNow();
        var expiresAt = now + options.BearerTokenExpiration;
        var ticket = new AuthenticationTicket(
            PrincipalFor(user, AuthSchemes.Bearer, clinic is { Length: > 0 } ? clinic : null),
            new AuthenticationProperties { IssuedUtc = now, ExpiresUtc = expiresAt },
            AuthSchemes.Bearer);
        logger.LogInformation("Issued an API token to user {UserId}", user.Id);
        return Results.Ok(new TokenResponse(options.BearerTokenProtector.Protect(ticket), expiresAt));
    }

    [WolverineGet("/api/auth/me"), Authorize(Policy = Policies.AnyRole), NotTenanted]
    [Tags("Authentication")]
    public static async Task<CurrentUser> Me(ClaimsPrincipal user, UserAccounts accounts, Clinics clinics, CancellationToken ct)
    {
        var id = Guid.Parse(user.FindFirstValue(UserClaims.UserId)!);
        var memberships = (await accounts.LoadAsync(id, ct))?.Clinics ?? [];
        var names = (await clinics.ListAsync(ct)).ToDictionary(c => c.Id, c => c.Name);
        return new CurrentUser(
            id,
            user.FindFirstValue(UserClaims.Email) ?? "",
            user.FindFirstValue("name") ?? "",
            user.FindAll(UserClaims.Role).Select(c => c.Value).ToList(),
            Guid.TryParse(user.FindFirstValue(UserClaims.EmployerId), out var employerId) ? employerId : null,
            user.FindFirstValue(UserClaims.Clinic),
            memberships.Select(c => new ClinicChoice(c, names.GetValueOrDefault(c, c))).ToList());
    }
}
