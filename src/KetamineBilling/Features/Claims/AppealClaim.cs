using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Claims;

public record AppealClaim(string? Reason, IReadOnlyList<string>? Documents);

public static class AppealClaimEndpoint
{
    public static ProblemDetails Validate(AppealClaim command) => ClaimDecisions.ValidateReason(command.Reason);

    public static Outcome Decide(Claim claim, AppealClaim command, DateTimeOffset now)
    {
        if (ClaimDecisions.Illegal(claim, "appealed", ClaimStatus.Denied, ClaimStatus.PartiallyPaid, ClaimStatus.Paid) is { } conflict) return conflict;
        var e = new ClaimAppealed(claim.Id, command.Reason!.Trim(), command.Documents?.Where(d => !string.IsNullOrWhiteSpace(d)).ToList() ?? [], now);
        return Outcome.Ok(ClaimDecisions.After(claim, e)).Append(claim.Id, e);
    }

    [WolverinePost("/api/claims/{claimId}/appeal"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static (IResult, Events) Post(
        AppealClaim command, [WriteAggregate("claimId", OnMissing = OnMissing.ProblemDetailsWith404)] Claim claim, TimeProvider clock)
    {
        var outcome = Decide(claim, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(claim.Id)]);
    }
}
