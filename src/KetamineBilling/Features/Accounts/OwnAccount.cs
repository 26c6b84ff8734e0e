using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

public record TwoFactorStatus(bool Enabled, bool Required, bool SetupPending);

/// <summary>The key to put into an authenticator app: as an otpauth:// URI (a QR code) and as base32 text.</summary>
public record TwoFactorSetup(string Secret, string OtpAuthUri);

/// <summary>
/// What any signed-in user reads of their own account. The changes are commands of their own: ChangeOwnPassword,
/// SetUpTwoFactor, ConfirmTwoFactor and TurnOffTwoFactor.
/// </summary>
public static class OwnAccount
{
    [WolverineGet("/api/account/two-factor"), Authorize(Policy = Policies.AnyRole), NotTenanted]
    [Tags("Authentication")]
    public static async Task<IResult> Status(ClaimsPrincipal caller, UserAccounts accounts, TwoFactor twoFactor, CancellationToken ct) =>
        await AccountChanges.CallerAsync(caller, accounts, ct) is { } user
            ? Results.Ok(new TwoFactorStatus(user.TotpEnabled, await twoFactor.RequiredForAsync(user.Roles, ct), user.PendingTotpSecret is not null))
            : Results.Unauthorized();
}
