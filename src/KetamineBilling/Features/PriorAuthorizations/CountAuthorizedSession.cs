using KetamineBilling.Features.Patients;
using Marten;

namespace KetamineBilling.Features.PriorAuthorizations;

/// <summary>
/// Matches an insured session to the patient's prior authorizations: the approved one whose window holds the
/// date of service and whose codes cover the session. Over the approved count or outside every window, the
/// session is still counted, and flagged, so billing sees the denial coming before the claim is filed.
/// </summary>
public static class CountAuthorizedSessionHandler
{
    public static (PriorAuthorization? Authorization, AuthorizationFlag Flag) Choose(IReadOnlyList<PriorAuthorization> authorizations, InsuredSessionDelivered session)
    {
        var candidates = authorizations
            .Where(a => a.Status is AuthorizationStatus.Approved or AuthorizationStatus.Expired && a.Covers(session.Codes))
            .ToList();
        var inWindow = candidates
            .Where(a => a.Status == AuthorizationStatus.Approved && a.ValidFrom <= session.DeliveredOn && session.DeliveredOn <= a.ValidTo)
            .OrderBy(a => a.ValidFrom)
            .ToList();
        var withRoom = inWindow.FirstOrDefault(a => a.Remaining > 0);
        if (withRoom is not null) return (withRoom, AuthorizationFlag.None);
        if (inWindow.Count > 0) return (inWindow[^1], AuthorizationFlag.BeyondApprovedCount);
        if (candidates.Count > 0) return (candidates.OrderBy(a => a.ValidTo).Last(), AuthorizationFlag.OutsideWindow);
        return (null, AuthorizationFlag.NoAuthorization);
    }

    public static async Task Handle(InsuredSessionDelivered message, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var account = await session.Events.FetchForWriting<PatientAccount>(message.PatientId, ct);
        var target = account.Aggregate?.Session(message.SessionId);
        if (target is null || target.AuthorizationFlag is not null)
        {
            // Already counted (a redelivered message) or no such session: nothing to do, twice is once.
            return;
        }

        var authorizations = await session.Query<PriorAuthorization>().Where(a => a.PatientId == message.PatientId).ToListAsync(ct);
        var (authorization, flag) = Choose(authorizations, message);
        var now = clock.GetUtcNow();
        if (authorization is not null)
        {
            var stream = await session.Events.FetchForWriting<PriorAuthorization>(authorization.Id, ct);
            stream.AppendOne(new AuthorizedSessionUsed(authorization.Id, message.SessionId, message.DeliveredOn, authorization.Used + 1, flag, now));
        }

        account.AppendOne(new SessionAuthorizationChecked(message.PatientId, message.SessionId, authorization?.Id, authorization?.AuthorizationNumber, flag, now,
            authorization?.PayerId));
    }
}

/// <summary>An authorization was approved or extended: sessions already delivered that it now covers are counted.</summary>
public record PriorAuthorizationChanged(Guid AuthorizationId, Guid PatientId);

/// <summary>
/// Sessions delivered while no authorization covered them (often while the request was pending) are matched
/// again when one is approved or extended, oldest first, and their flag cleared where the new one covers them.
/// </summary>
public static class RecheckAuthorizedSessionsHandler
{
    public static async Task Handle(PriorAuthorizationChanged message, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var account = await session.Events.FetchForWriting<PatientAccount>(message.PatientId, ct);
        var authorizationStream = await session.Events.FetchForWriting<PriorAuthorization>(message.AuthorizationId, ct);
        if (account.Aggregate is null || authorizationStream.Aggregate is null) return;
        var authorization = KetamineBilling.Infrastructure.Snapshot.Copy(authorizationStream.Aggregate);
        var now = clock.GetUtcNow();
        var flagged = account.Aggregate.Sessions
            .Where(s => !s.Voided && s.AuthorizationFlag is AuthorizationFlag.NoAuthorization or AuthorizationFlag.OutsideWindow && s.Funding.Contains(FundingSource.Insurance))
            .OrderBy(s => s.DeliveredOn);
        foreach (var s in flagged)
        {
            var delivered = new InsuredSessionDelivered(message.PatientId, s.SessionId, s.DeliveredOn, s.Lines.Select(l => l.Code).ToList());
            var (chosen, flag) = CountAuthorizedSessionHandler.Choose([authorization], delivered);
            if (chosen is null || flag is not AuthorizationFlag.None || authorization.Uses.Any(u => u.SessionId == s.SessionId)) continue;
            var used = new AuthorizedSessionUsed(authorization.Id, s.SessionId, s.DeliveredOn, authorization.Used + 1, flag, now);
            authorization.Apply(used);
            authorizationStream.AppendOne(used);
            account.AppendOne(new SessionAuthorizationChecked(message.PatientId, s.SessionId, authorization.Id, authorization.AuthorizationNumber, flag, now, authorization.PayerId));
        }
    }
}
