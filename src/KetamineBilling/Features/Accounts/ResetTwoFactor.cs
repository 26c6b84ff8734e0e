using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

/// <summary>The Administrator turns a user's second factor off (no body: the route names the account).</summary>
public record ResetTwoFactor(Guid UserId);

public static class ResetTwoFactorEndpoint
{
    /// <summary>The key (and any pending one) dropped, with a new security stamp; an account without one is a replay.</summary>
    public static Outcome Decide(UserAccount user, ResetTwoFactor command, string newStamp, DateTimeOffset now)
    {
        if (user.TotpSecret is null && user.PendingTotpSecret is null) return Outcome.Replay(UserView.Of(user));
        var changed = user.Copy();
        changed.TotpSecret = null;
        changed.PendingTotpSecret = null;
        changed.SecurityStamp = newStamp;
        changed.ChangedAt = now;
        return Outcome.Ok(new Saved<UserAccount>(changed, UserView.Of(changed)));
    }

    /// <summary>Turns a user's second factor off (a lost phone): they enrol again; what was issued is revoked.</summary>
    [WolverinePost("/api/users/{userId}/two-factor/reset"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Users")]
    public static async Task<IResult> Reset(Guid userId, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states, TimeProvider clock,
        ILogger<UserView> logger, CancellationToken ct)
    {
        if (await AccountChanges.ManagedAsync(admin, userId, accounts, ct) is not { } user) return AccountChanges.UnknownUser(userId).ToResult();
        var outcome = Decide(user, new ResetTwoFactor(userId), UserAccount.NewStamp(), clock.GetUtcNow());
        var result = await AccountChanges.SaveAsync(outcome, accounts, states, ct);
        if (outcome.IsAccepted) logger.LogInformation("Administrator {AdminId} reset the second factor of user {UserId}", AccountChanges.CallerId(admin), user.Id);
        return result;
    }
}
