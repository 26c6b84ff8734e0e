using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

public record TurnOffTwoFactor(string? Password);

public static class TurnOffTwoFactorEndpoint
{
    /// <summary>
    /// The second factor (and any pending key) is dropped when the password is right (<paramref name="passwordMatches"/>,
    /// checked by the handler) and the user's roles do not require it (<paramref name="required"/>); nothing to drop is a replay.
    /// </summary>
    public static Outcome Decide(UserAccount user, TurnOffTwoFactor command, bool passwordMatches, bool required, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(command.Password) || command.Password.Length > PasswordRules.MaximumLength || !passwordMatches)
            return Outcome.Reject("password", "is not your current password", StatusCodes.Status400BadRequest);
        if (required) return Outcome.Reject("password", "your role requires the second factor: it stays on");
        var off = new TwoFactorStatus(false, false, false);
        if (!user.TotpEnabled && user.PendingTotpSecret is null) return Outcome.Replay(off);
        var changed = user.Copy();
        changed.TotpSecret = null;
        changed.PendingTotpSecret = null;
        changed.ChangedAt = now;
        return Outcome.Ok(new Saved<UserAccount>(changed, off));
    }

    /// <summary>Turns the second factor off (password required); refused while the user's role requires it.</summary>
    [WolverinePost("/api/account/two-factor/disable"), Authorize(Policy = Policies.AnyRole), NotTenanted]
    [Tags("Authentication")]
    public static async Task<IResult> Disable(TurnOffTwoFactor command, ClaimsPrincipal caller, UserAccounts accounts, AccountStates states, TwoFactor twoFactor,
        TimeProvider clock, ILogger<TurnOffTwoFactor> logger, CancellationToken ct)
    {
        if (await AccountChanges.CallerAsync(caller, accounts, ct) is not { } user) return Results.Unauthorized();
        var matches = command.Password is { Length: > 0 and <= PasswordRules.MaximumLength } password && accounts.VerifyPassword(user, password);
        var outcome = Decide(user, command, matches, matches && await twoFactor.RequiredForAsync(user.Roles, ct), clock.GetUtcNow());
        var result = await AccountChanges.SaveAsync(outcome, accounts, states, ct);
        if (outcome.IsAccepted) logger.LogInformation("User {UserId} turned the second factor off", user.Id);
        return result;
    }
}
