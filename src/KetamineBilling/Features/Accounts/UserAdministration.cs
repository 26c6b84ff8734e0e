using System.Net.Mail;
using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Employers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

/// <summary>An account as the Administrator sees it: never its password hash or second-factor key.</summary>
public record UserView(
    Guid Id, string Email, string DisplayName, IReadOnlyList<string> Roles, Guid? EmployerId, bool Disabled, bool TwoFactorEnabled,
    DateTimeOffset CreatedAt, DateTimeOffset? ChangedAt)
{
    public static UserView Of(UserAccount u) =>
        new(u.Id, u.Email, u.DisplayName, u.Roles, u.EmployerId, u.Disabled, u.TotpEnabled, u.CreatedAt, u.ChangedAt);
}

/// <summary><c>userId</c> (client-made) is the idempotency key: the same request again answers the same account.</summary>
public record CreateUser(Guid? UserId, string? Email, string? DisplayName, IReadOnlyList<string>? Roles, Guid? EmployerId, string? Password);

public record ResetPassword(string? NewPassword);

public record ChangeRoles(IReadOnlyList<string>? Roles, Guid? EmployerId);

public record TwoFactorPolicyView(IReadOnlyList<string> RequiredRoles, DateTimeOffset? ChangedAt);

public record SetTwoFactorPolicy(IReadOnlyList<string>? RequiredRoles);

/// <summary>
/// The Administrator's management of accounts. Every change that takes rights away or changes credentials (disable,
/// password reset, roles, employer, second-factor reset) gives the account a new security stamp: its cookies, tokens
/// and open circuits stop working (see <see cref="AccountStates"/>).
/// </summary>
public static class UserAdministration
{
    public const int MaxEmail = 254;
    public const int MaxDisplayName = 100;

