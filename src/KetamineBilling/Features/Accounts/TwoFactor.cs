using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Patching;
using Microsoft.AspNetCore.DataProtection;
using OtpNet;

namespace KetamineBilling.Features.Accounts;

/// <summary>The roles whose users must have the TOTP second factor on (one document, set by an Administrator).</summary>
public sealed class TwoFactorPolicy
{
    public const string DocumentId = "two-factor-policy";

    public string Id { get; set; } = DocumentId;

    public List<string> RequiredRoles { get; set; } = [];

    public DateTimeOffset? ChangedAt { get; set; }

    public Guid? ChangedBy { get; set; }
}

/// <summary>A TOTP time step that signed in, stored so that the same code cannot be used again (on any node).</summary>
public sealed class TotpUse
{
    public string Id { get; set; } = "";

    public DateTimeOffset UsedAt { get; set; }
}

/// <summary>
/// RFC 6238 TOTP (Otp.NET: SHA-1, 6 digits, 30-second steps, one step of clock drift either way). Keys are stored
/// protected with Data Protection, never in plain text; a code that signed in once is refused afterwards.
/// </summary>
public sealed class TwoFactor(IDataProtectionProvider protection, IGlobalStore store, TimeProvider clock, RevocationOptions options)
{
    public const string Issuer = "KetamineBilling";

    private readonly IDataProtector _protector = protection.CreateProtector("KetamineBilling.Accounts.Totp.v1");

    private (TwoFactorPolicy Policy, DateTimeOffset ReadAt)? _policy;

    public string Protect(byte[] key) => _protector.Protect(Base32Encoding.ToString(key));

    public byte[] Unprotect(string protectedKey) => Base32Encoding.ToBytes(_protector.Unprotect(protectedKey));

    public static byte[] NewKey() => KeyGeneration.GenerateRandomKey(20);

    public static string OtpAuthUri(byte[] key, string email) =>
        new OtpUri(OtpType.Totp, Base32Encoding.ToString(key), email, Issuer).ToString();

    /// <summary>The time step the code matches (now, or one step either side), or null.</summary>
    public long? Match(byte[] key, string? code)
    {
        if (string.IsNullOrWhiteSpace(code)) return null;
        var digits = code.Replace(" ", "", StringComparison.Ordinal).Trim();
        if (digits.Length != 6 || !digits.All(char.IsAsciiDigit)) return null;
        var totp = new Totp(key);
        return totp.VerifyTotp(clock.GetUtcNow().UtcDateTime, digits, out var step, VerificationWindow.RfcSpecifiedNetworkDelay) ? step : null;
    }

    /// <summary>
    /// Checks a sign-in code and uses it up: true once per time step; a code of that step or an earlier one that already
    /// signed in is refused (a TotpUse document per step, inserted atomically, so two nodes cannot both accept it).
    /// </summary>
    public async Task<bool> UseCodeAsync(UserAccount user, string? code, CancellationToken ct)
    {
        if (user.TotpSecret is null) return false;
        if (Match(Unprotect(user.TotpSecret), code) is not { } step || step <= user.LastTotpStep) return false;
        try
        {
            await using var session = store.LightweightSession();
            session.Insert(new TotpUse { Id = $"{user.Id:N}:{step}", UsedAt = clock.GetUtcNow() });
            session.Patch<UserAccount>(user.Id).Set(u => u.LastTotpStep, step);
            await session.SaveChangesAsync(ct);
        }
        catch (Exception e) when (e is JasperFx.DocumentAlreadyExistsException || e.InnerException is Npgsql.PostgresException { SqlState: "23505" })
        {
            return false;
        }

        user.LastTotpStep = step;
        return true;
    }

    public async Task<TwoFactorPolicy> PolicyAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_policy is { } cached && now - cached.ReadAt < options.CacheFor) return cached.Policy;
        await using var session = store.QuerySession();
        var policy = await session.LoadAsync<TwoFactorPolicy>(TwoFactorPolicy.DocumentId, ct) ?? new TwoFactorPolicy();
        _policy = (policy, now);
        return policy;
    }

    public void ForgetPolicy() => _policy = null;

    public async Task<bool> RequiredForAsync(IEnumerable<string> roles, CancellationToken ct)
    {
        var policy = await PolicyAsync(ct);
        return roles.Any(policy.RequiredRoles.Contains);
    }

    /// <summary>A signed-in user whose role requires the second factor and who has not turned it on yet.</summary>
    public async Task<bool> MustEnrolAsync(ClaimsPrincipal user, AccountStates states, CancellationToken ct)
    {
        if (!Guid.TryParse(user.FindFirstValue(UserClaims.UserId), out var userId)) return false;
        if (await states.GetAsync(userId, ct) is not { TotpEnabled: false } state) return false;
        return await RequiredForAsync(state.Roles, ct);
    }
}

/// <summary>
/// Keeps a user whose role requires the second factor, and who has not turned it on, to enrolling: their API calls
/// answer 403 (except their own account's calls) and their pages lead to the enrolment page.
/// Runs after authorization, when the request's user is the one its endpoint authenticated (cookie or bearer).
/// </summary>
public static class TwoFactorEnrolmentGate
{
    public const string EnrolPage = "/account/two-factor";

    private static readonly string[] Open = ["/api/account", "/api/auth", "/account/", "/_framework", "/_blazor", "/_content", "/health", "/openapi", "/reference", "/ui/"];

    public static void UseTwoFactorEnrolmentGate(this WebApplication app) => app.Use(async (http, next) =>
    {
        var path = http.Request.Path.Value ?? "/";
        if (http.User.Identity?.IsAuthenticated == true && !Open.Any(o => path.StartsWith(o, StringComparison.OrdinalIgnoreCase)) && !Path.HasExtension(path))
        {
            var twoFactor = http.RequestServices.GetRequiredService<TwoFactor>();
            if (await twoFactor.MustEnrolAsync(http.User, http.RequestServices.GetRequiredService<AccountStates>(), http.RequestAborted))
            {
                if (path.StartsWith("/api/", StringComparison.Ordinal))
                {
                    await Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Two-factor sign-in required",
                        detail: "Your role requires a second factor: turn it on with POST /api/account/two-factor/setup and /confirm, then go on.")
                        .ExecuteAsync(http);
                    return;
                }

                http.Response.Redirect(EnrolPage);
                return;
            }
        }

        await next(http);
    });
}
