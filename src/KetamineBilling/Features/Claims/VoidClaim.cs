using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Claims;

/// <param name="PayerClaimNumber">The payer's claim number (REF*F8); needed only when no 835 gave it (a paper EOB did).</param>
public record VoidClaim(string? Reason, string? PayerClaimNumber = null);

public static class VoidClaimEndpoint
{
    public static ProblemDetails Validate(VoidClaim command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reason", command.Reason, 500);
        ClaimDecisions.CheckPayerClaimNumber(problems, command.PayerClaimNumber);

        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Voids a claim the payer has adjudicated (billed in error: the wrong patient, payer or service): the next 837 batch sends
    /// it as a void (frequency 8, naming the payer's claim number), the payer's reversal posts to it, and its sessions are free
    /// to be claimed again. Voiding it again for the same reason answers the claim as it is.
    /// </summary>
    public static Outcome Decide(Claim claim, VoidClaim command, DateTimeOffset now)
    {
        var reason = command.Reason!.Trim();
        if (claim.Status == ClaimStatus.Voided)
        {
            return claim.VoidReason == reason
                ? Outcome.Replay(ClaimView.From(claim))
                : Outcome.Conflict($"claim {claim.ControlNumber} is already voided, for another reason");
        }

        if (ClaimDecisions.Illegal(claim, "voided", ClaimDecisions.Correctable) is { } conflict) return conflict;
        var (payerClaimNumber, problem) = ClaimDecisions.PayerClaimNumber(claim, command.PayerClaimNumber);
        if (problem is not null) return problem;
        var e = new ClaimVoided(claim.Id, reason, payerClaimNumber!, now);
        return Outcome.Ok(ClaimDecisions.After(claim, e)).Append(claim.Id, e)
            .Append(claim.PatientId, InsuranceOnAccount.Released(claim.PatientId, claim.Id, claim.Lines.Select(l => l.SessionId).Distinct().ToList(),
                $"claim {claim.ControlNumber} voided: {reason}", now));
    }

    [WolverinePost("/api/claims/{claimId}/void"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<(IResult, Events)> Post(
        VoidClaim command, [WriteAggregate("claimId", OnMissing = OnMissing.ProblemDetailsWith404)] Claim claim, IDocumentSession session,
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
