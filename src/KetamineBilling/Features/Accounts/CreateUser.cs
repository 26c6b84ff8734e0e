using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Employers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

/// <summary>
/// <c>userId</c> (client-made) is the idempotency key: the same request again answers the same account. <c>clinics</c>:
/// the clinics the account works for, each one the administrator works for too (default: the clinic the administrator
/// acts for); an Employer account works for exactly one, the clinic of its employer.
/// </summary>
public record CreateUser(Guid? UserId, string? Email, string? DisplayName, IReadOnlyList<string>? Roles, Guid? EmployerId, string? Password,
    IReadOnlyList<string>? Clinics = null);

/// <summary>What the handler looked up for a new account: the account with its id, if any, and whether its password is the one given; whether the email is taken; whether the employer exists.</summary>
public sealed record CreateUserFacts(UserAccount? Existing, bool ExistingPasswordMatches, bool EmailTaken, bool EmployerExists);

public static class CreateUserEndpoint
{
    public static ProblemDetails Validate(CreateUser command)
    {
        var problems = new ValidationProblems();
        if (command.UserId == Guid.Empty) problems.Add("userId", "must not be the empty id");
        UserAdministration.ValidEmail(problems, command.Email);
        problems.RequireText("displayName", command.DisplayName, UserAdministration.MaxDisplayName);
        UserAdministration.ValidRoles(problems, command.Roles, command.EmployerId);
        PasswordRules.Validate(problems, "password", command.Password, command.Email);
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// A new account (201), unless one with its id exists: the same details again (password included) are a replay,
    /// other details a conflict; an email another account has is a conflict; an employer that does not exist is refused.
    /// </summary>
    public static Outcome Decide(CreateUserFacts facts, CreateUser command, Guid newId, DateTimeOffset now)
    {
        var email = command.Email!.Trim();
        var roles = UserAdministration.ValidRoles(new ValidationProblems(), command.Roles, command.EmployerId);
        if (facts.Existing is { } existing)
        {
            return existing.NormalizedEmail == UserAccount.Normalize(email) && existing.DisplayName == command.DisplayName!.Trim()
                   && existing.Roles.SequenceEqual(roles) && existing.EmployerId == command.EmployerId && facts.ExistingPasswordMatches
                ? Outcome.Replay(UserView.Of(existing))
                : Outcome.Conflict($"userId: account {existing.Id} exists with other details");
        }

        if (facts.EmailTaken) return Outcome.Conflict("email: an account with this email exists already");
        if (command.EmployerId is { } employerId && !facts.EmployerExists) return Outcome.Reject("employerId", $"employer {employerId} does not exist");
        var user = new UserAccount
        {
            Id = command.UserId ?? newId,
            Email = email,
            DisplayName = command.DisplayName!.Trim(),
            Roles = roles,
            EmployerId = command.EmployerId,
            CreatedAt = now
        };
        return Outcome.Created($"/api/users/{user.Id}", new Saved<UserAccount>(user, UserView.Of(user), command.Password!));
    }

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
        var clinics = await UserAdministration.MembershipsAsync(command.Clinics, command.EmployerId, admin, accounts, ct);
        if (clinics.Problem is { } refused) return refused.ToResult();
        var existing = command.UserId is { } id ? await accounts.LoadAsync(id, ct) : null;
        var facts = existing is not null
            ? new CreateUserFacts(existing, accounts.VerifyPassword(existing, command.Password!), false, false)
            : await accounts.FindAsync(command.Email!.Trim(), ct) is not null
                ? new CreateUserFacts(null, false, true, false)
                : new CreateUserFacts(null, false, false, command.EmployerId is { } employerId && await query.LoadAsync<EmployerAgreement>(employerId, ct) is not null);
        var outcome = Decide(facts, command, Guid.CreateVersion7(), clock.GetUtcNow());
        if (outcome is not Outcome.Accepted { Answer: Saved<UserAccount> saved } accepted) return outcome.ToResult();

        var user = saved.Document;
        user.Clinics = [.. clinics.Codes];
        try
        {
            await accounts.InsertAsync(user, saved.NewPassword!, ct);
        }
        catch (Exception e) when (UserAdministration.IsUniqueViolation(e))
        {
            // The same request twice at once, or two administrators choosing the same email: the first one won.
            return await accounts.LoadAsync(user.Id, ct) is { } raced && raced.NormalizedEmail == user.NormalizedEmail
                ? Outcome.Replay(UserView.Of(raced)).ToResult()
                : Outcome.Conflict("email: an account with this email exists already").ToResult();
        }

        logger.LogInformation("Administrator {AdminId} created user {UserId} with roles {Roles}", AccountChanges.CallerId(admin), user.Id, string.Join(",", user.Roles));
        return (accepted with { Answer = UserView.Of(user) }).ToResult();
    }
}
