using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

public record ConfirmTwoFactor(string? Code);

public static class ConfirmTwoFactorEndpoint
{
    /// <summary>
    /// The pending key becomes the second factor when the code is its current one (<paramref name="matchedStep"/>: the
    /// time step the handler found the code valid for, null when it is not). <paramref name="required"/>: whether the
    /// user's roles require the second factor (for the answer).
    /// </summary>
    public static Outcome Decide(UserAccount user, ConfirmTwoFactor command, long? matchedStep, bool required, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(command.Code)) return Outcome.Reject("code", "is required", StatusCodes.Status400BadRequest);
        if (user.PendingTotpSecret is null)
            return Outcome.Reject("code", user.TotpEnabled ? "the second factor is on already" : "start with POST /api/account/two-factor/setup");
        if (matchedStep is not { } step)
            return Outcome.Reject("code", "is not the current code of the key shown at setup (6 digits; check the device's clock)");

        var changed = user.Copy();
        changed.TotpSecret = user.PendingTotpSecret;
        changed.PendingTotpSecret = null;
        changed.LastTotpStep = step; // the code that confirmed cannot sign in too
        changed.ChangedAt = now;
        return Outcome.Ok(new Saved<UserAccount>(changed, new TwoFactorStatus(true, required, false)));
    }

    [WolverinePost("/api/account/two-factor/confirm"), Authorize(Policy = Policies.AnyRole), NotTenanted]
    [Tags("Authentication")]
    [ProducesResponseType<TwoFactorStatus>(StatusCodes.Status200OK)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status400BadRequest)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status422UnprocessableEntity)]
    public static async Task<IResult> Confirm(ConfirmTwoFactor command, ClaimsPrincipal caller, UserAccounts accounts, AccountStates states, TwoFactor twoFactor,
        TimeProvider clock, ILogger<ConfirmTwoFactor> logger, CancellationToken ct)
    {
        if (await AccountChanges.CallerAsync(caller, accounts, ct) is not { } user) return Results.Unauthorized();
        var step = user.PendingTotpSecret is { } pending && !string.IsNullOrWhiteSpace(command.Code) ? twoFactor.Match(twoFactor.Unprotect(pending), command.Code) : null;
        var outcome = Decide(user, command, step, step is not null && await twoFactor.RequiredForAsync(user.Roles, ct), clock.GetUtcNow());
        var result = await AccountChanges.SaveAsync(outcome, accounts, states, ct);
        if (outcome.IsAccepted) logger.LogInformation("User {UserId} turned the second factor on", user.Id);
        return result;
    }
}
