using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

/// <param name="RefundId">Made by the client: the idempotency key.</param>
public record IssueRefund(Guid RefundId, decimal? Amount, string? Method, string? Reason);

public static class IssueRefundEndpoint
{
    public static ProblemDetails Validate(IssueRefund command)
    {
        var problems = new ValidationProblems();
        if (command.RefundId == Guid.Empty) problems.Add("refundId", "is required: a client-made id that makes the refund idempotent");
        problems.RequirePositive("amount", command.Amount);
        ApiEnum.Parse<PaymentMethod>(problems, "method", command.Method);
        problems.RequireText("reason", command.Reason, 500);
        return problems.ToProblemDetails();
    }

    /// <summary>Never more than the unapplied credit; taken from the most recently recorded payments' credit first.</summary>
    public static Outcome Decide(PatientAccount account, IssueRefund command, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        var method = ApiEnum.Parse<PaymentMethod>(problems, "method", command.Method)!.Value;
        var amount = command.Amount!.Value;
        if (account.Refunds.FirstOrDefault(r => r.RefundId == command.RefundId) is { } existing)
        {
            return existing.Amount == amount && existing.Method == method && existing.Reason == command.Reason!.Trim()
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"refund {command.RefundId} was already issued with other content");
        }

        if (amount > account.UnappliedCredit)
        {
            problems.Add("amount", $"must not exceed the unapplied credit of {Fmt.Money(account.UnappliedCredit)}");
            return Outcome.Reject(problems);
        }

        var sources = Allocation.FillInOrder(Enumerable.Reverse(account.Payments).Where(p => !p.Reversed), amount, p => p.Unapplied)
            .Select(x => new PaymentSource(x.Item.PaymentId, x.Amount)).ToList();
        var refund = new RefundIssued(account.Id, command.RefundId, amount, method, command.Reason!.Trim(), sources, now);
        return Outcome.Created($"/api/patients/{account.Id}/refunds/{command.RefundId}", refund).Append(account.Id, refund);
    }

    [WolverinePost("/api/patients/{patientId}/refunds"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        IssueRefund command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, TimeProvider clock)
    {
        var outcome = Decide(account, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
