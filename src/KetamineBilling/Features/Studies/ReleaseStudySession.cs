using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Studies;

/// <summary>A voided session (<see cref="FundedSessionVoided"/>): the sponsor owes nothing for it. Idempotent.</summary>
public static class ReleaseStudySessionHandler
{
    public static async Task Handle(FundedSessionVoided message, IDocumentSession session, CancellationToken ct)
    {
        foreach (var study in await session.Query<Study>().Where(s => s.SubjectPatientIds.Contains(message.PatientId)).ToListAsync(ct))
        {
            if (study.Sessions.All(s => s.SessionId != message.SessionId)) continue;
            var stream = await session.Events.FetchForWriting<Study>(study.Id, ct);
            Decide(stream.Aggregate!, message).AppendTo(session, stream.Writing());
        }
    }

    /// <summary>The study's coverage of the session is released (nothing when the study did not cover it).</summary>
    public static Outcome Decide(Study study, FundedSessionVoided message) =>
        study.Sessions.Any(s => s.SessionId == message.SessionId)
            ? Outcome.Ok(null).Append(study.Id, new StudySessionReleased(study.Id, message.SessionId, message.Reason, message.VoidedAt))
            : Outcome.Ok(null);
}
