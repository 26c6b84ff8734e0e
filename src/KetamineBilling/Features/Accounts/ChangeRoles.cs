using System.Security.Claims;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Employers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

public record ChangeRoles(IReadOnlyList<string>? Roles, Guid? EmployerId);

public static class ChangeRolesEndpoint
{
    /// <summary>
    /// The roles (and, for an Employer account, its one employer: <paramref name="employerExists"/>, looked up by the
    /// handler) with a new security stamp; the same roles again are a replay; an administrator keeps their own Administrator role.
    /// </summary>
    public static Outcome Decide(UserAccount user, ChangeRoles command, Guid? by, bool employerExists, string newStamp, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        var roles = UserAdministration.ValidRoles(problems, command.Roles, command.EmployerId);
        if (problems.Any) return Outcome.Reject(problems, StatusCodes.Status400BadRequest);
        if (user.Id == by && !roles.Contains(Roles.Administrator))
            return Outcome.Reject("roles", "you cannot take the Administrator role from your own account");
        if (user.Roles.SequenceEqual(roles) && user.EmployerId == command.EmployerId) return Outcome.Replay(UserView.Of(user));
        if (command.EmployerId is { } employerId && !employerExists) return Outcome.Reject("employerId", $"employer {employerId} does not exist");
        var changed = user.Copy();
        changed.Roles = roles;
        changed.EmployerId = command.EmployerId;
        changed.SecurityStamp = newStamp;
        changed.ChangedAt = now;
        return Outcome.Ok(new Saved<UserAccount>(changed, UserView.Of(changed)));
    }

    /// <summary>Sets the roles and, for an Employer account, the one employer it is bound to.</summary>
    [WolverinePut("/api/users/{userId}/roles"), Authorize(Policy = Policies.Administrator)]
    [Tags("Users")]
    public static async Task<IResult> SetRoles(Guid userId, ChangeRoles command, ClaimsPrincipal admin, UserAccounts accounts, AccountStates states,
        IQuerySession query, TimeProvider clock, ILogger<UserView> logger, CancellationToken ct)
    {
        if (await AccountChanges.ManagedAsync(admin, userId, accounts, ct) is not { } user) return AccountChanges.UnknownUser(userId).ToResult();
        var employerExists = command.EmployerId is { } employerId && await query.LoadAsync<EmployerAgreement>(employerId, ct) is not null;
        var outcome = Decide(user, command, AccountChanges.CallerId(admin), employerExists, UserAccount.NewStamp(), clock.GetUtcNow());
        var result = await AccountChanges.SaveAsync(outcome, accounts, states, ct);
        if (outcome is Outcome.Accepted { Answer: Saved<UserAccount> saved })
            logger.LogInformation("Administrator {AdminId} set the roles of user {UserId} to {Roles}", AccountChanges.CallerId(admin), user.Id, string.Join(",", saved.Document.Roles));
        return result;
    }
}
