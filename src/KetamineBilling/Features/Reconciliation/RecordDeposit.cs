using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Reconciliation;

public record RecordDeposit(Guid DepositId, decimal? Amount, DateOnly? DepositedOn, string? Reference);

public static class RecordDepositEndpoint
{
    public static ProblemDetails Validate(RecordDeposit command)
    {
        var problems = new ValidationProblems();
        if (command.DepositId == Guid.Empty) problems.Add("depositId", "is required: a client-made id");
        if (command.Amount is not > 0) problems.Add("amount", "must be more than zero");
        else if (decimal.Round(command.Amount.Value, 2) != command.Amount) problems.Add("amount", "must have at most two decimals");
        if (command.DepositedOn is null) problems.Add("depositedOn", "is required");
        if (command.Reference is { Length: > 80 }) problems.Add("reference", "must be at most 80 characters");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// A new deposit, matched at once to the receipts it is when that is unambiguous (<see cref="Receipts.AutoMatch"/>
    /// over the <paramref name="open"/> receipts); the same deposit again is a replay, with other details a conflict.
    /// </summary>
    public static Outcome Decide(BankDeposit? existing, RecordDeposit command, IReadOnlyList<Receipt> open, DateTimeOffset now)
    {
        var recorded = new DepositRecorded(command.DepositId, command.Amount!.Value, command.DepositedOn!.Value, command.Reference?.Trim() ?? "", now);
        if (existing is not null)
        {
            return existing.Amount == recorded.Amount && existing.DepositedOn == recorded.DepositedOn && existing.Reference == recorded.Reference
                ? Outcome.Replay(DepositView.From(existing))
                : Outcome.Conflict($"deposit {command.DepositId} was already recorded with other details");
        }

        var deposit = BankDeposit.Create(recorded);
        var found = Receipts.AutoMatch(deposit, open);
        var matched = found.Count > 0
            ? new DepositMatched(deposit.Id, found.Select(r => new ReceiptMatch(r.Key, r.Kind, r.Reference, r.Amount)).ToList(), true, recorded.RecordedAt)
            : null;
        if (matched is not null) deposit.Apply(matched);
        return Outcome.Created($"/api/deposits/{deposit.Id}", DepositView.From(deposit))
            .Start<BankDeposit>(deposit.Id, matched is null ? [recorded] : [recorded, matched]);
    }

    /// <summary>Records a bank deposit (idempotent by its id) and matches it to receipts when that is unambiguous.</summary>
    [WolverinePost("/api/deposits"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Reconciliation")]
    public static async Task<IResult> Post(RecordDeposit command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var existing = await session.LoadAsync<BankDeposit>(command.DepositId, ct);
        if (existing is null && !await Receipts.CaughtUpAsync(session, Receipts.CatchUpWithin, ct))
        {
            return Problems.Unavailable("the receipts are still taking in the latest payments; nothing was recorded: send the same deposit again in a moment");
        }

        var open = existing is null ? await Receipts.OpenAsync(session, ct) : [];
        var outcome = ClosedPeriods.Guard(Decide(existing, command, open, clock.GetUtcNow()), await Books.LoadAsync(session, ct), command.DepositedOn, "depositedOn");
        outcome.AppendTo(session);
        return outcome.ToResult();
    }
}
