using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

/// <summary>The clinics an account works for, as a whole (the list replaces the one before).</summary>
public record ChangeClinics(IReadOnlyList<string>? Clinics);

public static class ChangeClinicsEndpoint
{
    /// <summary>
    /// The account's clinics become <paramref name="clinics"/> (checked by <see cref="UserAdministration.MembershipsAsync"/>);
    /// the clinics of the account the administrator does not work for stay (they are not the administrator's to take).
    /// A cookie or token acting for a clinic taken away stops working at once (<see cref="AccountStates"/>).
    /// </summary>
    public static Outcome Decide(UserAccount user, IReadOnlyList<string> clinics, IReadOnlyList<string> adminClinics, DateTimeOffset now)
    {
        var kept = user.Clinics.Where(c => !adminClinics.Contains(c, StringComparer.Ordinal));
        var next = kept.Concat(clinics).Distinct(StringComparer.Ordinal).ToList();
        if (next.ToHashSet(StringComparer.Ordinal).SetEquals(user.Clinics)) return Outcome.Replay(UserView.Of(user));
        var changed = user.Copy();
        changed.Clinics = next;
        changed.ChangedAt = now;
        return Outcome.Ok(new Saved<UserAccount>(changed, UserView.Of(changed)));
    }

    [WolverinePut("/api/users/{userId}/clinics"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Users")]
    [ProducesResponseType<UserView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status422UnprocessableEntity)]
    public static async Task<IResult> Set(Guid userId, ChangeClinics command, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states,
        TimeProvider clock, ILogger<UserView> logger, CancellationToken ct)
    {
        if (await AccountChanges.ManagedAsync(admin, userId, accounts, ct) is not { } user) return AccountChanges.UnknownUser(userId).ToResult();
        var clinics = await UserAdministration.MembershipsAsync(command.Clinics ?? [], user.EmployerId is null ? null : user.EmployerId, admin, accounts, ct);
        if (clinics.Problem is { } refused) return refused.ToResult();
        var adminClinics = await AccountChanges.CallerClinicsAsync(admin, accounts, ct);
        var outcome = Decide(user, clinics.Codes, adminClinics, clock.GetUtcNow());
        var result = await AccountChanges.SaveAsync(outcome, accounts, states, ct);
        if (outcome.IsAccepted)
            logger.LogInformation("Administrator {AdminId} set the clinics of user {UserId} to {Clinics}", AccountChanges.CallerId(admin), user.Id,
                string.Join(",", clinics.Codes));
        return result;
    }
}
