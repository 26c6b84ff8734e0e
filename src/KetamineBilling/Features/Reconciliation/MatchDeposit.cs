using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Reconciliation;

public record MatchDeposit(IReadOnlyList<string>? ReceiptKeys);

public static class MatchDepositEndpoint
{
    public static ProblemDetails Validate(MatchDeposit command)
    {
        var problems = new ValidationProblems();
        if (command.ReceiptKeys is not { Count: > 0 }) problems.Add("receiptKeys", "name at least one receipt");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// The receipts billing names must be <paramref name="open"/> (undeposited) and add up to the deposit exactly; naming
    /// again the receipts it is matched to is a replay, naming others a conflict.
    /// </summary>
    public static Outcome Decide(BankDeposit deposit, MatchDeposit command, IReadOnlyList<Receipt> open, DateTimeOffset now)
    {
        var keys = command.ReceiptKeys!;
        if (deposit.Matched)
        {
            return deposit.Receipts.Select(r => r.Key).Order(StringComparer.Ordinal).SequenceEqual(keys.Distinct().Order(StringComparer.Ordinal))
                ? Outcome.Replay(DepositView.From(deposit))
                : Outcome.Conflict($"deposit {deposit.Id} is already matched to other receipts");
        }

        var chosen = keys.Distinct().Select(k => open.FirstOrDefault(r => r.Key == k)).ToList();
        if (chosen.Any(r => r is null))
        {
            return Outcome.Reject("receiptKeys", $"not an undeposited receipt: {string.Join(", ", keys.Where(k => open.All(r => r.Key != k)))}");
        }

        var total = chosen.Sum(r => r!.Amount);
        if (total != deposit.Amount) return Outcome.Reject("receiptKeys", $"the receipts add up to {Fmt.Money(total)}, the deposit is {Fmt.Money(deposit.Amount)}");
        var matched = new DepositMatched(deposit.Id, chosen.Select(r => new ReceiptMatch(r!.Key, r.Kind, r.Reference, r.Amount)).ToList(), false, now);
        return Outcome.Ok(DepositView.From(deposit) with { Matched = true, Automatic = false, Receipts = matched.Receipts }).Append(deposit.Id, matched);
    }

    /// <summary>Names the receipts a deposit is made of: they must be undeposited and add up to it exactly.</summary>
    [WolverinePost("/api/deposits/{depositId}/matches"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Reconciliation")]
    public static async Task<IResult> Post(Guid depositId, MatchDeposit command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<BankDeposit>(depositId, ct);
        if (stream.Aggregate is not { } deposit) return Outcome.NotFound($"deposit {depositId} does not exist").ToResult();
        if (!deposit.Matched && !await Receipts.CaughtUpAsync(session, Receipts.CatchUpWithin, ct))
        {
            return Problems.Unavailable("the receipts are still taking in the latest payments; nothing was matched: send the same match again in a moment");
        }

        var open = deposit.Matched ? [] : await Receipts.OpenAsync(session, ct);
        var outcome = Decide(deposit, command, open, clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}
