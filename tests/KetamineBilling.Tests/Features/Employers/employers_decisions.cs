using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Employers;

/// <summary>The Employers area's pure decisions, without a host: given events, when a command or message, then the outcome.</summary>
public class employers_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 3, 20, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly On = new(2026, 3, 10);
    private static readonly Guid EmployerId = Guid.NewGuid();
    private static readonly Guid PatientId = Guid.NewGuid();
    private static readonly Guid SessionId = Guid.NewGuid();

    /// <summary>80% of 96365 (450.00), J3490 not covered; 2,000.00 a year at most.</summary>
    private static EmployerAgreement Acme() => Given.Aggregate<EmployerAgreement>(
        new EmployerRegistered(EmployerId, "Acme Logistics", null, new EmployerTerms(null, 80m, ["96365"], 2000m, null, 30, false), Now),
        new EmployeeEnrolled(EmployerId, PatientId, "ACM-1", 2026, Now));

    private static readonly IReadOnlyList<ChargeLine> Lines =
        [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m), new ChargeLine(2, "J3490", "Ketamine", 1, 60m, 60m)];

    private static PatientAccount Account() => Given.Aggregate<PatientAccount>(
        new PatientRegistered(PatientId, "Bruno", "Diaz", new DateOnly(1980, 1, 1), null, null, Now),
        new SessionDelivered(PatientId, SessionId, On, 60, "main", Lines, ["F33.2"], 510m, Now, "dr-a", [FundingSource.Employer], null, null, ResponsibleParty.Employer));

    private static EmployerFundedSessionDelivered Delivered() => new(PatientId, SessionId, On, Lines);

    private static EmployerAgreement Committed()
    {
        var acme = Acme();
        foreach (var e in CommitDirectPayHandler.Decide(Account(), [acme], Delivered(), Now).EventsFor(EmployerId)) acme.Then(e);
        return acme;
    }

    [Fact]
    public void a_new_employer_starts_its_stream_and_the_same_id_with_other_terms_is_a_conflict()
    {
        var command = new CreateEmployer(" Acme Logistics ", null, null, 80m, [" 96365 "], 2000m, null);
        var created = Assert.IsType<Outcome.Accepted>(CreateEmployerEndpoint.Decide(null, command, EmployerId, Now));

        var registered = Assert.IsType<EmployerRegistered>(Assert.Single(created.EventsFor(EmployerId)));
        Assert.Equal(("Acme Logistics", 30), (registered.Name, registered.Terms.PaymentTermsDays));
        Assert.Equal(["96365"], registered.Terms.CoveredCodes);
        Assert.Equal(typeof(EmployerAgreement), created.Streams.Single().StartAs);
        Assert.IsType<Outcome.Replayed>(CreateEmployerEndpoint.Decide(Acme(), command, EmployerId, Now));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(CreateEmployerEndpoint.Decide(Acme(), command with { CoveragePercent = 50m }, EmployerId, Now)).Status);
    }

    [Fact]
    public void an_employee_is_enrolled_once_per_plan_year_and_only_a_patient_can_be()
    {
        var enrolled = EnrollEmployeeEndpoint.Decide(Acme(), new EnrollEmployee(PatientId, "ACM-1", 2027), Account(), Now);
        Assert.Equal(2027, Assert.IsType<EmployeeEnrolled>(Assert.Single(enrolled.EventsFor(EmployerId))).PlanYear);

        Assert.IsType<Outcome.Replayed>(EnrollEmployeeEndpoint.Decide(Acme(), new EnrollEmployee(PatientId, "ACM-1", 2026), Account(), Now));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(EnrollEmployeeEndpoint.Decide(Acme(), new EnrollEmployee(PatientId, "ACM-2", 2026), Account(), Now)).Status);
        var notPatient = Assert.IsType<Outcome.Rejected>(EnrollEmployeeEndpoint.Decide(Acme(), new EnrollEmployee(Guid.NewGuid(), "ACM-3", 2026), null, Now));
        Assert.Equal((422, "is not a patient"), (notPatient.Status, notPatient.Errors["patientId"].Single()));
    }

    [Fact]
    public void employment_ends_on_the_day_given_or_today_and_only_an_open_enrolment_can_end()
    {
        var ended = EndEmploymentEndpoint.Decide(Acme(), new EndEmployment(null), PatientId, On, Now);
        Assert.Equal(On, Assert.IsType<EmploymentEnded>(Assert.Single(ended.EventsFor(EmployerId))).EndedOn);

        var again = Acme().Then(ended.EventsFor(EmployerId).ToArray());
        Assert.Equal(404, Assert.IsType<Outcome.Rejected>(EndEmploymentEndpoint.Decide(again, new EndEmployment(On), PatientId, On, Now)).Status);
    }

    [Fact]
    public void employment_cannot_end_before_the_plan_year_it_covers_starts()
    {
        var early = Assert.IsType<Outcome.Rejected>(EndEmploymentEndpoint.Decide(Acme(), new EndEmployment(new DateOnly(2025, 12, 31)), PatientId, On, Now));

        Assert.Equal(422, early.Status);
        Assert.Equal(["must not be before the plan year starts (01/01/2026)"], early.Errors["endedOn"]);
        Assert.Empty(early.AllEvents);
        var firstDay = EndEmploymentEndpoint.Decide(Acme(), new EndEmployment(new DateOnly(2026, 1, 1)), PatientId, On, Now);
        Assert.Equal(new DateOnly(2026, 1, 1), Assert.IsType<EmploymentEnded>(Assert.Single(firstDay.EventsFor(EmployerId))).EndedOn);
    }

    [Fact]
    public void a_delivered_session_commits_the_employer_s_share_and_moves_the_rest_to_the_patient()
    {
        var outcome = CommitDirectPayHandler.Decide(Account(), [Acme()], Delivered(), Now);

        var committed = Assert.IsType<DirectPayCommitted>(Assert.Single(outcome.EventsFor(EmployerId)));
        Assert.Equal(360m, committed.Amount);
        Assert.Equal([new CommittedLine(1, 360m)], committed.Lines);
        var moved = Assert.IsType<ResponsibilityMoved>(Assert.Single(outcome.EventsFor(PatientId)));
        Assert.Equal([(1, 90m), (2, 60m)], moved.Moves.Select(m => (m.LineNumber, m.Amount)));
        Assert.All(moved.Moves, m => Assert.Equal((ResponsibleParty.Employer, ResponsibleParty.Patient), (m.From, m.To)));
        Assert.Equal("beyond the employer's share", moved.Reason);
    }

    [Fact]
    public void without_an_enrolment_for_the_date_the_whole_session_is_the_patient_s_and_a_session_is_committed_once()
    {
        var none = CommitDirectPayHandler.Decide(Account(), [], Delivered(), Now);
        Assert.Equal([(1, 450m), (2, 60m)], Assert.IsType<ResponsibilityMoved>(Assert.Single(none.AllEvents)).Moves.Select(m => (m.LineNumber, m.Amount)));

        var moved = Account().Then(CommitDirectPayHandler.Decide(Account(), [Acme()], Delivered(), Now).EventsFor(PatientId).ToArray());
        Assert.Empty(CommitDirectPayHandler.Decide(moved, [Committed()], Delivered(), Now).EventsFor(EmployerId));
    }

    [Fact]
    public void an_invoice_takes_the_month_s_uninvoiced_sessions_and_a_month_without_any_is_refused()
    {
        var outcome = IssueInvoiceEndpoint.Decide(Committed(), new IssueInvoice(Guid.NewGuid(), "2026-03"), new DateOnly(2026, 4, 2), Now);

        var issued = Assert.IsType<EmployerInvoiceIssued>(Assert.Single(outcome.EventsFor(EmployerId)));
        Assert.Equal(("INV-202603-01", 360m, new DateOnly(2026, 5, 2)), (issued.Number, issued.Total, issued.DueOn));
        var empty = Assert.IsType<Outcome.Rejected>(IssueInvoiceEndpoint.Decide(Committed(), new IssueInvoice(Guid.NewGuid(), "2026-02"), On, Now));
        Assert.Equal((422, "2026-02 has no covered session that is not invoiced yet"), (empty.Status, empty.Errors["month"].Single()));
        var invoiced = Committed().Then(issued);
        Assert.IsType<Outcome.Replayed>(IssueInvoiceEndpoint.Decide(invoiced, new IssueInvoice(issued.InvoiceId, "2026-03"), On, Now));
    }

    [Fact]
    public void a_payment_pays_the_invoice_and_the_patient_s_lines_in_the_same_outcome_never_more_than_is_open()
    {
        var invoiced = Committed();
        invoiced.Then(IssueInvoiceEndpoint.Decide(invoiced, new IssueInvoice(Guid.NewGuid(), "2026-03"), On, Now).EventsFor(EmployerId).ToArray());
        var command = new RecordEmployerPayment(Guid.NewGuid(), " ACH-1 ", 300m, On, null);

        var outcome = RecordEmployerPaymentEndpoint.Decide(invoiced, command, Now);

        var received = Assert.IsType<EmployerPaymentReceived>(Assert.Single(outcome.EventsFor(EmployerId)));
        Assert.Equal(300m, Assert.Single(received.Applications).Amount);
        var applied = Assert.IsType<ThirdPartyPaymentApplied>(Assert.Single(outcome.EventsFor(PatientId)));
        Assert.Equal((ResponsibleParty.Employer, EmployerId, "ACH-1", 300m), (applied.Party, applied.SourceId, applied.Reference, applied.Total));
        Assert.Equal([(SessionId, 1, 300m)], applied.Allocations.Select(a => (a.SessionId, a.LineNumber, a.Amount)));
        var tooMuch = Assert.IsType<Outcome.Rejected>(RecordEmployerPaymentEndpoint.Decide(invoiced, command with { Amount = 360.01m }, Now));
        Assert.Equal("must not exceed the $360.00 open on this employer's invoices", tooMuch.Errors["amount"].Single());
        Assert.IsType<Outcome.Replayed>(RecordEmployerPaymentEndpoint.Decide(invoiced.Then(received), command with { Reference = "ACH-1" }, Now));
    }

    [Fact]
    public void a_voided_session_releases_the_commitment_unless_it_is_on_an_invoice()
    {
        var voided = new FundedSessionVoided(PatientId, SessionId, "entered twice", Now.AddHours(1));

        var released = Assert.IsType<DirectPayReleased>(Assert.Single(ReleaseDirectPayHandler.Decide(Committed(), voided).EventsFor(EmployerId)));
        Assert.Equal(("entered twice", Now.AddHours(1)), (released.Reason, released.ReleasedAt));
        Assert.Empty(ReleaseDirectPayHandler.Decide(Acme(), voided).AllEvents);
        var invoiced = Committed();
        invoiced.Then(IssueInvoiceEndpoint.Decide(invoiced, new IssueInvoice(Guid.NewGuid(), "2026-03"), On, Now).EventsFor(EmployerId).ToArray());
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(ReleaseDirectPayHandler.Decide(invoiced, voided)).Status);
    }
}
