using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Grants;

/// <summary>The Grants area's pure decisions, without a host: given events, when a command or message, then the outcome.</summary>
public class grants_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 3, 20, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly On = new(2026, 3, 10);
    private static readonly Guid GrantId = Guid.NewGuid();
    private static readonly Guid PatientId = Guid.NewGuid();
    private static readonly Guid SessionId = Guid.NewGuid();

    private static readonly IReadOnlyList<ChargeLine> Lines =
        [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m), new ChargeLine(2, "J3490", "Ketamine", 1, 60m, 60m)];

    /// <summary>Fee sharing: the clinic gives up half, the fund pays half of the rest; 600.00 in all.</summary>
    private static AwardGrant Award() => new(GrantId, PatientId, " Ketamine Access Fund ", 600m, 6, "fee-sharing", null, null, 50m, 50m,
        new DateOnly(2026, 1, 1), new DateOnly(2026, 12, 31));

    private static Grant Grant() => Given.Aggregate<Grant>(AwardGrantEndpoint.Decide(null, Award(), true, Now).EventsFor(GrantId).ToArray());

    private static PatientAccount Account() => Given.Aggregate<PatientAccount>(
        new PatientRegistered(PatientId, "Dana", "Reyes", new DateOnly(1985, 1, 1), null, null, Now),
        new SessionDelivered(PatientId, SessionId, On, 60, "main", Lines, ["F33.2"], 510m, Now, "dr-a", [FundingSource.Grant], null, null, ResponsibleParty.Grant));

    private static GrantFundedSessionDelivered Delivered() => new(PatientId, SessionId, On, Lines);

    [Fact]
    public void an_award_starts_the_grant_for_a_patient_and_the_same_id_with_other_terms_is_a_conflict()
    {
        var awarded = Assert.IsType<GrantAwarded>(Assert.Single(AwardGrantEndpoint.Decide(null, Award(), true, Now).EventsFor(GrantId)));

        Assert.Equal(("Ketamine Access Fund", GrantCoverage.FeeSharing, 600m), (awarded.Organization, awarded.Rule.Coverage, awarded.Amount));
        Assert.Equal("is not a patient", Assert.IsType<Outcome.Rejected>(AwardGrantEndpoint.Decide(null, Award(), false, Now)).Errors["patientId"].Single());
        Assert.IsType<Outcome.Replayed>(AwardGrantEndpoint.Decide(Grant(), Award(), true, Now));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(AwardGrantEndpoint.Decide(Grant(), Award() with { Amount = 700m }, true, Now)).Status);
    }

    [Fact]
    public void a_grant_funded_session_takes_the_clinic_s_reduction_and_the_fund_s_share_and_the_rest_is_the_patient_s()
    {
        var outcome = ApplyGrantHandler.Decide(Account(), [Grant()], Delivered(), Now);

        var applied = Assert.IsType<GrantApplied>(Assert.Single(outcome.EventsFor(GrantId)));
        Assert.Equal((127.50m, 255m), (applied.Amount, applied.ClinicReduction));
        Assert.Equal([new CommittedLine(1, 112.50m), new CommittedLine(2, 15m)], applied.Lines);
        var account = outcome.EventsFor(PatientId);
        var adjusted = Assert.IsType<ThirdPartyAdjusted>(account[0]);
        Assert.Equal((ResponsibleParty.Grant, 255m, "fee sharing with Ketamine Access Fund: the clinic's share"), (adjusted.Party, adjusted.Total, adjusted.Reason));
        Assert.Equal([(1, 225m), (2, 30m)], adjusted.Allocations.Select(a => (a.LineNumber, a.Amount)));
        var moved = Assert.IsType<ResponsibilityMoved>(account[1]);
        Assert.Equal([(1, 112.50m), (2, 15m)], moved.Moves.Select(m => (m.LineNumber, m.Amount)));
    }

    [Fact]
    public void without_an_award_for_the_date_the_session_is_the_patient_s()
    {
        var outcome = ApplyGrantHandler.Decide(Account(), [], Delivered(), Now);

        var moved = Assert.IsType<ResponsibilityMoved>(Assert.Single(outcome.AllEvents));
        Assert.Equal(("no grant award covers the date of service", 510m), (moved.Reason, moved.Moves.Sum(m => m.Amount)));
    }

    [Fact]
    public void funds_pay_the_grant_s_sessions_and_the_patient_s_lines_never_more_than_the_grant_owes()
    {
        var applied = ApplyGrantHandler.Decide(Account(), [Grant()], Delivered(), Now);
        var grant = Grant().Then(applied.EventsFor(GrantId).ToArray());
        var account = Account().Then(applied.EventsFor(PatientId).ToArray());

        var outcome = ReceiveGrantFundsEndpoint.Decide(grant, account, new ReceiveGrantFunds(" GF-1 ", 100m, On), Now);

        Assert.Equal(100m, Assert.IsType<GrantFundsReceived>(Assert.Single(outcome.EventsFor(GrantId))).Amount);
        var paid = Assert.IsType<ThirdPartyPaymentApplied>(Assert.Single(outcome.EventsFor(PatientId)));
        Assert.Equal((ResponsibleParty.Grant, "GF-1"), (paid.Party, paid.Reference));
        Assert.Equal([(1, 100m)], paid.Allocations.Select(a => (a.LineNumber, a.Amount)));
        var tooMuch = Assert.IsType<Outcome.Rejected>(ReceiveGrantFundsEndpoint.Decide(grant, account, new ReceiveGrantFunds("GF-2", 127.51m, On), Now));
        Assert.Equal("must not exceed the $127.50 the grant owes for sessions applied", tooMuch.Errors["amount"].Single());
    }

    [Fact]
    public void a_voided_session_gives_the_grant_its_share_back()
    {
        var grant = Grant().Then(ApplyGrantHandler.Decide(Account(), [Grant()], Delivered(), Now).EventsFor(GrantId).ToArray());
        var voided = new FundedSessionVoided(PatientId, SessionId, "entered twice", Now);

        Assert.Equal(SessionId, Assert.IsType<GrantReleased>(Assert.Single(ReleaseGrantHandler.Decide(grant, voided).EventsFor(GrantId))).SessionId);
        Assert.Empty(ReleaseGrantHandler.Decide(Grant(), voided).AllEvents);
    }
}