    [WolverineGet("/api/users"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    public static async Task<IReadOnlyList<UserView>> List(UserAccounts accounts, CancellationToken ct) =>
        (await accounts.ListAsync(ct)).Select(UserView.Of).ToList();

    [WolverineGet("/api/users/{userId}"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    [ProducesResponseType<UserView>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound)]
    public static async Task<IResult> Get(Guid userId, UserAccounts accounts, CancellationToken ct) =>
        await accounts.LoadAsync(userId, ct) is { } user ? Results.Ok(UserView.Of(user)) : UnknownUser(userId);

    [WolverinePost("/api/users"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    [ProducesResponseType<UserView>(StatusCodes.Status201Created)]
    [ProducesResponseType<UserView>(StatusCodes.Status200OK)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status400BadRequest)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status422UnprocessableEntity)]
    public static async Task<IResult> Create(
        CreateUser command, ClaimsPrincipal admin, UserAccounts accounts, IQuerySession query, TimeProvider clock, ILogger<CreateUser> logger, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        if (command.UserId == Guid.Empty) problems.Add("userId", "must not be the empty id");
        var email = ValidEmail(problems, command.Email);
        problems.RequireText("displayName", command.DisplayName, MaxDisplayName);
        var roles = ValidRoles(problems, command.Roles, command.EmployerId);
        PasswordRules.Validate(problems, "password", command.Password, command.Email);
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

        if (command.UserId is { } id && await accounts.LoadAsync(id, ct) is { } existing)
        {
            return existing.NormalizedEmail == UserAccount.Normalize(email!) && existing.DisplayName == command.DisplayName!.Trim()
                   && existing.Roles.SequenceEqual(roles) && existing.EmployerId == command.EmployerId && accounts.VerifyPassword(existing, command.Password!)
                ? Results.Ok(UserView.Of(existing))
                : Problems.Conflict($"userId: account {id} exists with other details");
        }

        if (await accounts.FindAsync(email!, ct) is not null)
        {
            return Problems.Conflict("email: an account with this email exists already");
        }

        if (await EmployerProblemAsync(query, command.EmployerId, ct) is { } employerProblem) return employerProblem;

        var user = new UserAccount
        {
            Id = command.UserId ?? Guid.CreateVersion7(),
            Email = email!,
            DisplayName = command.DisplayName!.Trim(),
            Roles = roles,
            EmployerId = command.EmployerId,
            CreatedAt = clock.GetUtcNow()
        };
        try
        {
            await accounts.InsertAsync(user, command.Password!, ct);
        }
        catch (Exception e) when (IsUniqueViolation(e))
        {
            // The same request twice at once, or two administrators choosing the same email: the first one won.
            return await accounts.LoadAsync(user.Id, ct) is { } raced && raced.NormalizedEmail == user.NormalizedEmail
                ? Results.Ok(UserView.Of(raced))
                : Problems.Conflict("email: an account with this email exists already");
        }

        logger.LogInformation("Administrator {AdminId} created user {UserId} with roles {Roles}", AdminId(admin), user.Id, string.Join(",", roles));
        return Results.Created($"/api/users/{user.Id}", UserView.Of(user));
    }

    [WolverinePost("/api/users/{userId}/disable"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    public static async Task<IResult> Disable(Guid userId, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states, TimeProvider clock,
        ILogger<UserView> logger, CancellationToken ct)
    {
        if (await accounts.LoadAsync(userId, ct) is not { } user) return UnknownUser(userId);
        if (user.Id == AdminId(admin)) return Problems.Invalid("userId", "you cannot disable your own account");
        if (user.Disabled) return Results.Ok(UserView.Of(user));
        user.Disabled = true;
        user.SecurityStamp = UserAccount.NewStamp();
        await SaveAsync(user, accounts, states, clock, ct);
        logger.LogInformation("Administrator {AdminId} disabled user {UserId}", AdminId(admin), user.Id);
        return Results.Ok(UserView.Of(user));
    }

    [WolverinePost("/api/users/{userId}/enable"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    public static async Task<IResult> Enable(Guid userId, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states, TimeProvider clock,
        ILogger<UserView> logger, CancellationToken ct)
    {
        if (await accounts.LoadAsync(userId, ct) is not { } user) return UnknownUser(userId);
        if (!user.Disabled) return Results.Ok(UserView.Of(user));
        user.Disabled = false;
        await SaveAsync(user, accounts, states, clock, ct);
        logger.LogInformation("Administrator {AdminId} enabled user {UserId}", AdminId(admin), user.Id);
        return Results.Ok(UserView.Of(user));
    }

    [WolverinePost("/api/users/{userId}/password"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    public static async Task<IResult> ResetPassword(Guid userId, ResetPassword command, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states,
        TimeProvider clock, ILogger<UserView> logger, CancellationToken ct)
    {
        if (await accounts.LoadAsync(userId, ct) is not { } user) return UnknownUser(userId);
        var problems = new ValidationProblems();
        PasswordRules.Validate(problems, "newPassword", command.NewPassword, user.Email);
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        accounts.SetPassword(user, command.NewPassword!);
        await SaveAsync(user, accounts, states, clock, ct);
        logger.LogInformation("Administrator {AdminId} reset the password of user {UserId}", AdminId(admin), user.Id);
        return Results.Ok(UserView.Of(user));
    }

    /// <summary>Sets the roles and, for an Employer account, the one employer it is bound to.</summary>
    [WolverinePut("/api/users/{userId}/roles"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    public static async Task<IResult> SetRoles(Guid userId, ChangeRoles command, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states,
        IQuerySession query, TimeProvider clock, ILogger<UserView> logger, CancellationToken ct)
    {
        if (await accounts.LoadAsync(userId, ct) is not { } user) return UnknownUser(userId);
        var problems = new ValidationProblems();
        var roles = ValidRoles(problems, command.Roles, command.EmployerId);
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        if (user.Id == AdminId(admin) && !roles.Contains(Roles.Administrator))
            return Problems.Invalid("roles", "you cannot take the Administrator role from your own account");
        if (user.Roles.SequenceEqual(roles) && user.EmployerId == command.EmployerId) return Results.Ok(UserView.Of(user));
        if (await EmployerProblemAsync(query, command.EmployerId, ct) is { } employerProblem) return employerProblem;
        user.Roles = roles;
        user.EmployerId = command.EmployerId;
        user.SecurityStamp = UserAccount.NewStamp();
        await SaveAsync(user, accounts, states, clock, ct);
        logger.LogInformation("Administrator {AdminId} set the roles of user {UserId} to {Roles}", AdminId(admin), user.Id, string.Join(",", roles));
        return Results.Ok(UserView.Of(user));
    }

    /// <summary>Turns a user's second factor off (a lost phone): they enrol again; what was issued is revoked.</summary>
    [WolverinePost("/api/users/{userId}/two-factor/reset"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    public static async Task<IResult> ResetTwoFactor(Guid userId, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states, TimeProvider clock,
        ILogger<UserView> logger, CancellationToken ct)
    {
        if (await accounts.LoadAsync(userId, ct) is not { } user) return UnknownUser(userId);
        if (user.TotpSecret is null && user.PendingTotpSecret is null) return Results.Ok(UserView.Of(user));
        user.TotpSecret = null;
        user.PendingTotpSecret = null;
        user.SecurityStamp = UserAccount.NewStamp();
        await SaveAsync(user, accounts, states, clock, ct);
        logger.LogInformation("Administrator {AdminId} reset the second factor of user {UserId}", AdminId(admin), user.Id);
        return Results.Ok(UserView.Of(user));
    }

    [WolverineGet("/api/two-factor-policy"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    public static async Task<TwoFactorPolicyView> GetPolicy(IQuerySession query, CancellationToken ct)
    {
        var policy = await query.LoadAsync<TwoFactorPolicy>(TwoFactorPolicy.DocumentId, ct) ?? new TwoFactorPolicy();
        return new TwoFactorPolicyView(policy.RequiredRoles, policy.ChangedAt);
    }

    /// <summary>The roles whose users must use the second factor; a user of such a role without it must enrol first.</summary>
    [WolverinePut("/api/two-factor-policy"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    public static async Task<IResult> SetPolicy(SetTwoFactorPolicy command, ClaimsPrincipal admin, IDocumentStore store, TwoFactor twoFactor,
        TimeProvider clock, ILogger<UserView> logger, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        var roles = (command.RequiredRoles ?? []).Select(r => r?.Trim() ?? "").Distinct().ToList();
        foreach (var (role, i) in roles.Select((r, i) => (r, i)))
        {
            if (!Roles.All.Contains(role)) problems.Add($"requiredRoles[{i}]", $"must be one of {string.Join(", ", Roles.All)}");
        }

        if (command.RequiredRoles is null) problems.Add("requiredRoles", "is required (an empty list requires the second factor of no role)");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        var policy = new TwoFactorPolicy { RequiredRoles = [.. Roles.All.Where(roles.Contains)], ChangedAt = clock.GetUtcNow(), ChangedBy = AdminId(admin) };
        await using (var session = store.LightweightSession())
        {
            session.Store(policy);
            await session.SaveChangesAsync(ct);
        }

        twoFactor.ForgetPolicy();
        logger.LogInformation("Administrator {AdminId} required the second factor for roles {Roles}", AdminId(admin), string.Join(",", policy.RequiredRoles));
        return Results.Ok(new TwoFactorPolicyView(policy.RequiredRoles, policy.ChangedAt));
    }

    private static async Task SaveAsync(UserAccount user, UserAccounts accounts, AccountStates states, TimeProvider clock, CancellationToken ct)
    {
        user.ChangedAt = clock.GetUtcNow();
        await accounts.SaveAsync(user, ct);
        states.Forget(user.Id);
    }

    private static string? ValidEmail(ValidationProblems problems, string? email)
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

    private static async Task<IResult?> EmployerProblemAsync(IQuerySession query, Guid? employerId, CancellationToken ct) =>
        employerId is { } id && await query.LoadAsync<EmployerAgreement>(id, ct) is null
            ? Problems.Invalid("employerId", $"employer {id} does not exist")
            : null;

    private static IResult UnknownUser(Guid userId) => Problems.NotFound($"userId: account {userId} does not exist");

    private static Guid? AdminId(ClaimsPrincipal admin) => Guid.TryParse(admin.FindFirstValue(UserClaims.UserId), out var id) ? id : null;

    internal static bool IsUniqueViolation(Exception e) =>
        e is JasperFx.DocumentAlreadyExistsException
        || e is Npgsql.PostgresException { SqlState: "23505" }
        || e.InnerException is { } inner && IsUniqueViolation(inner);
}
