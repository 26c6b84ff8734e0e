using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

public record ResetPassword(string? NewPassword);

public static class ResetPasswordEndpoint
{
    /// <summary>A new password keeping the password rules (which need the account's email: a 400 naming newPassword otherwise).</summary>
    public static Outcome Decide(UserAccount user, ResetPassword command, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        PasswordRules.Validate(problems, "newPassword", command.NewPassword, user.Email);
        if (problems.Any) return Outcome.Reject(problems, StatusCodes.Status400BadRequest);
        var changed = user.Copy();
        changed.ChangedAt = now;
        // The handler hashes the password into the account as it saves it, with a new security stamp that revokes what was issued.
        return Outcome.Ok(new Saved<UserAccount>(changed, UserView.Of(changed), command.NewPassword!));
    }

    [WolverinePost("/api/users/{userId}/password"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Users")]
    public static async Task<IResult> Reset(Guid userId, ResetPassword command, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states,
        TimeProvider clock, ILogger<UserView> logger, CancellationToken ct)
    {
        if (await AccountChanges.ManagedAsync(admin, userId, accounts, ct) is not { } user) return AccountChanges.UnknownUser(userId).ToResult();
        var outcome = Decide(user, command, clock.GetUtcNow());
        var result = await AccountChanges.SaveAsync(outcome, accounts, states, ct);
        if (outcome.IsAccepted) logger.LogInformation("Administrator {AdminId} reset the password of user {UserId}", AccountChanges.CallerId(admin), user.Id);
        return result;
    }
}
