using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

/// <summary>The Administrator enables a disabled account again (no body: the route names it).</summary>
public record EnableUser(Guid UserId);

public static class EnableUserEndpoint
{
    /// <summary>Enabled again (its stamp stays: what was revoked stays revoked); an enabled account is a replay.</summary>
    public static Outcome Decide(UserAccount user, EnableUser command, DateTimeOffset now)
    {
        if (!user.Disabled) return Outcome.Replay(UserView.Of(user));
        var changed = user.Copy();
        changed.Disabled = false;
        changed.ChangedAt = now;
        return Outcome.Ok(new Saved<UserAccount>(changed, UserView.Of(changed)));
    }

    [WolverinePost("/api/users/{userId}/enable"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Users")]
    public static async Task<IResult> Enable(Guid userId, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states, TimeProvider clock,
        ILogger<UserView> logger, CancellationToken ct)
    {
        if (await AccountChanges.ManagedAsync(admin, userId, accounts, ct) is not { } user) return AccountChanges.UnknownUser(userId).ToResult();
        var outcome = Decide(user, new EnableUser(userId), clock.GetUtcNow());
        var result = await AccountChanges.SaveAsync(outcome, accounts, states, ct);
        if (outcome.IsAccepted) logger.LogInformation("Administrator {AdminId} enabled user {UserId}", AccountChanges.CallerId(admin), user.Id);
        return result;
    }
}
