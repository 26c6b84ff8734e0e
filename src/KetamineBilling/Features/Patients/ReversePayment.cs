using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

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
    public static Outcome Decide(PatientAccount account, ReversePayment command, Guid paymentId, DateOnly today, DateTimeOffset now)
    {
        var payment = account.Payment(paymentId);
        if (payment is null) return Outcome.NotFound($"payment {paymentId} is not on this patient's account");
        if (payment.Reversed) return Outcome.Conflict($"payment {paymentId} was already reversed");
        if (payment.Refunded > 0)
        {
            return Outcome.Reject("paymentId",
                $"{Fmt.Money(payment.Refunded)} of this payment was refunded; reverse the refund with the processor before reversing the payment");
        }

        var unapplied = payment.Applied.Count > 0
            ? new PaymentUnapplied(account.Id, paymentId, [.. payment.Applied], payment.Applied.Sum(a => a.Amount), "payment reversed", now)
            : null;
        var reversed = new PaymentReversed(account.Id, paymentId, payment.Amount, command.Reason!.Trim(), command.ReversedOn ?? today, now);
        return Outcome.Ok(reversed).Append(account.Id, unapplied, reversed);
    }

    public static Task<Books?> LoadAsync(Marten.IQuerySession session, CancellationToken ct) => Books.LoadAsync(session, ct);

    [WolverinePost("/api/patients/{patientId}/payments/{paymentId}/reverse"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        Guid paymentId, ReversePayment command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        Books? books, ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = ClosedPeriods.Guard(Decide(account, command, paymentId, calendar.Today(), clock.GetUtcNow()), books, command.ReversedOn, "reversedOn");
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
