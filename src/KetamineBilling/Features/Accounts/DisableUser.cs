using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

/// <summary>The Administrator disables an account (no body: the route names it, the caller is <paramref name="By"/>).</summary>
public record DisableUser(Guid UserId, Guid? By);

public static class DisableUserEndpoint
{
    /// <summary>Disabled, with a new security stamp (<paramref name="newStamp"/>) that revokes what was issued; never one's own account.</summary>
    public static Outcome Decide(UserAccount user, DisableUser command, string newStamp, DateTimeOffset now)
    {
        if (user.Id == command.By) return Outcome.Reject("userId", "you cannot disable your own account");
        if (user.Disabled) return Outcome.Replay(UserView.Of(user));
        var changed = user.Copy();
        changed.Disabled = true;
        changed.SecurityStamp = newStamp;
        changed.ChangedAt = now;
        return Outcome.Ok(new Saved<UserAccount>(changed, UserView.Of(changed)));
    }

    [WolverinePost("/api/users/{userId}/disable"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Users")]
    public static async Task<IResult> Disable(Guid userId, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states, TimeProvider clock,
        ILogger<UserView> logger, CancellationToken ct)
    {
        if (await AccountChanges.ManagedAsync(admin, userId, accounts, ct) is not { } user) return AccountChanges.UnknownUser(userId).ToResult();
        var outcome = Decide(user, new DisableUser(userId, AccountChanges.CallerId(admin)), UserAccount.NewStamp(), clock.GetUtcNow());
        var result = await AccountChanges.SaveAsync(outcome, accounts, states, ct);
        if (outcome.IsAccepted) logger.LogInformation("Administrator {AdminId} disabled user {UserId}", AccountChanges.CallerId(admin), user.Id);
        return result;
    }
}
