using System.Collections.Concurrent;
using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace KetamineBilling.Features.Accounts;

/// <summary>What a cookie or token is checked against on every use: the account's stamp and state.</summary>
public sealed record AccountState(string Stamp, bool Disabled, bool TotpEnabled, IReadOnlyList<string> Roles, IReadOnlyList<string> Clinics);

public sealed class RevocationOptions
{
    /// <summary>
    /// How long a node trusts an account's stamp it read from PostgreSQL. The node that makes a change forgets it at
    /// once; other nodes see it within this time.
    /// </summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often an open Blazor circuit checks that its sign-in still stands (with CacheFor: within a minute).</summary>
    public TimeSpan CircuitRevalidation { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Revocation by security stamp: a cookie or bearer token whose stamp is no longer the account's, or whose account is
/// disabled or gone, is refused. Account states are cached per node for <see cref="RevocationOptions.CacheFor"/>.
/// </summary>
public sealed class AccountStates(IGlobalStore store, RevocationOptions options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<Guid, (AccountState? State, DateTimeOffset ReadAt)> _cache = new();

    public async ValueTask<AccountState?> GetAsync(Guid userId, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(userId, out var cached) && now - cached.ReadAt < options.CacheFor)
        {
            return cached.State;
        }

        await using var session = store.QuerySession();
        var user = await session.LoadAsync<UserAccount>(userId, ct);
        var state = user is null ? null : new AccountState(user.SecurityStamp, user.Disabled, user.TotpEnabled, user.Roles.ToList(), user.Clinics.ToList());
        _cache[userId] = (state, now);
        return state;
    }

    /// <summary>Called by whatever changed the account on this node: its next request sees the change.</summary>
    public void Forget(Guid userId) => _cache.TryRemove(userId, out _);

    /// <summary>
    /// Whether the principal's sign-in still stands: its account exists, is enabled, has the stamp it carries and still
    /// belongs to the clinic it acts for (taking a clinic away revokes at once what acts for it).
    /// </summary>
    public async ValueTask<bool> IsCurrentAsync(ClaimsPrincipal? principal, CancellationToken ct)
    {
        if (principal?.Identity?.IsAuthenticated != true) return false;
        if (!Guid.TryParse(principal.FindFirstValue(UserClaims.UserId), out var userId)) return false;
        var stamp = principal.FindFirstValue(UserClaims.SecurityStamp);
        if (stamp is null) return false;
        var state = await GetAsync(userId, ct);
        var clinic = principal.FindFirstValue(UserClaims.Clinic);
        return state is { Disabled: false } && string.Equals(state.Stamp, stamp, StringComparison.Ordinal)
               && (clinic is null || state.Clinics.Contains(clinic, StringComparer.Ordinal));
    }

    /// <summary>The BearerToken handler's hook: a token of a changed or disabled account fails authentication (401).</summary>
    public static async Task CheckBearerAsync(MessageReceivedContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return;
        var token = header["Bearer ".Length..].Trim();
        var ticket = context.Options.BearerTokenProtector.Unprotect(token);
        if (ticket is null) return; // the handler refuses it as it would anyway
        var states = context.HttpContext.RequestServices.GetRequiredService<AccountStates>();
        if (!await states.IsCurrentAsync(ticket.Principal, context.HttpContext.RequestAborted))
        {
            context.Fail("The token was revoked: the account was disabled or its password or roles changed. Sign in again.");
            return;
        }

        context.Token = token;
    }

    /// <summary>The cookie handler's hook: a cookie of a changed or disabled account is dropped (the page asks to sign in).</summary>
    public static async Task CheckCookieAsync(CookieValidatePrincipalContext context)
    {
        var states = context.HttpContext.RequestServices.GetRequiredService<AccountStates>();
        if (!await states.IsCurrentAsync(context.Principal, context.HttpContext.RequestAborted))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(AuthSchemes.Cookie);
        }
    }
}

/// <summary>
/// An open Blazor circuit keeps the user it started with: this provider asks every
/// <see cref="RevocationOptions.CircuitRevalidation"/> whether that sign-in still stands, and signs the circuit out
/// (the router then sends the browser to the sign-in page) when it does not.
/// </summary>
public sealed class RevalidatingAccountStateProvider(ILoggerFactory loggers, IServiceScopeFactory scopes, RevocationOptions options)
    : RevalidatingServerAuthenticationStateProvider(loggers)
{
    protected override TimeSpan RevalidationInterval => options.CircuitRevalidation;

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken) =>
        ValidateAsync(authenticationState, cancellationToken);

    internal async Task<bool> ValidateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AccountStates>().IsCurrentAsync(authenticationState.User, cancellationToken);
    }
}
