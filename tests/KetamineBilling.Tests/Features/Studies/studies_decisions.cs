using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Studies;

/// <summary>The Studies area's pure decisions, without a host: given events, when a command or message, then the outcome.</summary>
public class studies_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 3, 20, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly On = new(2026, 3, 10);
    private static readonly Guid StudyId = Guid.NewGuid();
    private static readonly Guid PatientId = Guid.NewGuid();
    private static readonly Guid SessionId = Guid.NewGuid();

    private static readonly IReadOnlyList<ChargeLine> Lines =
        [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m), new ChargeLine(2, "J3490", "Ketamine", 1, 60m, 60m)];

    private static Study Registered() =>
        Given.Aggregate<Study>(StudyEndpoints.Decide(null, new RegisterStudy(StudyId, "Helix Pharma", "HX-204", 300m), Now).EventsFor(StudyId).ToArray());

    private static Study Enrolled() => Registered().Then(new StudyPatientEnrolled(StudyId, PatientId, "S-1", Now));

    private static PatientAccount Account() => Given.Aggregate<PatientAccount>(
        new PatientRegistered(PatientId, "Sam", "Okafor", new DateOnly(1990, 1, 1), null, null, Now),
        new SessionDelivered(PatientId, SessionId, On, 60, "main", Lines, ["F33.2"], 510m, Now, "dr-a", [FundingSource.Study], null, null, ResponsibleParty.Sponsor));

    private static StudyFundedSessionDelivered Delivered() => new(PatientId, SessionId, On, Lines);

    [Fact]
    public void a_study_starts_with_its_terms_and_the_same_id_with_other_terms_is_a_conflict()
    {
        var command = new RegisterStudy(StudyId, " Helix Pharma ", " HX-204 ", 300m);
        var registered = Assert.IsType<StudyRegistered>(Assert.Single(StudyEndpoints.Decide(null, command, Now).EventsFor(StudyId)));

        Assert.Equal(("Helix Pharma", "HX-204", 300m), (registered.Sponsor, registered.ProtocolId, registered.PerSessionAmount));
        Assert.IsType<Outcome.Replayed>(StudyEndpoints.Decide(Registered(), command, Now));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(StudyEndpoints.Decide(Registered(), command with { PerSessionAmount = 350m }, Now)).Status);
    }

    [Fact]
    public void a_patient_is_a_subject_once()
    {
        var enrolled = EnrollStudyPatientEndpoint.Decide(Registered(), new EnrollStudyPatient(PatientId, " S-1 "), Now);

        Assert.Equal("S-1", Assert.IsType<StudyPatientEnrolled>(Assert.Single(enrolled.EventsFor(StudyId))).SubjectId);
        Assert.IsType<Outcome.Replayed>(EnrollStudyPatientEndpoint.Decide(Enrolled(), new EnrollStudyPatient(PatientId, "S-1"), Now));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(EnrollStudyPatientEndpoint.Decide(Enrolled(), new EnrollStudyPatient(PatientId, "S-2"), Now)).Status);
    }

    [Fact]
    public void a_study_session_is_owed_by_the_sponsor_at_its_rate_and_the_rest_is_adjusted_off_by_the_contract()
    {
        var outcome = CoverStudySessionHandler.Decide(Account(), Enrolled(), Delivered(), Now);

        Assert.Equal(300m, Assert.IsType<StudySessionCovered>(Assert.Single(outcome.EventsFor(StudyId))).Amount);
        var adjusted = Assert.IsType<ThirdPartyAdjusted>(Assert.Single(outcome.EventsFor(PatientId)));
        Assert.Equal((ResponsibleParty.Sponsor, 210m, "study HX-204 contracted rate"), (adjusted.Party, adjusted.Total, adjusted.Reason));
        Assert.Equal([(1, 185.29m), (2, 24.71m)], adjusted.Allocations.Select(a => (a.LineNumber, a.Amount)));
    }

    [Fact]
    public void a_study_may_pay_nothing_per_session_but_never_less()
    {
        Assert.Same(Wolverine.Http.WolverineContinue.NoProblems, StudyEndpoints.Validate(new RegisterStudy(StudyId, "Helix Pharma", "HX-0", 0m)));
        var negative = Assert.IsType<Microsoft.AspNetCore.Http.HttpValidationProblemDetails>(StudyEndpoints.Validate(new RegisterStudy(StudyId, "Helix Pharma", "HX-0", -1m)));
        Assert.Equal(["must be an amount from 0 to 1000000 with at most two decimals"], negative.Errors["perSessionAmount"]);

        var registered = Assert.IsType<StudyRegistered>(Assert.Single(StudyEndpoints.Decide(null, new RegisterStudy(StudyId, "Helix Pharma", "HX-0", 0m), Now).EventsFor(StudyId)));
        Assert.Equal(0m, registered.PerSessionAmount);
    }

    [Fact]
    public void a_trial_at_no_cost_covers_the_session_the_sponsor_owes_nothing_and_the_contract_adjusts_the_whole_charge_off()
    {
        var free = Given.Aggregate<Study>(StudyEndpoints.Decide(null, new RegisterStudy(StudyId, "Helix Pharma", "HX-0", 0m), Now).EventsFor(StudyId).ToArray())
            .Then(new StudyPatientEnrolled(StudyId, PatientId, "S-1", Now));

        var outcome = CoverStudySessionHandler.Decide(Account(), free, Delivered(), Now);

        var covered = Assert.IsType<StudySessionCovered>(Assert.Single(outcome.EventsFor(StudyId)));
        Assert.Equal((SessionId, 0m), (covered.SessionId, covered.Amount));
        var adjusted = Assert.IsType<ThirdPartyAdjusted>(Assert.Single(outcome.EventsFor(PatientId)));
        Assert.Equal((ResponsibleParty.Sponsor, 510m), (adjusted.Party, adjusted.Total));
        Assert.Equal([(1, 450m), (2, 60m)], adjusted.Allocations.Select(a => (a.LineNumber, a.Amount)));
        var account = Account().Then(outcome.EventsFor(PatientId).ToArray());
        Assert.All(account.Session(SessionId)!.Lines, l => Assert.Equal(0m, l.Open.Total));
    }

    [Fact]
    public void without_an_enrolment_the_session_is_the_patient_s()
    {
        var moved = Assert.IsType<ResponsibilityMoved>(Assert.Single(CoverStudySessionHandler.Decide(Account(), Registered(), Delivered(), Now).AllEvents));

        Assert.Equal(("no study enrolment covers the patient", 510m), (moved.Reason, moved.Moves.Sum(m => m.Amount)));
        Assert.All(moved.Moves, m => Assert.Equal((ResponsibleParty.Sponsor, ResponsibleParty.Patient), (m.From, m.To)));
    }

    [Fact]
    public void a_sponsor_payment_pays_the_study_s_sessions_and_the_patients_lines_never_more_than_owed()
    {
        var covered = CoverStudySessionHandler.Decide(Account(), Enrolled(), Delivered(), Now);
        var study = Enrolled().Then(covered.EventsFor(StudyId).ToArray());
        var accounts = new Dictionary<Guid, PatientAccount> { [PatientId] = Account().Then(covered.EventsFor(PatientId).ToArray()) };

        var outcome = RecordSponsorPaymentEndpoint.Decide(study, new RecordSponsorPayment("WIRE-1", 300m, On), accounts, Now);

        Assert.Equal(300m, Assert.IsType<SponsorPaymentReceived>(Assert.Single(outcome.EventsFor(StudyId))).Amount);
        var paid = Assert.IsType<ThirdPartyPaymentApplied>(Assert.Single(outcome.EventsFor(PatientId)));
        Assert.Equal([(1, 264.71m), (2, 35.29m)], paid.Allocations.Select(a => (a.LineNumber, a.Amount)));
        var tooMuch = Assert.IsType<Outcome.Rejected>(RecordSponsorPaymentEndpoint.Decide(study, new RecordSponsorPayment("WIRE-2", 300.01m, On), accounts, Now));
        Assert.Equal("must not exceed the $300.00 the sponsor owes", tooMuch.Errors["amount"].Single());
    }

    [Fact]
    public void a_voided_session_is_owed_by_the_sponsor_no_more()
    {
        var study = Enrolled().Then(CoverStudySessionHandler.Decide(Account(), Enrolled(), Delivered(), Now).EventsFor(StudyId).ToArray());
        var voided = new FundedSessionVoided(PatientId, SessionId, "entered twice", Now);

        Assert.Equal("entered twice", Assert.IsType<StudySessionReleased>(Assert.Single(ReleaseStudySessionHandler.Decide(study, voided).EventsFor(StudyId))).Reason);
        Assert.Empty(ReleaseStudySessionHandler.Decide(Enrolled(), voided).AllEvents);
    }
}
