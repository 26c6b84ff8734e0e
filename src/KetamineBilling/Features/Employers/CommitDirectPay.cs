using KetamineBilling.Features.Patients;
using Marten;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Employers;

/// <summary>A session whose funding names the employer was charged: the employer's agreement decides its share.</summary>
public record EmployerFundedSessionDelivered(Guid PatientId, Guid SessionId, DateOnly DeliveredOn, IReadOnlyList<ChargeLine> Lines);

public static class DirectPayRules
{
    /// <summary>
    /// The employer's share of a session: the agreed rate (up to the covered lines' charges) or the agreed
    /// percentage of them (rounded to the cent), then cut to what the employee's caps for the plan year leave.
    /// Spread over the covered lines in proportion to their charges; the rest of every line is the patient's.
    /// </summary>
    public static (decimal Amount, IReadOnlyList<CommittedLine> Lines, string? CappedBy) Share(EmployerAgreement agreement, Guid patientId, int planYear, IReadOnlyList<ChargeLine> lines)
    {
        var terms = agreement.Terms;
        var covered = lines.Where(l => terms.CoveredCodes.Count == 0 || terms.CoveredCodes.Contains(l.Code)).ToList();
        var charges = covered.Sum(l => l.Amount);
        var share = terms.RatePerSession is { } rate ? Math.Min(rate, charges) : Money.Round(charges * (terms.CoveragePercent ?? 0) / 100m);
        string? cappedBy = null;
        var year = agreement.Commitments.Where(c => c.PatientId == patientId && c.PlanYear == planYear && c.Amount > 0).ToList();
        if (terms.CapSessionsPerEmployeePerYear is { } sessions && year.Count >= sessions)
        {
            share = 0;
            cappedBy = "sessions";
        }

        if (terms.CapPerEmployeePerYear is { } cap && share > cap - year.Sum(c => c.Amount))
        {
            share = Math.Max(cap - year.Sum(c => c.Amount), 0);
            cappedBy = "money";
        }

        var spread = Allocation.Prorate(covered, share, l => l.Amount).Select(x => new CommittedLine(x.Item.LineNumber, x.Amount)).ToList();
        return (spread.Sum(l => l.Amount), spread, cappedBy);
    }
}

/// <summary>
/// The cascade from a delivered employer-funded session: commits the employer's share on its agreement and
/// gives the rest of the session to the patient. Without an enrolment for that date, all of it is the patient's.
/// Idempotent: a redelivered message finds the session committed (or already moved) and does nothing.
/// </summary>
public static class CommitDirectPayHandler
{
    public static async Task Handle(EmployerFundedSessionDelivered message, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var account = await session.Events.FetchForWriting<PatientAccount>(message.PatientId, ct);
        if (account.Aggregate is null) return;
        var agreements = await session.Query<EmployerAgreement>().Where(a => a.EnrolledPatientIds.Contains(message.PatientId)).ToListAsync(ct);
        var outcome = Decide(account.Aggregate, agreements, message, clock.GetUtcNow());
        var fetched = new List<OutcomeAppends.FetchedStream> { account.Writing() };
        foreach (var agreement in agreements.Where(a => outcome.EventsFor(a.Id).Count > 0))
        {
            fetched.Add((await session.Events.FetchForWriting<EmployerAgreement>(agreement.Id, ct)).Writing());
        }

        outcome.AppendTo(session, fetched);
    }

    /// <summary>
    /// The decision, pure: the agreement that enrols the patient on the date of service commits its share
    /// (<see cref="DirectPayRules.Share"/>), and the rest of each line moves to the patient (<see cref="ThirdPartyOnAccount.RestToPatient"/>).
    /// </summary>
    public static Outcome Decide(PatientAccount account, IReadOnlyList<EmployerAgreement> agreements, EmployerFundedSessionDelivered message, DateTimeOffset now)
    {
        var target = account.Session(message.SessionId);
        if (target is null || target.Voided || target.Lines.All(l => l.Open.Employer == 0)) return Outcome.Ok(null);

        var agreement = agreements.FirstOrDefault(a => a.EnrollmentFor(message.PatientId, message.DeliveredOn) is not null);
        var committed = new List<CommittedLine>();
        var outcome = Outcome.Ok(null);
        if (agreement is not null && agreement.Commitments.All(c => c.SessionId != message.SessionId))
        {
            var enrollment = agreement.EnrollmentFor(message.PatientId, message.DeliveredOn)!;
            var (amount, lines, cappedBy) = DirectPayRules.Share(agreement, message.PatientId, message.DeliveredOn.Year, message.Lines);
            outcome = outcome.Append(agreement.Id, new DirectPayCommitted(agreement.Id, message.PatientId, enrollment.MemberId, message.SessionId, message.DeliveredOn,
                message.DeliveredOn.Year, amount, lines, cappedBy, now));
            committed.AddRange(lines);
        }

        return outcome.Append(message.PatientId, ThirdPartyOnAccount.RestToPatient(account, message.SessionId, ResponsibleParty.Employer,
            line => committed.FirstOrDefault(c => c.LineNumber == line)?.Amount ?? 0m,
            agreement is null ? "no employer enrolment covers the date of service" : "beyond the employer's share", now));
    }
}
