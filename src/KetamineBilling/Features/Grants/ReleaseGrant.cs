using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Grants;

/// <summary>A voided session (<see cref="FundedSessionVoided"/>): the grant that covered it gets its share back. Idempotent.</summary>
public static class ReleaseGrantHandler
{
    public static async Task Handle(FundedSessionVoided message, IDocumentSession session, CancellationToken ct)
    {
        foreach (var grant in await session.Query<Grant>().Where(g => g.PatientId == message.PatientId).ToListAsync(ct))
        {
            if (grant.Uses.All(u => u.SessionId != message.SessionId)) continue;
            var stream = await session.Events.FetchForWriting<Grant>(grant.Id, ct);
            Decide(stream.Aggregate!, message).AppendTo(session, stream.Writing());
        }
    }

    /// <summary>The session's use of the award is released (nothing when the grant did not cover it).</summary>
    public static Outcome Decide(Grant grant, FundedSessionVoided message) =>
        grant.Uses.Any(u => u.SessionId == message.SessionId)
            ? Outcome.Ok(null).Append(grant.Id, new GrantReleased(grant.Id, message.SessionId, message.Reason, message.VoidedAt))
            : Outcome.Ok(null);
}
