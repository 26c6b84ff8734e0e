using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using OtpNet;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

/// <summary>The caller asks for a new authenticator key (no body: the key is made by the handler, at random).</summary>
public record SetUpTwoFactor(byte[] NewKey, string ProtectedKey);

public static class SetUpTwoFactorEndpoint
{
    /// <summary>The new key is kept pending (protected) and shown once; refused while the second factor is on.</summary>
    public static Outcome Decide(UserAccount user, SetUpTwoFactor command)
    {
        if (user.TotpEnabled) return Outcome.Conflict("the second factor is on already: turn it off first to use another key");
        var changed = user.Copy();
        changed.PendingTotpSecret = command.ProtectedKey;
        return Outcome.Ok(new Saved<UserAccount>(changed, new TwoFactorSetup(Base32Encoding.ToString(command.NewKey), TwoFactor.OtpAuthUri(command.NewKey, user.Email))));
    }

    /// <summary>Makes a new key and shows it once; the second factor is on only after <c>confirm</c> with a code from it.</summary>
    [WolverinePost("/api/account/two-factor/setup"), Authorize(Policy = Policies.AnyRole), NotTenanted]
    [Tags("Authentication")]
    [ProducesResponseType<TwoFactorSetup>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict)]
    public static async Task<IResult> Setup(ClaimsPrincipal caller, UserAccounts accounts, AccountStates states, TwoFactor twoFactor, CancellationToken ct)
    {
        if (await AccountChanges.CallerAsync(caller, accounts, ct) is not { } user) return Results.Unauthorized();
        var key = TwoFactor.NewKey();
        return await AccountChanges.SaveAsync(Decide(user, new SetUpTwoFactor(key, twoFactor.Protect(key))), accounts, states, ct);
    }
}
