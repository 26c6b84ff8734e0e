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
    public static (IResult Result, object[] Events) Decide(IssueRefund command, PatientAccount account, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        var method = ApiEnum.Parse<PaymentMethod>(problems, "method", command.Method)!.Value;
        var amount = command.Amount!.Value;
        if (account.Refunds.FirstOrDefault(r => r.RefundId == command.RefundId) is { } existing)
        {
            return existing.Amount == amount && existing.Method == method && existing.Reason == command.Reason!.Trim()
                ? (Results.Ok(existing), [])
                : (Problems.Conflict($"refund {command.RefundId} was already issued with other content"), []);
        }

        if (amount > account.UnappliedCredit)
        {
            problems.Add("amount", $"must not exceed the unapplied credit of {Fmt.Money(account.UnappliedCredit)}");
            return (problems.ToResult(StatusCodes.Status422UnprocessableEntity), []);
        }

        var sources = new List<PaymentSource>();
        var left = amount;
        foreach (var payment in Enumerable.Reverse(account.Payments).Where(p => p.Unapplied > 0 && !p.Reversed))
        {
            var take = Math.Min(left, payment.Unapplied);
            sources.Add(new PaymentSource(payment.PaymentId, take));
            left -= take;
            if (left == 0) break;
        }

        var refund = new RefundIssued(account.Id, command.RefundId, amount, method, command.Reason!.Trim(), sources, now);
        return (Results.Created($"/api/patients/{account.Id}/refunds/{command.RefundId}", refund), [refund]);
    }

    [WolverinePost("/api/patients/{patientId}/refunds"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        IssueRefund command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, TimeProvider clock)
    {
        var (result, events) = Decide(command, account, clock.GetUtcNow());
        return (result, [.. events]);
    }
}

public record ReversePayment(string? Reason, DateOnly? ReversedOn);

public static class ReversePaymentEndpoint
{
    public static ProblemDetails Validate(ReversePayment command, ClinicCalendar calendar)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reason", command.Reason, 500);
        if (command.ReversedOn > calendar.Today()) problems.Add("reversedOn", "must not be in the future");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// A bounced check or a chargeback: the payment's applications are undone (the lines it paid reopen) and it
    /// stops counting as paid. Refused when part of it was already refunded: that money has left twice.
    /// </summary>
    public static (IResult Result, object[] Events) Decide(Guid paymentId, ReversePayment command, PatientAccount account, DateOnly today, DateTimeOffset now)
    {
        var payment = account.Payment(paymentId);
        if (payment is null) return (Problems.NotFound($"payment {paymentId} is not on this patient's account"), []);
        if (payment.Reversed) return (Problems.Conflict($"payment {paymentId} was already reversed"), []);
        if (payment.Refunded > 0)
        {
            var problems = new ValidationProblems();
            problems.Add("paymentId", $"{Fmt.Money(payment.Refunded)} of this payment was refunded; reverse the refund with the processor before reversing the payment");
            return (problems.ToResult(StatusCodes.Status422UnprocessableEntity), []);
        }

        var events = new List<object>();
        if (payment.Applied.Count > 0)
        {
            events.Add(new PaymentUnapplied(account.Id, paymentId, [.. payment.Applied], payment.Applied.Sum(a => a.Amount), "payment reversed", now));
        }

        var reversed = new PaymentReversed(account.Id, paymentId, payment.Amount, command.Reason!.Trim(), command.ReversedOn ?? today, now);
        events.Add(reversed);
        return (Results.Ok(reversed), [.. events]);
    }

    [WolverinePost("/api/patients/{patientId}/payments/{paymentId}/reverse"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        Guid paymentId, ReversePayment command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var (result, events) = Decide(paymentId, command, account, calendar.Today(), clock.GetUtcNow());
        return (result, [.. events]);
    }
}
