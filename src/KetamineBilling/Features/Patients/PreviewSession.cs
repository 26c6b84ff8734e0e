using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Locations;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Providers;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// What recording the session would do, line by line and party by party, before anything is written.
/// </summary>
/// <param name="Session">The session as the account would show it once the charge and its funders' decisions are in.</param>
/// <param name="Notes">What the split leaves to later (insurance's answer) or does not do (a funder after the first third party).</param>
public sealed record SessionSplit(BalanceSession Session, IReadOnlyList<string> Notes);

public static class PreviewSessionEndpoint
{
    public static ProblemDetails Validate(DeliverSession command, ClinicCalendar calendar) => DeliverSessionEndpoint.Validate(command, calendar);

    /// <summary>
    /// The split, from the very decisions that make it: the charge (<see cref="DeliverSessionEndpoint.Decide"/>) and then the
    /// decision of the funder its message goes to (employer, grant or study sponsor), each folded into <paramref name="patient"/>
    /// as the account would apply them. Works on the account it is given (the endpoint loads a throwaway copy); returns no events.
    /// </summary>
    public static Outcome Decide(
        PatientAccount patient, DeliverSession command, FeeSchedule? schedule, SessionOwner? owner, Provider? provider,
        IReadOnlyList<EmployerAgreement> agreements, IReadOnlyList<Grant> grants, Study? study, DateTimeOffset now, ClinicLocations? locations = null)
    {
        var charge = DeliverSessionEndpoint.Decide(patient, command, schedule, owner, provider, now, locations);
        switch (charge)
        {
            case Outcome.Rejected:
                return charge;
            case Outcome.Replayed:
                return Outcome.Ok(new SessionSplit(PatientBalance.Session(patient.Session(command.SessionId)!),
                    ["This session is already recorded: this is how it stands now."]));
        }

        foreach (var e in charge.EventsFor(patient.Id)) PatientAccount.Advance(patient, e);
        var notes = new List<string>();
        foreach (var message in charge.OutgoingMessages)
        {
            var funder = message switch
            {
                EmployerFundedSessionDelivered m => CommitDirectPayHandler.Decide(patient, agreements, m, now),
                GrantFundedSessionDelivered m => ApplyGrantHandler.Decide(patient, grants, m, now),
                StudyFundedSessionDelivered m => CoverStudySessionHandler.Decide(patient, study, m, now),
                _ => null
            };
            foreach (var e in funder?.EventsFor(patient.Id) ?? []) PatientAccount.Advance(patient, e);
            foreach (var moved in funder?.EventsFor(patient.Id).OfType<ResponsibilityMoved>() ?? []) notes.Add($"To the patient: {moved.Reason}.");
        }

        var session = patient.Session(command.SessionId)!;
        if (session.Funding.Contains(FundingSource.Insurance))
        {
            notes.Add("Insurance is billed the whole charge; what it does not pay moves to the patient when its answer is posted.");
        }

        var first = DeliverSessionEndpoint.FirstParty(session.Funding);
        foreach (var later in session.Funding.Where(f => f != FundingSource.SelfPay && Party(f) != first))
        {
            notes.Add($"{ApiEnum.Name(later)}: not asked on this session; only the first third party is (insurance, then a study, an employer, a grant).");
        }

        return Outcome.Ok(new SessionSplit(PatientBalance.Session(session), notes));
    }

    private static ResponsibleParty Party(FundingSource source) => DeliverSessionEndpoint.FirstParty([source]);

    public static async Task<(PatientAccount?, FeeSchedule?, SessionOwner?, Provider?, IReadOnlyList<EmployerAgreement>, IReadOnlyList<Grant>, Study?, ClinicLocations?)> LoadAsync(
        Guid patientId, DeliverSession command, IQuerySession session, CancellationToken ct)
    {
        var account = await session.LoadAsync<PatientAccount>(patientId, ct);
        var (schedule, owner, provider, locations, _) = await DeliverSessionEndpoint.LoadAsync(command, session, ct);
        var agreements = await session.Query<EmployerAgreement>().Where(a => a.EnrolledPatientIds.Contains(patientId)).ToListAsync(ct);
        var grants = await session.Query<Grant>().Where(g => g.PatientId == patientId).ToListAsync(ct);
        var study = (await session.Query<Study>().Where(s => s.SubjectPatientIds.Contains(patientId)).ToListAsync(ct)).FirstOrDefault();
        return (account, schedule, owner, provider, agreements, grants, study, locations);
    }

    /// <summary>Runs the decisions and appends nothing.</summary>
    [WolverinePost("/api/patients/{patientId}/sessions/preview"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patients")]
    public static async Task<IResult> Post(
        Guid patientId, DeliverSession command, PatientAccount? account, FeeSchedule? schedule, SessionOwner? owner, Provider? provider,
        IReadOnlyList<EmployerAgreement> agreements, IReadOnlyList<Grant> grants, Study? study, ClinicLocations? locations,
        IQuerySession session, TimeProvider clock, CancellationToken ct)
    {
        if (account is null) return Problems.NotFound($"patient {patientId} does not exist");
        return ClosedPeriods.Guard(Decide(account, command, schedule, owner, provider, agreements, grants, study, clock.GetUtcNow(), locations), await Books.LoadAsync(session, ct),
            command.DeliveredOn, "deliveredOn").ToResult();
    }
}
