using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Accounts;

/// <summary>
/// What an accepted decision on a document (an account, the second-factor policy) saves, with the answer to give.
/// Accounts are documents, not event streams: the document is a changed copy (the one handed to the decision is not
/// touched). <paramref name="NewPassword"/>: a password to hash into the account as it is saved (the hash is salted at
/// random, so the decision names the password and the handler hashes it).
/// </summary>
public sealed record Saved<T>(T Document, object? Answer, string? NewPassword = null) where T : class;

/// <summary>The one way an account endpoint finds the account it works on, and saves what its decision changed.</summary>
public static class AccountChanges
{
    public static Outcome.Rejected UnknownUser(Guid userId) => Outcome.NotFound($"userId: account {userId} does not exist");

    /// <summary>The signed-in caller's own account (null when it is gone: the endpoint answers 401).</summary>
    public static async Task<UserAccount?> CallerAsync(ClaimsPrincipal caller, UserAccounts accounts, CancellationToken ct) =>
        Guid.TryParse(caller.FindFirstValue(UserClaims.UserId), out var id) ? await accounts.LoadAsync(id, ct) : null;

    /// <summary>
    /// Whether an administrator of <paramref name="adminClinics"/> manages the account: it works for one of them too (or for
    /// no clinic yet). Another clinic's staff are not theirs to see: for them the account does not exist (404).
    /// </summary>
    public static bool Manages(IReadOnlyCollection<string> adminClinics, UserAccount user) =>
        user.Clinics.Count == 0 || user.Clinics.Any(adminClinics.Contains);

    /// <summary>The account, if the signed-in administrator manages it (<see cref="Manages"/>); else null, as for an unknown id.</summary>
    public static async Task<UserAccount?> ManagedAsync(ClaimsPrincipal admin, Guid userId, UserAccounts accounts, CancellationToken ct) =>
        await accounts.LoadAsync(userId, ct) is { } user && Manages(await CallerClinicsAsync(admin, accounts, ct), user) ? user : null;

    /// <summary>The clinics the signed-in caller's account works for (none when it is gone).</summary>
    public static async Task<IReadOnlyList<string>> CallerClinicsAsync(ClaimsPrincipal caller, UserAccounts accounts, CancellationToken ct) =>
        (await CallerAsync(caller, accounts, ct))?.Clinics ?? [];

    /// <summary>The id of the signed-in caller (the administrator who acts).</summary>
    public static Guid? CallerId(ClaimsPrincipal caller) => Guid.TryParse(caller.FindFirstValue(UserClaims.UserId), out var id) ? id : null;

    /// <summary>
    /// Saves the account an accepted outcome changed (hashing its new password, if any), forgets its cached state (so
    /// a new security stamp revokes at once) and answers; any other outcome is only answered. An accepted change
    /// without an answer is a 204.
    /// </summary>
    public static async Task<IResult> SaveAsync(Outcome outcome, UserAccounts accounts, AccountStates states, CancellationToken ct)
    {
        if (outcome is not Outcome.Accepted { Answer: Saved<UserAccount> saved } accepted) return outcome.ToResult();
        if (saved.NewPassword is { } password) accounts.SetPassword(saved.Document, password);
        await accounts.SaveAsync(saved.Document, ct);
        states.Forget(saved.Document.Id);
        return (accepted with { Answer = saved.Answer, Status = saved.Answer is null ? StatusCodes.Status204NoContent : accepted.Status }).ToResult();
    }
}
