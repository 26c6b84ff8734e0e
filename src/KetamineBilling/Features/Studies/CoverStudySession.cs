using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Studies;

public record StudyFundedSessionDelivered(Guid PatientId, Guid SessionId, DateOnly DeliveredOn, IReadOnlyList<ChargeLine> Lines);

/// <summary>
/// The cascade from a delivered study session: the sponsor owes the contracted per-session amount, the rest of
/// the charge is adjusted off by the study contract, and the patient owes nothing. Without an enrolment, the
/// session is the patient's.
/// </summary>
public static class CoverStudySessionHandler
{
    public static async Task Handle(StudyFundedSessionDelivered message, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var account = await session.Events.FetchForWriting<PatientAccount>(message.PatientId, ct);
        if (account.Aggregate is null) return;
        var study = (await session.Query<Study>().Where(s => s.SubjectPatientIds.Contains(message.PatientId)).ToListAsync(ct)).FirstOrDefault();
        var outcome = Decide(account.Aggregate, study, message, clock.GetUtcNow());
        var fetched = new List<OutcomeAppends.FetchedStream> { account.Writing() };
        if (study is not null && outcome.EventsFor(study.Id).Count > 0)
        {
            fetched.Add((await session.Events.FetchForWriting<Study>(study.Id, ct)).Writing());
        }

        outcome.AppendTo(session, fetched);
    }

    /// <summary>
    /// The decision, pure: the sponsor of the study that enrols the patient owes its per-session amount (never more
    /// than the charge), the rest is the contract's adjustment; without an enrolment the session is the patient's.
    /// </summary>
    public static Outcome Decide(PatientAccount account, Study? study, StudyFundedSessionDelivered message, DateTimeOffset now)
    {
        var target = account.Session(message.SessionId);
        if (target is null || target.Voided || target.Lines.All(l => l.Open.Sponsor == 0)) return Outcome.Ok(null);
        if (study is null || study.Subjects.All(s => s.PatientId != message.PatientId))
        {
            return Outcome.Ok(null).Append(message.PatientId,
                ThirdPartyOnAccount.RestToPatient(account, message.SessionId, ResponsibleParty.Sponsor, _ => 0m, "no study enrolment covers the patient", now));
        }

        if (study.Sessions.Any(s => s.SessionId == message.SessionId)) return Outcome.Ok(null);
        var charge = message.Lines.Sum(l => l.Amount);
        var amount = Math.Min(study.PerSessionAmount, charge);
        var outcome = Outcome.Ok(null).Append(study.Id, new StudySessionCovered(study.Id, message.PatientId,
            study.Subjects.First(s => s.PatientId == message.PatientId).SubjectId, message.SessionId, message.DeliveredOn, amount, now));
        if (charge <= amount) return outcome;
        var contract = GrantRules.Spread(message.Lines, charge - amount);
        return outcome.Append(message.PatientId, ThirdPartyOnAccount.Adjusted(message.PatientId, ResponsibleParty.Sponsor, $"study {study.ProtocolId} contracted rate",
            message.SessionId, contract.Select(c => (c.LineNumber, c.Amount)), charge - amount, now));
    }
}
