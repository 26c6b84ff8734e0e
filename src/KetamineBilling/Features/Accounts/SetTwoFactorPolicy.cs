using System.Security.Claims;
using Marten;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Accounts;

public record SetTwoFactorPolicy(IReadOnlyList<string>? RequiredRoles);

public static class SetTwoFactorPolicyEndpoint
{
    public static ProblemDetails Validate(SetTwoFactorPolicy command)
    {
        var problems = new ValidationProblems();
        var roles = (command.RequiredRoles ?? []).Select(r => r?.Trim() ?? "").Distinct().ToList();
        foreach (var (role, i) in roles.Select((r, i) => (r, i)))
        {
            if (!Roles.All.Contains(role)) problems.Add($"requiredRoles[{i}]", $"must be one of {string.Join(", ", Roles.All)}");
        }

        if (command.RequiredRoles is null) problems.Add("requiredRoles", "is required (an empty list requires the second factor of no role)");
        return problems.ToProblemDetails();
    }

    /// <summary>The whole policy is replaced: the roles named, in the order of <see cref="Roles.All"/>, with who set it and when.</summary>
    public static Outcome Decide(SetTwoFactorPolicy command, Guid? by, DateTimeOffset now)
    {
        var roles = command.RequiredRoles!.Select(r => r?.Trim() ?? "").ToHashSet();
        var policy = new TwoFactorPolicy { RequiredRoles = [.. Roles.All.Where(roles.Contains)], ChangedAt = now, ChangedBy = by };
        return Outcome.Ok(new Saved<TwoFactorPolicy>(policy, new TwoFactorPolicyView(policy.RequiredRoles, policy.ChangedAt)));
    }

    /// <summary>The roles whose users must use the second factor; a user of such a role without it must enrol first.</summary>
    [WolverinePut("/api/two-factor-policy"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Users")]
    public static async Task<IResult> SetPolicy(SetTwoFactorPolicy command, ClaimsPrincipal admin, IGlobalStore store, TwoFactor twoFactor,
        TimeProvider clock, ILogger<UserView> logger, CancellationToken ct)
    {
        var outcome = Decide(command, AccountChanges.CallerId(admin), clock.GetUtcNow());
        if (outcome is not Outcome.Accepted { Answer: Saved<TwoFactorPolicy> saved } accepted) return outcome.ToResult();
        await using (var session = store.LightweightSession())
        {
            session.Store(saved.Document);
            await session.SaveChangesAsync(ct);
        }

        twoFactor.ForgetPolicy();
        logger.LogInformation("Administrator {AdminId} required the second factor for roles {Roles}", AccountChanges.CallerId(admin), string.Join(",", saved.Document.RequiredRoles));
        return (accepted with { Answer = saved.Answer }).ToResult();
    }
}
