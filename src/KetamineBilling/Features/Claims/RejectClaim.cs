using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Claims;

public record RejectClaim(string? Reason);

public static class RejectClaimEndpoint
{
    public static ProblemDetails Validate(RejectClaim command) => ClaimDecisions.ValidateReason(command.Reason);

    /// <summary>The payer refused the claim before processing it: its sessions are given back (they may be filed again).</summary>
    public static Outcome Decide(Claim claim, RejectClaim command, DateTimeOffset now)
    {
        if (ClaimDecisions.Illegal(claim, "rejected", ClaimStatus.Filed, ClaimStatus.Acknowledged) is { } conflict) return conflict;
        var e = new ClaimRejected(claim.Id, command.Reason!.Trim(), now);
        return Outcome.Ok(ClaimDecisions.After(claim, e)).Append(claim.Id, e)
            .Append(claim.PatientId, InsuranceOnAccount.Released(claim.PatientId, claim.Id, claim.Lines.Select(l => l.SessionId).Distinct().ToList(),
                $"claim rejected: {e.Reason}", e.RejectedAt));
    }

    [WolverinePost("/api/claims/{claimId}/reject"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<(IResult, Events)> Post(
        RejectClaim command, [WriteAggregate("claimId", OnMissing = OnMissing.ProblemDetailsWith404)] Claim claim, IDocumentSession session,
        TimeProvider clock, CancellationToken ct)
    {
        var outcome = Decide(claim, command, clock.GetUtcNow());
        if (outcome.EventsFor(claim.PatientId) is { Count: > 0 } released)
        {
            // The patient stream is fetched for writing: its version check holds against a concurrent change to the account.
            var account = await session.Events.FetchForWriting<PatientAccount>(claim.PatientId, ct);
            account.AppendMany(released);
        }

        return (outcome.ToResult(), [.. outcome.EventsFor(claim.Id)]);
    }
}
