using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Claims;

/// <summary>The payer (or the clearinghouse) accepted the claim for processing. It has no body: the claim is the route's.</summary>
public sealed record AcknowledgeClaim(Guid ClaimId);

public static class AcknowledgeClaimEndpoint
{
    public static Outcome Decide(Claim claim, AcknowledgeClaim command, DateTimeOffset now)
    {
        if (ClaimDecisions.Illegal(claim, "acknowledged", ClaimStatus.Filed) is { } conflict) return conflict;
        var e = new ClaimAcknowledged(claim.Id, now);
        return Outcome.Ok(ClaimDecisions.After(claim, e)).Append(claim.Id, e);
    }

    [WolverinePost("/api/claims/{claimId}/acknowledge"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static (IResult, Events) Post([WriteAggregate("claimId", OnMissing = OnMissing.ProblemDetailsWith404)] Claim claim, TimeProvider clock)
    {
        var outcome = Decide(claim, new AcknowledgeClaim(claim.Id), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(claim.Id)]);
    }
}
