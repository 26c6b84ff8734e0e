using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Remittances;

public record EobAdjustment(string? Group, string? Reason, decimal Amount);

public record EobLine(int LineNumber, decimal? Allowed, decimal Paid, IReadOnlyList<EobAdjustment>? Adjustments, IReadOnlyList<string>? RemarkCodes);

/// <param name="EobId">Made by the client: the idempotency key of this paper EOB.</param>
/// <param name="TotalPaid">The claim's paid total as the EOB prints it, when given: it must be the sum of the lines' paid.</param>
public record PostEob(Guid EobId, string? PayerClaimNumber, IReadOnlyList<EobLine>? Lines, decimal? TotalPaid = null);

public static class PostEobEndpoint
{
    public static ProblemDetails Validate(PostEob command)
    {
        var problems = new ValidationProblems();
        if (command.EobId == Guid.Empty) problems.Add("eobId", "is required: a client-made id");
        if (command.Lines is not { Count: > 0 }) problems.Add("lines", "must hold at least one line");
        else
        {
            for (var i = 0; i < command.Lines.Count; i++)
            {
                var line = command.Lines[i];
                if (line is null) { problems.Add($"lines[{i}]", "is required"); continue; }
                if (command.Lines.Take(i).Any(l => l?.LineNumber == line.LineNumber)) problems.Add($"lines[{i}].lineNumber", "answers a line already answered above");
                // The 835's amount rules (docs/x12.md): a paper EOB posts no reversal, so paid and allowed are never negative;
                // an adjustment may be negative (it then increases the payment); every amount has at most two decimals.
                if (line.Paid < 0 || decimal.Round(line.Paid, 2) != line.Paid) problems.Add($"lines[{i}].paid", "must be zero or more with at most two decimals");
                if (line.Allowed is { } allowed && (allowed < 0 || decimal.Round(allowed, 2) != allowed))
                    problems.Add($"lines[{i}].allowed", "must be zero or more with at most two decimals");
                foreach (var (a, j) in (line.Adjustments ?? []).Select((a, j) => (a, j)))
                {
                    if (a is null) { problems.Add($"lines[{i}].adjustments[{j}]", "is required"); continue; }
                    if (a.Group is not ("CO" or "PR" or "OA" or "PI")) problems.Add($"lines[{i}].adjustments[{j}].group", "must be CO, PR, OA or PI");
                    if (string.IsNullOrWhiteSpace(a.Reason)) problems.Add($"lines[{i}].adjustments[{j}].reason", "is required: the CARC code");
                    if (decimal.Round(a.Amount, 2) != a.Amount) problems.Add($"lines[{i}].adjustments[{j}].amount", "must have at most two decimals");
                }
            }

            if (command.TotalPaid is { } total)
            {
                var sum = command.Lines.Where(l => l is not null).Sum(l => l.Paid);
                if (total < 0 || decimal.Round(total, 2) != total) problems.Add("totalPaid", "must be zero or more with at most two decimals");
                else if (total != sum) problems.Add("totalPaid", $"is {Fmt.Money(total)}; the lines' paid amounts add up to {Fmt.Money(sum)}");
            }
        }

        return problems.ToProblemDetails();
    }

    /// <summary>
    /// A paper explanation of benefits, posted by the same rules as an 835 line (<see cref="ClaimPosting.Post"/>). The
    /// same EOB id again answers the claim as it is.
    /// </summary>
    public static Outcome Decide(Claim claim, PatientAccount account, PostEob command, DateTimeOffset now, ReasonCodeTable? table = null)
    {
        var source = $"eob:{command.EobId:N}";
        if (claim.PostedSources.Contains(source)) return Outcome.Replay(ClaimView.From(claim));

        var lines = new List<PostingLine>();
        foreach (var line in command.Lines!)
        {
            var claimLine = claim.Lines.FirstOrDefault(l => l.LineNumber == line.LineNumber);
            if (claimLine is null) return Outcome.Reject("lines", $"claim has no line {line.LineNumber}");
            lines.Add(new PostingLine(line.LineNumber, claimLine.Charge, line.Allowed, line.Paid,
                (line.Adjustments ?? []).Select(a => new ClaimAdjustment(a.Group!, a.Reason!.Trim(), a.Amount)).ToList(), line.RemarkCodes ?? []));
        }

        var posting = ClaimPosting.Post(claim, account, source, lines, command.PayerClaimNumber, null, now, table);
        if (posting.Problem is not null) return Outcome.Reject("lines", posting.Problem);
        return Outcome.Ok(ClaimDecisions.After(claim, posting.ClaimEvents))
            .Append(claim.Id, posting.ClaimEvents)
            .Append(claim.PatientId, posting.PatientEvents)
            .WithSecondary(claim, account, posting, now);
    }

    [WolverinePost("/api/claims/{claimId}/eob"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Post(Guid claimId, PostEob command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        // The claim and its patient's account are fetched for writing: a concurrent change to either fails the posting.
        var workspace = new PostingWorkspace(session);
        if (await workspace.LoadAsync(claimId, ct) is not var (claim, account)) return Outcome.NotFound($"claim {claimId} does not exist").ToResult();
        var outcome = Decide(claim, account, command, clock.GetUtcNow(), await ReasonCodeTable.LoadAsync(session, ct));
        workspace.Append(outcome);
        return outcome.ToResult();
    }
}
