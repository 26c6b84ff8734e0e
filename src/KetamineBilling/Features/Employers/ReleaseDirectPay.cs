using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Employers;

/// <summary>What the void of a session needs to know of the employers before it is made.</summary>
public static class EmployerInvoices
{
    /// <summary>The name of the employer that put the session on an invoice (then the void is refused: credit the invoice first), or null.</summary>
    public static async Task<string?> InvoicedByAsync(IQuerySession session, Guid patientId, Guid sessionId, CancellationToken ct) =>
        (await session.Query<EmployerAgreement>().Where(a => a.EnrolledPatientIds.Contains(patientId)).ToListAsync(ct))
        .FirstOrDefault(e => e.Commitments.Any(c => c.SessionId == sessionId && c.InvoiceId is not null))?.Name;
}

/// <summary>
/// A voided session (<see cref="FundedSessionVoided"/>): the employer that committed its share owes nothing for it.
/// The void was refused while the session was on an invoice; one invoiced in the moment between is left as it is (logged).
/// Idempotent: a redelivered message finds nothing committed.
/// </summary>
public static class ReleaseDirectPayHandler
{
    public static async Task Handle(FundedSessionVoided message, IDocumentSession session, ILogger<FundedSessionVoided> logger, CancellationToken ct)
    {
        foreach (var employer in await session.Query<EmployerAgreement>().Where(a => a.EnrolledPatientIds.Contains(message.PatientId)).ToListAsync(ct))
        {
            if (employer.Commitments.All(c => c.SessionId != message.SessionId)) continue;
            var stream = await session.Events.FetchForWriting<EmployerAgreement>(employer.Id, ct);
            var outcome = Decide(stream.Aggregate!, message);
            if (outcome is Outcome.Rejected rejected) logger.LogWarning("Employer {EmployerId} kept a voided session's commitment: {Detail}", employer.Id, rejected.Detail);
            outcome.AppendTo(session, stream.Writing());
        }
    }

    /// <summary>The commitment for the session is released; refused once the session is on an invoice.</summary>
    public static Outcome Decide(EmployerAgreement employer, FundedSessionVoided message)
    {
        var commitment = employer.Commitments.FirstOrDefault(c => c.SessionId == message.SessionId);
        if (commitment is null) return Outcome.Ok(null);
        if (commitment.InvoiceId is not null)
            return Outcome.Conflict($"session {message.SessionId} is on an invoice to {employer.Name}: credit the invoice first");
        return Outcome.Ok(null).Append(employer.Id, new DirectPayReleased(employer.Id, message.SessionId, message.Reason, message.VoidedAt));
    }
}
