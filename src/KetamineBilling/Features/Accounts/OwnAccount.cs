using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using OtpNet;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

public record ChangeOwnPassword(string? CurrentPassword, string? NewPassword);

public record TwoFactorStatus(bool Enabled, bool Required, bool SetupPending);

/// <summary>The key to put into an authenticator app: as an otpauth:// URI (a QR code) and as base32 text.</summary>
public record TwoFactorSetup(string Secret, string OtpAuthUri);

public record ConfirmTwoFactor(string? Code);

public record TurnOffTwoFactor(string? Password);

/// <summary>What any signed-in user does with their own account: change the password, turn the second factor on or off.</summary>
public static class OwnAccount
{
    /// <summary>
    /// Changes the caller's password (the current one is required). Everything issued before, this token included, is
    /// revoked: the caller signs in again with the new password.
    /// </summary>
    [WolverinePost("/api/account/password"), Authorize(Policy = Policies.AnyRole)]
    [Tags("Authentication")]
    [ProducesResponseType(StatusCodes.Status204NoContent)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status400BadRequest)]
    public static async Task<IResult> ChangePassword(ChangeOwnPassword command, ClaimsPrincipal caller, UserAccounts accounts, AccountStates states,
        TimeProvider clock, ILogger<ChangeOwnPassword> logger, CancellationToken ct)
    {
        if (await CallerAsync(caller, accounts, ct) is not { } user) return Results.Unauthorized();
        var problems = new ValidationProblems();
        if (string.IsNullOrEmpty(command.CurrentPassword)) problems.Add("currentPassword", "is required");
        else if (command.CurrentPassword.Length > PasswordRules.MaximumLength || !accounts.VerifyPassword(user, command.CurrentPassword))
            problems.Add("currentPassword", "is not your current password");
        PasswordRules.Validate(problems, "newPassword", command.NewPassword, user.Email);
        if (problems.Errors.ContainsKey("currentPassword") is false && command.NewPassword is not null && command.NewPassword == command.CurrentPassword)
            problems.Add("newPassword", "must differ from the current password");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

        accounts.SetPassword(user, command.NewPassword!);
        user.ChangedAt = clock.GetUtcNow();
        await accounts.SaveAsync(user, ct);
        states.Forget(user.Id);
        logger.LogInformation("User {UserId} changed their password", user.Id);
        return Results.NoContent();
    }

    [WolverineGet("/api/account/two-factor"), Authorize(Policy = Policies.AnyRole)]
    [Tags("Authentication")]
    public static async Task<IResult> Status(ClaimsPrincipal caller, UserAccounts accounts, TwoFactor twoFactor, CancellationToken ct) =>
        await CallerAsync(caller, accounts, ct) is { } user
            ? Results.Ok(new TwoFactorStatus(user.TotpEnabled, await twoFactor.RequiredForAsync(user.Roles, ct), user.PendingTotpSecret is not null))
            : Results.Unauthorized();

    /// <summary>Makes a new key and shows it once; the second factor is on only after <c>confirm</c> with a code from it.</summary>
    [WolverinePost("/api/account/two-factor/setup"), Authorize(Policy = Policies.AnyRole)]
    [Tags("Authentication")]
    [ProducesResponseType<TwoFactorSetup>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict)]
    public static async Task<IResult> Setup(ClaimsPrincipal caller, UserAccounts accounts, TwoFactor twoFactor, CancellationToken ct)
    {
        if (await CallerAsync(caller, accounts, ct) is not { } user) return Results.Unauthorized();
        if (user.TotpEnabled) return Problems.Conflict("the second factor is on already: turn it off first to use another key");
        var key = TwoFactor.NewKey();
        user.PendingTotpSecret = twoFactor.Protect(key);
        await accounts.SaveAsync(user, ct);
        return Results.Ok(new TwoFactorSetup(Base32Encoding.ToString(key), TwoFactor.OtpAuthUri(key, user.Email)));
    }

    [WolverinePost("/api/account/two-factor/confirm"), Authorize(Policy = Policies.AnyRole)]
    [Tags("Authentication")]
    [ProducesResponseType<TwoFactorStatus>(StatusCodes.Status200OK)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status400BadRequest)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status422UnprocessableEntity)]
    public static async Task<IResult> Confirm(ConfirmTwoFactor command, ClaimsPrincipal caller, UserAccounts accounts, AccountStates states, TwoFactor twoFactor,
        TimeProvider clock, ILogger<ConfirmTwoFactor> logger, CancellationToken ct)
    {
        if (await CallerAsync(caller, accounts, ct) is not { } user) return Results.Unauthorized();
        if (string.IsNullOrWhiteSpace(command.Code)) return Problems.Invalid("code", "is required", StatusCodes.Status400BadRequest);
        if (user.PendingTotpSecret is null)
            return Problems.Invalid("code", user.TotpEnabled ? "the second factor is on already" : "start with POST /api/account/two-factor/setup");
        if (twoFactor.Match(twoFactor.Unprotect(user.PendingTotpSecret), command.Code) is not { } step)
            return Problems.Invalid("code", "is not the current code of the key shown at setup (6 digits; check the device's clock)");

        user.TotpSecret = user.PendingTotpSecret;
        user.PendingTotpSecret = null;
        user.LastTotpStep = step; // the code that confirmed cannot sign in too
        user.ChangedAt = clock.GetUtcNow();
        await accounts.SaveAsync(user, ct);
        states.Forget(user.Id);
        logger.LogInformation("User {UserId} turned the second factor on", user.Id);
        return Results.Ok(new TwoFactorStatus(true, await twoFactor.RequiredForAsync(user.Roles, ct), false));
    }

    /// <summary>Turns the second factor off (password required); refused while the user's role requires it.</summary>
    [WolverinePost("/api/account/two-factor/disable"), Authorize(Policy = Policies.AnyRole)]
    [Tags("Authentication")]
    public static async Task<IResult> Disable(TurnOffTwoFactor command, ClaimsPrincipal caller, UserAccounts accounts, AccountStates states, TwoFactor twoFactor,
        TimeProvider clock, ILogger<TurnOffTwoFactor> logger, CancellationToken ct)
    {
        if (await CallerAsync(caller, accounts, ct) is not { } user) return Results.Unauthorized();
        if (string.IsNullOrEmpty(command.Password) || command.Password.Length > PasswordRules.MaximumLength || !accounts.VerifyPassword(user, command.Password))
            return Problems.Invalid("password", "is not your current password", StatusCodes.Status400BadRequest);
        if (await twoFactor.RequiredForAsync(user.Roles, ct)) return Problems.Invalid("password", "your role requires the second factor: it stays on");
        if (!user.TotpEnabled && user.PendingTotpSecret is null) return Results.Ok(new TwoFactorStatus(false, false, false));
        user.TotpSecret = null;
        user.PendingTotpSecret = null;
        user.ChangedAt = clock.GetUtcNow();
        await accounts.SaveAsync(user, ct);
        states.Forget(user.Id);
        logger.LogInformation("User {UserId} turned the second factor off", user.Id);
        return Results.Ok(new TwoFactorStatus(false, false, false));
    }

    private static async Task<UserAccount?> CallerAsync(ClaimsPrincipal caller, UserAccounts accounts, CancellationToken ct) =>
        Guid.TryParse(caller.FindFirstValue(UserClaims.UserId), out var id) ? await accounts.LoadAsync(id, ct) : null;
}
