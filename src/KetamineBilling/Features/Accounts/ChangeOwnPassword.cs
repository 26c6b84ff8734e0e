using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

public record ChangeOwnPassword(string? CurrentPassword, string? NewPassword);

public static class ChangeOwnPasswordEndpoint
{
    /// <summary>
    /// The caller's new password, when the current one is right (<paramref name="currentPasswordMatches"/>, checked by the
    /// handler against the hash) and the new one keeps the password rules and differs from it: a 400 naming the field otherwise.
    /// </summary>
    public static Outcome Decide(UserAccount user, ChangeOwnPassword command, bool currentPasswordMatches, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        if (string.IsNullOrEmpty(command.CurrentPassword)) problems.Add("currentPassword", "is required");
        else if (command.CurrentPassword.Length > PasswordRules.MaximumLength || !currentPasswordMatches)
            problems.Add("currentPassword", "is not your current password");
        PasswordRules.Validate(problems, "newPassword", command.NewPassword, user.Email);
        if (problems.Errors.ContainsKey("currentPassword") is false && command.NewPassword is not null && command.NewPassword == command.CurrentPassword)
            problems.Add("newPassword", "must differ from the current password");
        if (problems.Any) return Outcome.Reject(problems, StatusCodes.Status400BadRequest);

        var changed = user.Copy();
        changed.ChangedAt = now;
        return Outcome.Ok(new Saved<UserAccount>(changed, null, command.NewPassword!));
    }

    /// <summary>
    /// Changes the caller's password (the current one is required). Everything issued before, this token included, is
    /// revoked: the caller signs in again with the new password.
    /// </summary>
    [WolverinePost("/api/account/password"), Authorize(Policy = Policies.AnyRole), NotTenanted]
    [Tags("Authentication")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status400BadRequest)]
    public static async Task<IResult> ChangePassword(ChangeOwnPassword command, ClaimsPrincipal caller, UserAccounts accounts, AccountStates states,
        TimeProvider clock, ILogger<ChangeOwnPassword> logger, CancellationToken ct)
    {
        if (await AccountChanges.CallerAsync(caller, accounts, ct) is not { } user) return Results.Unauthorized();
        var matches = command.CurrentPassword is { Length: > 0 and <= PasswordRules.MaximumLength } current && accounts.VerifyPassword(user, current);
        var outcome = Decide(user, command, matches, clock.GetUtcNow());
        var result = await AccountChanges.SaveAsync(outcome, accounts, states, ct);
        if (outcome.IsAccepted) logger.LogInformation("User {UserId} changed their password", user.Id);
        return result;
    }
}
