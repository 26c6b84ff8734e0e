using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Remittances;

public record MatchRemittanceItem(Guid ItemId, Guid ClaimId);

public static class MatchRemittanceItemEndpoint
{
    public static ProblemDetails Validate(MatchRemittanceItem command)
    {
        var problems = new ValidationProblems();
        if (command.ItemId == Guid.Empty) problems.Add("itemId", "is required");
        if (command.ClaimId == Guid.Empty) problems.Add("claimId", "is required");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Billing names the claim an unmatched item belongs to; it then posts by the same rules as any 835 line (its source
    /// is the remittance and the item: it posts once), and the item is matched on the remittance.
    /// </summary>
    /// <param name="claim">The named claim as it is (null: no such claim); <paramref name="account"/> its patient's account.</param>
    public static Outcome Decide(
        Remittance remittance, MatchRemittanceItem command, Claim? claim, PatientAccount? account, DateTimeOffset now, ReasonCodeTable? table = null)
    {
        var item = remittance.Unmatched.FirstOrDefault(u => u.ItemId == command.ItemId);
        if (item is null) return Outcome.NotFound($"item {command.ItemId} is not an open unmatched item of this remittance (already matched, or never on it)");
        if (claim is null || account is null) return Outcome.Reject("claimId", "the claim does not exist");

        var posting = ClaimPosting.PostPayment(claim, account, item.Payment, $"835:{remittance.Id:N}:{item.ItemId:N}", remittance.Id, now, table);
        if (posting.Problem is not null) return Outcome.Reject("claimId", posting.Problem);
        var matched = new RemittanceItemMatched(remittance.Id, item.ItemId,
            new PostedClaim(command.ClaimId, item.ControlNumber, item.ClaimStatusCode, posting.Paid, posting.Lines), now);
        return Outcome.Ok(matched.Posted)
            .Append(remittance.Id, matched)
            .Append(claim.Id, posting.ClaimEvents)
            .Append(claim.PatientId, posting.PatientEvents)
            .WithSecondary(claim, account, posting, now);
    }

    [WolverinePost("/api/remittances/{remittanceId}/matches"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<(IResult, Events)> Post(
        MatchRemittanceItem command, [WriteAggregate("remittanceId", OnMissing = OnMissing.ProblemDetailsWith404)] Remittance remittance,
        IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        // The claim and its patient's account are fetched for writing: a concurrent change to either fails the match.
        var workspace = new PostingWorkspace(session);
        var loaded = remittance.Unmatched.Any(u => u.ItemId == command.ItemId) ? await workspace.LoadAsync(command.ClaimId, ct) : null;
        var outcome = Decide(remittance, command, loaded?.Claim, loaded?.Account, clock.GetUtcNow(), await ReasonCodeTable.LoadAsync(session, ct));
        workspace.Append(outcome);
        return (outcome.ToResult(), [.. outcome.EventsFor(remittance.Id)]);
    }
}
