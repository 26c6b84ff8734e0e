using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.PriorAuthorizations;

/// <summary>A voided session (<see cref="FundedSessionVoided"/>): it no longer uses the authorization that counted it. Idempotent.</summary>
public static class ReleaseAuthorizedSessionHandler
{
    public static async Task Handle(FundedSessionVoided message, IDocumentSession session, CancellationToken ct)
    {
        foreach (var authorization in await session.Query<PriorAuthorization>().Where(a => a.PatientId == message.PatientId).ToListAsync(ct))
        {
            if (authorization.Uses.All(u => u.SessionId != message.SessionId)) continue;
            var stream = await session.Events.FetchForWriting<PriorAuthorization>(authorization.Id, ct);
            Decide(stream.Aggregate!, message).AppendTo(session, stream.Writing());
        }
    }

    /// <summary>The session's use of the authorization is released (nothing when the authorization did not count it).</summary>
    public static Outcome Decide(PriorAuthorization authorization, FundedSessionVoided message) =>
        authorization.Uses.Any(u => u.SessionId == message.SessionId)
            ? Outcome.Ok(null).Append(authorization.Id, new AuthorizedSessionReleased(authorization.Id, message.SessionId, message.VoidedAt))
            : Outcome.Ok(null);
}
