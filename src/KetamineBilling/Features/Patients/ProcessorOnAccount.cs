using KetamineBilling.Features.Ledger;
using KetamineBilling.Infrastructure;
using KetamineBilling.Features.Ui;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// The patient account's functions for the card processor (the patient billing area calls them from the processor's webhooks):
/// the account's own events for a card payment paid, refunded, disputed, or won back. Pure: the caller appends what they return.
/// </summary>
public static class ProcessorOnAccount
{
    /// <summary>
    /// The processor refunded <paramref name="amount"/> of a card payment: money back to the card from that payment. What of it is
    /// not the payment's credit is first taken back from the lines it paid, newest first (they are owed again: a refund is not a
    /// discount; billing adjusts the charge when that is what the refund meant). Refused for a reversed payment and beyond what is
    /// left of it.
    /// </summary>
    public static Outcome Refunded(PatientAccount account, Guid paymentId, Guid refundId, decimal amount, string reason, DateTimeOffset now)
    {
        if (account.Refunds.Any(r => r.RefundId == refundId)) return Outcome.Replay(null);
        if (account.Payment(paymentId) is not { } payment) return Outcome.NotFound($"payment {paymentId} is not on this patient's account");
        if (payment.Reversed) return Outcome.Conflict($"payment {paymentId} was reversed (a dispute or a chargeback): the refund has no money left to return");
        var left = payment.Amount - payment.Refunded;
        if (amount > left) return Outcome.Reject("amount", $"must not exceed what is left of the payment, {Fmt.Money(left)}");
        var shortfall = Math.Max(amount - payment.Unapplied, 0m);
        var taken = Allocation.FillInOrder(Enumerable.Reverse(payment.Applied).ToList(), shortfall, a => a.Amount)
            .GroupBy(x => (x.Item.SessionId, x.Item.LineNumber))
            .Select(g => new LineAmount(g.Key.SessionId, g.Key.LineNumber, g.Sum(x => x.Amount))).ToList();
        var unapplied = shortfall > 0 ? new PaymentUnapplied(account.Id, paymentId, taken, shortfall, "refunded through the card processor", now) : null;
        var refund = new RefundIssued(account.Id, refundId, amount, PaymentMethod.Card, reason, [new PaymentSource(paymentId, amount)], now);
        return Outcome.Ok(refund).Append(account.Id, unapplied, refund);
    }

    /// <summary>The cardholder's bank disputed the payment: the processor took the money back, so the payment is reversed.</summary>
    public static Outcome Disputed(PatientAccount account, Guid paymentId, string reason, DateOnly disputedOn, DateTimeOffset now) =>
        account.Payment(paymentId) is { Reversed: true }
            ? Outcome.Replay(null)
            : ReversePaymentEndpoint.Decide(account, new ReversePayment(reason, disputedOn), paymentId, disputedOn, now);

    /// <summary>
    /// Money the processor took for the clinic: a card payment (paid through its hosted page, or a dispute won back), applied as
    /// any payment to the oldest open patient amounts; the same payment id again is a replay.
    /// </summary>
    public static Outcome Paid(PatientAccount account, Guid paymentId, decimal amount, DateOnly on, string reference, DateTimeOffset now, PaymentOwner? owner) =>
        RecordPaymentEndpoint.Decide(account, new RecordPayment(paymentId, "card", amount, on, reference), now, owner, Processor);

    /// <summary>The processor the platform takes card payments through (<see cref="PaymentReceived.Processor"/>).</summary>
    public const string Processor = "stripe";
}
