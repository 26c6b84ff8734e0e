using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Remittances;

/// <summary>
/// The result of posting one 835 trace, recorded last on its stream: what posted, what could not be matched and why,
/// the provider adjustments. <paramref name="PayerId"/> counts only for a stream the posting did not start (the demo's,
/// and streams from before ADR 0012): a started stream keeps the payer and the unbalanced acceptance it started with.
/// </summary>
public sealed record RecordRemittance(
    Guid RemittanceId, string PayerName, string? PayerIdentifier, Guid? PayerId, string TraceNumber, string PaymentMethod, decimal PaymentAmount,
    DateOnly? PaymentDate, string ContentHash, IReadOnlyList<PostedClaim> Posted, IReadOnlyList<UnmatchedItem> Unmatched,
    IReadOnlyList<ProviderAdjustment835> ProviderAdjustments);

public static class RecordRemittanceHandler
{
    /// <summary>
    /// Records the trace's result (<see cref="RemittanceReceived"/>): on the stream its posting started, or as a new stream.
    /// A trace whose result is recorded already answers that result (another upload of the same file finished first).
    /// </summary>
    /// <param name="remittance">The trace's stream as it is: started (posting), recorded, or none.</param>
    public static Outcome Decide(Remittance? remittance, RecordRemittance command, DateTimeOffset now)
    {
        if (remittance is { Posting: false } done) return Outcome.Replay(done);
        var received = new RemittanceReceived(command.RemittanceId, command.PayerName, command.PayerIdentifier, remittance is null ? command.PayerId : remittance.PayerId,
            command.TraceNumber, command.PaymentMethod, command.PaymentAmount, command.PaymentDate, command.ContentHash, command.Posted, command.Unmatched,
            command.ProviderAdjustments, now, remittance?.AcceptedUnbalanced);
        return remittance is null
            ? Outcome.Ok(received).Start<Remittance>(command.RemittanceId, received)
            : Outcome.Ok(received).Append(command.RemittanceId, received);
    }

    /// <summary>Claims the trace for one content: the stream's first event, before any claim payment posts (ADR 0012).</summary>
    public static RemittancePostingStarted Started(
        Guid remittanceId, Remittance835 remittance, Guid? payerId, string contentHash, UnbalancedAcceptance? unbalanced, DateTimeOffset now) =>
        new(remittanceId, remittance.PayerName, remittance.PayerIdentifier, payerId, remittance.TraceNumber, remittance.PaymentMethod, remittance.PaymentAmount,
            remittance.PaymentDate, contentHash, remittance.Claims.Count, now, unbalanced);
}
