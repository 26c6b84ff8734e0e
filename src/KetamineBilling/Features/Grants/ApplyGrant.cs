using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Grants;

public record GrantFundedSessionDelivered(Guid PatientId, Guid SessionId, DateOnly DeliveredOn, IReadOnlyList<ChargeLine> Lines);

/// <summary>
/// The cascade from a delivered grant-funded session: applies the patient's award (the clinic's fee-sharing
/// reduction, the grant's share) and gives the rest to the patient. Idempotent: a session is applied once.
/// </summary>
public static class ApplyGrantHandler
{
    public static async Task Handle(GrantFundedSessionDelivered message, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var account = await session.Events.FetchForWriting<PatientAccount>(message.PatientId, ct);
        if (account.Aggregate is null) return;
        var grants = await session.Query<Grant>().Where(g => g.PatientId == message.PatientId).ToListAsync(ct);
        var outcome = Decide(account.Aggregate, grants, message, clock.GetUtcNow());
        var fetched = new List<OutcomeAppends.FetchedStream> { account.Writing() };
        foreach (var grant in grants.Where(g => outcome.EventsFor(g.Id).Count > 0))
        {
            fetched.Add((await session.Events.FetchForWriting<Grant>(grant.Id, ct)).Writing());
        }

        outcome.AppendTo(session, fetched);
    }

    /// <summary>
    /// The decision, pure: which of the patient's awards covers the session (the one expiring first with money and
    /// sessions left), its fee-sharing reduction and share (<see cref="GrantRules"/>), and what is left moves to the
    /// patient. Every amount is worked out from the account as it stands before any of these events.
    /// </summary>
    public static Outcome Decide(PatientAccount account, IReadOnlyList<Grant> grants, GrantFundedSessionDelivered message, DateTimeOffset now)
    {
        var target = account.Session(message.SessionId);
        if (target is null || target.Voided || target.Lines.All(l => l.Open.Grant == 0)) return Outcome.Ok(null);

        var grant = grants.Where(g => g.PatientId == message.PatientId && g.ValidFrom <= message.DeliveredOn && message.DeliveredOn <= g.ValidTo
                                      && g.RemainingSessions is null or > 0 && g.RemainingAmount is null or > 0)
            .OrderBy(g => g.ValidTo).FirstOrDefault();
        var reduction = new List<CommittedLine>();
        var share = new List<CommittedLine>();
        var outcome = Outcome.Ok(null);
        if (grant is not null && grant.Uses.All(u => u.SessionId != message.SessionId))
        {
            var (cut, amount, limitedBy) = GrantRules.Split(grant, message.DeliveredOn, message.Lines.Sum(l => l.Amount));
            reduction = GrantRules.Spread(message.Lines, cut);
            var reduced = message.Lines.Select(l => l with { Amount = l.Amount - (reduction.FirstOrDefault(r => r.LineNumber == l.LineNumber)?.Amount ?? 0) }).ToList();
            share = GrantRules.Spread(reduced, amount);
            outcome = outcome
                .Append(grant.Id, new GrantApplied(grant.Id, message.PatientId, message.SessionId, message.DeliveredOn, share.Sum(s => s.Amount), share, cut, limitedBy, now))
                .Append(message.PatientId, ThirdPartyOnAccount.Adjusted(message.PatientId, ResponsibleParty.Grant, $"fee sharing with {grant.Organization}: the clinic's share",
                    message.SessionId, reduction.Select(r => (r.LineNumber, r.Amount)), cut, now));
        }

        return outcome.Append(message.PatientId, ThirdPartyOnAccount.RestToPatient(account, message.SessionId, ResponsibleParty.Grant,
            line => (reduction.FirstOrDefault(r => r.LineNumber == line)?.Amount ?? 0) + (share.FirstOrDefault(s => s.LineNumber == line)?.Amount ?? 0),
            grant is null ? "no grant award covers the date of service" : "beyond the grant's share", now));
    }
}
