using Marten;
using Microsoft.AspNetCore.Identity;

using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Auth;

/// <summary>
/// A local account. Accounts are documents, not event streams: they are not financial facts, and the
/// audit trail of money records the account's id on every event it causes.
/// </summary>
public sealed class UserAccount
{
    public Guid Id { get; set; }

    public string Email { get; set; } = "";

    /// <summary>Upper-cased invariant email: the unique login key.</summary>
    public string NormalizedEmail { get; set; } = "";

    public string DisplayName { get; set; } = "";

    /// <summary>ASP.NET Core Identity's PBKDF2 hash (PasswordHasher, v3 format).</summary>
    public string PasswordHash { get; set; } = "";

    public List<string> Roles { get; set; } = [];

    public Guid? EmployerId { get; set; }

    /// <summary>
    /// The clinics (tenant ids) the account works for: a billing company's staff work for many, a clinic's own staff and
    /// an employer's HR for one. A cookie or token acts for one of them at a time.
    /// </summary>
    public List<string> Clinics { get; set; } = [];

    public bool Disabled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When an administrator or the user last changed the account (password, roles, state, second factor).</summary>
    public DateTimeOffset? ChangedAt { get; set; }

    /// <summary>
    /// A random value put into every cookie and bearer token issued for the account and compared on each use:
    /// a new one (on disabling, a password change or reset, a role or employer change) revokes everything issued before.
    /// </summary>
    public string SecurityStamp { get; set; } = "";

    /// <summary>The TOTP key (RFC 6238), protected with Data Protection; null while the second factor is off.</summary>
    public string? TotpSecret { get; set; }

    /// <summary>A key shown to the user but not yet confirmed with a code (protected too).</summary>
    public string? PendingTotpSecret { get; set; }

    /// <summary>The last TOTP time step that signed in: a code of that step or an earlier one is refused (no replay).</summary>
    public long LastTotpStep { get; set; }

    public bool TotpEnabled => TotpSecret is not null;

    /// <summary>
    /// Marten's version of the stored document (optimistic concurrency): saving an account loaded before another change
    /// was saved fails (409) instead of undoing that change (say, an administrator's disabling).
    /// </summary>
    [Marten.Schema.Version]
    public Guid Version { get; set; }

    public static string Normalize(string email) => email.Trim().ToUpperInvariant();

    /// <summary>A copy to change (its roles a list of its own): a decision changes the copy, never the account it was handed.</summary>
    public UserAccount Copy()
    {
        var copy = (UserAccount)MemberwiseClone();
        copy.Roles = [.. Roles];
        copy.Clinics = [.. Clinics];
        return copy;
    }

    public static string NewStamp() => Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
}

public sealed class UserAccounts(IGlobalStore store, IPasswordHasher<UserAccount> hasher)
{
    // Verifying against a real hash when the user is unknown keeps the answer's timing the same,
    // so response times do not tell which emails have accounts.
    private static readonly Lazy<string> DummyHash =
        new(() => new PasswordHasher<UserAccount>().HashPassword(new UserAccount(), Guid.NewGuid().ToString()));

    public async Task<UserAccount?> FindAsync(string email, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        var normalized = UserAccount.Normalize(email);
        return await session.Query<UserAccount>().FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
    }

    public async Task<UserAccount?> CheckPasswordAsync(string email, string password, CancellationToken ct)
    {
        var user = await FindAsync(email, ct);
        if (user is null || user.Disabled)
        {
            hasher.VerifyHashedPassword(new UserAccount(), DummyHash.Value, password);
            return null;
        }

        var result = hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = hasher.HashPassword(user, password);
            await using var session = store.LightweightSession();
            session.Store(user);
            await session.SaveChangesAsync(ct);
        }

        return result == PasswordVerificationResult.Failed ? null : user;
    }

    public async Task<UserAccount?> LoadAsync(Guid id, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<UserAccount>(id, ct);
    }

    public async Task<IReadOnlyList<UserAccount>> ListAsync(CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.Query<UserAccount>().OrderBy(u => u.NormalizedEmail).ToListAsync(ct);
    }

    public bool VerifyPassword(UserAccount user, string password) =>
        hasher.VerifyHashedPassword(user, user.PasswordHash, password) != PasswordVerificationResult.Failed;

    /// <summary>Sets a new password (checked against <see cref="KetamineBilling.Features.Accounts.PasswordRules"/> by the caller) and revokes what was issued.</summary>
    public void SetPassword(UserAccount user, string password)
    {
        user.PasswordHash = hasher.HashPassword(user, password);
        user.SecurityStamp = UserAccount.NewStamp();
    }

    /// <summary>Saves a changed account (the caller set <see cref="UserAccount.ChangedAt"/> and, to revoke, the stamp).</summary>
    public async Task SaveAsync(UserAccount user, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        session.Store(user);
        await session.SaveChangesAsync(ct);
    }

    /// <summary>Inserts a new account; a second account with the same email fails on the unique index.</summary>
    public async Task InsertAsync(UserAccount user, string password, CancellationToken ct)
    {
        user.NormalizedEmail = UserAccount.Normalize(user.Email);
        user.PasswordHash = hasher.HashPassword(user, password);
        user.SecurityStamp = UserAccount.NewStamp();
        await using var session = store.LightweightSession();
        session.Insert(user);
        await session.SaveChangesAsync(ct);
    }

    /// <summary>Creates the account, or leaves an existing one with that email as it is.</summary>
    public async Task<UserAccount> EnsureAsync(
        string email, string displayName, string password, IReadOnlyList<string> roles, Guid? employerId, IReadOnlyList<string> clinics,
        DateTimeOffset now, CancellationToken ct)
    {
        var existing = await FindAsync(email, ct);
        if (existing is not null)
        {
            // An account kept from before gains the clinics it is meant to have (memberships only grow here).
            if (clinics.Except(existing.Clinics).Any())
            {
                existing.Clinics = [.. existing.Clinics.Union(clinics)];
                await SaveAsync(existing, ct);
            }

            return existing;
        }

        var user = new UserAccount
        {
            Id = Guid.CreateVersion7(),
            Email = email.Trim(),
            NormalizedEmail = UserAccount.Normalize(email),
            DisplayName = displayName,
            Roles = [.. roles],
            EmployerId = employerId,
            Clinics = [.. clinics],
            CreatedAt = now,
            SecurityStamp = UserAccount.NewStamp()
        };
        user.PasswordHash = hasher.HashPassword(user, password);
        await using var session = store.LightweightSession();
        session.Insert(user);
        await session.SaveChangesAsync(ct);
        return user;
    }
}
