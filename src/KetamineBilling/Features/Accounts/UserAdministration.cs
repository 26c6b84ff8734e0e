using System.Security.Claims;
using System.Net.Mail;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

/// <summary>An account as the Administrator sees it: never its password hash or second-factor key.</summary>
public record UserView(
    Guid Id, string Email, string DisplayName, IReadOnlyList<string> Roles, Guid? EmployerId, bool Disabled, bool TwoFactorEnabled,
    DateTimeOffset CreatedAt, DateTimeOffset? ChangedAt, IReadOnlyList<string> Clinics)
{
    public static UserView Of(UserAccount u) =>
        new(u.Id, u.Email, u.DisplayName, u.Roles, u.EmployerId, u.Disabled, u.TotpEnabled, u.CreatedAt, u.ChangedAt, u.Clinics);
}

public record TwoFactorPolicyView(IReadOnlyList<string> RequiredRoles, DateTimeOffset? ChangedAt);

/// <summary>
/// The Administrator's management of accounts: the queries, and the rules the commands share (CreateUser, DisableUser,
/// EnableUser, ResetPassword, ChangeRoles, ResetTwoFactor and SetTwoFactorPolicy each have a file of their own). Every
/// change that takes rights away or changes credentials (disable, password reset, roles, employer, second-factor reset)
/// gives the account a new security stamp: its cookies, tokens and open circuits stop working (see <see cref="AccountStates"/>).
/// </summary>
public static class UserAdministration
{
    public const int MaxEmail = 254;
    public const int MaxDisplayName = 100;

    [WolverineGet("/api/users"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Users")]
    public static async Task<IReadOnlyList<UserView>> List(ClaimsPrincipal admin, UserAccounts accounts, CancellationToken ct)
    {
        var mine = await AccountChanges.CallerClinicsAsync(admin, accounts, ct);
        return (await accounts.ListAsync(ct)).Where(u => AccountChanges.Manages(mine, u)).Select(UserView.Of).ToList();
    }

    [WolverineGet("/api/users/{userId}"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Users")]
    [ProducesResponseType<UserView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound)]
    public static async Task<IResult> Get(Guid userId, ClaimsPrincipal admin, UserAccounts accounts, CancellationToken ct) =>
        await AccountChanges.ManagedAsync(admin, userId, accounts, ct) is { } user ? Results.Ok(UserView.Of(user)) : AccountChanges.UnknownUser(userId).ToResult();

    [WolverineGet("/api/two-factor-policy"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Users")]
    public static async Task<TwoFactorPolicyView> GetPolicy(IGlobalStore store, CancellationToken ct)
    {
        await using var query = store.QuerySession();
        var policy = await query.LoadAsync<TwoFactorPolicy>(TwoFactorPolicy.DocumentId, ct) ?? new TwoFactorPolicy();
        return new TwoFactorPolicyView(policy.RequiredRoles, policy.ChangedAt);
    }

    /// <summary>
    /// The clinics an account is given: each one the administrator works for too (an administrator hands out only their
    /// own clinics), at least one; an Employer account exactly one. None named: the clinic the administrator acts for.
    /// </summary>
    internal static async Task<(IReadOnlyList<string> Codes, Outcome? Problem)> MembershipsAsync(
        IReadOnlyList<string>? requested, Guid? employerId, System.Security.Claims.ClaimsPrincipal admin, UserAccounts accounts, CancellationToken ct)
    {
        var acting = admin.FindFirst(UserClaims.Clinic)?.Value;
        var codes = (requested ?? (acting is null ? [] : [acting])).Select(c => c?.Trim().ToLowerInvariant() ?? "").Distinct().ToList();
        var own = await AccountChanges.CallerClinicsAsync(admin, accounts, ct);
        if (codes.Count == 0) return (codes, Outcome.Reject("clinics", "an account works for at least one clinic"));
        if (codes.FirstOrDefault(c => !own.Contains(c, StringComparer.Ordinal)) is { } foreign)
            return (codes, Outcome.Reject("clinics", $"'{foreign}' is not one of your clinics: you can give only the clinics you work for"));
        if (employerId is not null && (codes.Count != 1 || codes[0] != acting))
            return (codes, Outcome.Reject("clinics", "an Employer account works for exactly one clinic: the one you act for, where its employer is"));
        return (codes, null);
    }

    internal static string? ValidEmail(ValidationProblems problems, string? email)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            problems.Add("email", "is required");
            return null;
        }

        var trimmed = email.Trim();
        if (trimmed.Length > MaxEmail || !MailAddress.TryCreate(trimmed, out var address) || address.Address != trimmed || !address.Host.Contains('.'))
        {
            problems.Add("email", $"must be an email address (at most {MaxEmail} characters)");
            return null;
        }

        return trimmed;
    }

    /// <summary>
    /// Known roles, at least one; an Employer account has exactly one employer and no other role, and only an Employer
    /// account has an employer. Returned in the order of <see cref="Roles.All"/>.
    /// </summary>
    internal static List<string> ValidRoles(ValidationProblems problems, IReadOnlyList<string>? given, Guid? employerId)
    {
        var roles = (given ?? []).Select(r => r?.Trim() ?? "").ToList();
        for (var i = 0; i < roles.Count; i++)
        {
            if (!Roles.All.Contains(roles[i])) problems.Add($"roles[{i}]", $"must be one of {string.Join(", ", Roles.All)}");
        }

        if (roles.Count == 0) problems.Add("roles", $"give at least one of {string.Join(", ", Roles.All)}");
        var isEmployer = roles.Contains(Roles.Employer);
        if (isEmployer && roles.Distinct().Count() > 1) problems.Add("roles", "an Employer account has no other role");
        if (isEmployer && employerId is null) problems.Add("employerId", "an Employer account needs the id of its one employer");
        if (isEmployer && employerId == Guid.Empty) problems.Add("employerId", "must not be the empty id");
        if (!isEmployer && employerId is not null) problems.Add("employerId", "only an Employer account is bound to an employer");
        return [.. Roles.All.Where(roles.Contains)];
    }

    internal static bool IsUniqueViolation(Exception e) =>
        e is JasperFx.DocumentAlreadyExistsException
        || e is Npgsql.PostgresException { SqlState: "23505" }
        || e.InnerException is { } inner && IsUniqueViolation(inner);
}
