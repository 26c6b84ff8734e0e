using Marten;
using Microsoft.AspNetCore.Identity;

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

    public bool Disabled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public static string Normalize(string email) => email.Trim().ToUpperInvariant();
}

public sealed class UserAccounts(IDocumentStore store, IPasswordHasher<UserAccount> hasher)
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

    /// <summary>Creates the account, or leaves an existing one with that email as it is.</summary>
    public async Task<UserAccount> EnsureAsync(
        string email, string displayName, string password, IReadOnlyList<string> roles, Guid? employerId, DateTimeOffset now, CancellationToken ct)
    {
        var existing = await FindAsync(email, ct);
        if (existing is not null)
        {
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
            CreatedAt = now
        };
        user.PasswordHash = hasher.HashPassword(user, password);
        await using var session = store.LightweightSession();
        session.Insert(user);
        await session.SaveChangesAsync(ct);
        return user;
    }
}
