using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.PriorAuthorizations;

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
        Decide(account.Aggregate, authorizationStream.Aggregate, message, clock.GetUtcNow()).AppendTo(session, account.Writing(), authorizationStream.Writing());
    }

    /// <summary>
    /// The decision, pure: each insured session flagged with no authorization or outside the window, oldest first, that the
    /// authorization now covers with room is counted by it, and the account records the new check.
    /// </summary>
    public static Outcome Decide(PatientAccount account, PriorAuthorization authorization, PriorAuthorizationChanged message, DateTimeOffset now)
    {
        authorization = Snapshot.Copy(authorization);
        var used = new List<object>();
        var checks = new List<object>();
        var flagged = account.Sessions
            .Where(s => !s.Voided && s.AuthorizationFlag is AuthorizationFlag.NoAuthorization or AuthorizationFlag.OutsideWindow && s.Funding.Contains(FundingSource.Insurance))
            .OrderBy(s => s.DeliveredOn);
        foreach (var s in flagged)
        {
            var delivered = new InsuredSessionDelivered(message.PatientId, s.SessionId, s.DeliveredOn, s.Lines.Select(l => l.Code).ToList());
            var (chosen, flag) = CountAuthorizedSessionHandler.Choose([authorization], delivered);
            if (chosen is null || flag is not AuthorizationFlag.None || authorization.Uses.Any(u => u.SessionId == s.SessionId)) continue;
            var use = new AuthorizedSessionUsed(authorization.Id, s.SessionId, s.DeliveredOn, authorization.Used + 1, flag, now);
            authorization.Apply(use);
            used.Add(use);
            checks.Add(ThirdPartyOnAccount.AuthorizationChecked(message.PatientId, s.SessionId, authorization.Id, authorization.AuthorizationNumber, flag, now,
                authorization.PayerId));
        }

        return Outcome.Ok(null).Append(authorization.Id, used).Append(message.PatientId, checks);
    }
}
