using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
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
        var outcome = Decide(account.Aggregate!, authorizations, message, clock.GetUtcNow());
        var fetched = new List<OutcomeAppends.FetchedStream> { account.Writing() };
        foreach (var authorization in authorizations.Where(a => outcome.EventsFor(a.Id).Count > 0))
        {
            fetched.Add((await session.Events.FetchForWriting<PriorAuthorization>(authorization.Id, ct)).Writing());
        }

        outcome.AppendTo(session, fetched);
    }

    /// <summary>
    /// The decision, pure: the authorization <see cref="Choose"/> picks counts the session (flagged when beyond its count or
    /// window), and the account records the check (<see cref="ThirdPartyOnAccount.AuthorizationChecked"/>). Nothing when the
    /// session is not on the account or was counted before.
    /// </summary>
    public static Outcome Decide(PatientAccount account, IReadOnlyList<PriorAuthorization> authorizations, InsuredSessionDelivered message, DateTimeOffset now)
    {
        var target = account.Session(message.SessionId);
        if (target is null || target.AuthorizationFlag is not null) return Outcome.Ok(null);
        var (authorization, flag) = Choose(authorizations, message);
        var outcome = Outcome.Ok(null);
        if (authorization is not null)
        {
            outcome = outcome.Append(authorization.Id, new AuthorizedSessionUsed(authorization.Id, message.SessionId, message.DeliveredOn, authorization.Used + 1, flag, now));
        }

        return outcome.Append(message.PatientId, ThirdPartyOnAccount.AuthorizationChecked(message.PatientId, message.SessionId, authorization?.Id,
            authorization?.AuthorizationNumber, flag, now, authorization?.PayerId));
    }
}
