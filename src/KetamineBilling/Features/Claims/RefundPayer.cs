using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Claims;

/// <param name="RefundId">Made by the client: the idempotency key.</param>
/// <param name="Amount">What the check returns to the payer: at most the claim's insurance credit.</param>
/// <param name="CheckNumber">The clinic's check number (or the payer's refund reference).</param>
/// <param name="RefundedOn">The day the check went out (today when left out).</param>
public record RefundPayer(Guid RefundId, decimal? Amount, string? CheckNumber, DateOnly? RefundedOn = null);

/// <summary>A claim's insurance credit: what its payer paid beyond what insurance owed, and what cleared it.</summary>
public sealed record PayerCredit(
    Guid ClaimId, decimal Overpaid, decimal Cleared, decimal Open, IReadOnlyList<InsuranceOverpaid> Overpayments, IReadOnlyList<InsuranceOverpaymentCleared> Clearings)
{
    public static PayerCredit Of(PatientAccount account, Guid claimId)
    {
        var overpayments = account.InsuranceOverpayments.Where(o => o.ClaimId == claimId).ToList();
        var clearings = account.InsuranceOverpaymentClearings.Where(c => c.ClaimId == claimId).ToList();
        return new PayerCredit(claimId, overpayments.Sum(o => o.Amount), clearings.Sum(c => c.Amount), account.InsuranceCreditOn(claimId), overpayments, clearings);
    }
}

public static class RefundPayerEndpoint
{
    public static ProblemDetails Validate(RefundPayer command)
    {
        var problems = new ValidationProblems();
        if (command.RefundId == Guid.Empty) problems.Add("refundId", "is required: a client-made id");
        problems.RequireMoney("amount", command.Amount, 1_000_000m);
        if (command.Amount == 0m) problems.Add("amount", "must be more than $0.00");
        problems.RequireText("checkNumber", command.CheckNumber, 30);
        problems.Check("checkNumber", command.CheckNumber);
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// A check to the payer for insurance credit on the claim: at most what is open (422 naming <c>amount</c>), dated no later
    /// than today. The same refund id again answers the credit as it is; with other content, 409.
    /// </summary>
    public static Outcome Decide(Claim claim, PatientAccount account, RefundPayer command, DateOnly today, DateTimeOffset now)
    {
        if (account.InsuranceOverpaymentClearings.FirstOrDefault(c => c.ClearingId == command.RefundId) is { } existing)
        {
            return existing.ClaimId == claim.Id && existing.Amount == command.Amount && existing.Reference == command.CheckNumber!.Trim()
                ? Outcome.Replay(PayerCredit.Of(account, claim.Id))
                : Outcome.Conflict($"refund {command.RefundId} was already recorded with other content");
        }

        var open = account.InsuranceCreditOn(claim.Id);
        if (open <= 0) return Outcome.Reject("amount", $"claim {claim.ControlNumber} holds no insurance credit to refund");
        if (command.Amount > open) return Outcome.Reject("amount", $"is more than the {Fmt.Money(open)} of insurance credit on claim {claim.ControlNumber}");
        var on = command.RefundedOn ?? today;
        if (on > today) return Outcome.Reject("refundedOn", "must not be in the future");
        var cleared = InsuranceOnAccount.OverpaymentCleared(account, claim.Id, claim.PayerId, command.RefundId, "refund", command.CheckNumber!.Trim(), command.Amount!.Value, on, now)!;
        return Outcome.Ok(PayerCredit.Of(PatientAccount.Advance(Snapshot.Copy(account), cleared), claim.Id)).Append(account.Id, cleared);
    }

    /// <summary>Refunds insurance credit on the claim to its payer by check: the credit clears and leaves the worklist when nothing is left.</summary>
    [WolverinePost("/api/claims/{claimId}/payer-refunds"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Post(Guid claimId, RefundPayer command, IDocumentSession session, ClinicCalendar calendar, TimeProvider clock, CancellationToken ct)
    {
        if (await session.LoadAsync<Claim>(claimId, ct) is not { } claim) return Outcome.NotFound($"claim {claimId} does not exist").ToResult();
        // The patient stream is fetched for writing: its version check holds against a concurrent change to the account.
        var account = await session.Events.FetchForWriting<PatientAccount>(claim.PatientId, ct);
        var outcome = Decide(claim, account.Aggregate!, command, calendar.Today(), clock.GetUtcNow());
        outcome.AppendTo(session, account.Writing());
        return outcome.ToResult();
    }
}
