using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.PriorAuthorizations;

/// <summary>The PriorAuthorizations area's pure decisions, without a host: given events, when a command or message, then the outcome.</summary>
public class prior_authorizations_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 3, 20, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = new(2026, 3, 20);
    private static readonly Guid AuthorizationId = Guid.NewGuid();
    private static readonly Guid PatientId = Guid.NewGuid();
    private static readonly Guid SessionId = Guid.NewGuid();
    private static readonly Payer Payer = new() { Id = Guid.NewGuid(), Name = "Blue Prairie Health", PayerId = "BPH01" };

    private static RequestPriorAuthorization Request() => new(AuthorizationId, PatientId, Payer.Id, ["96365"], 6, [" f33.2 "],
        new MedicalNecessityEvidence(["sertraline"], 22, null, null), new DateOnly(2026, 3, 1));

    private static PatientAccount Insured(params object[] more) => Given.Aggregate<PatientAccount>(
        [
            new PatientRegistered(PatientId, "Ana", "Lima", new DateOnly(1980, 1, 1), null, null, Now),
            new CoverageRecorded(PatientId, Guid.NewGuid(), Payer.Id, "MEM1", null, null, CoveragePriority.Primary, 40m, 20m, null, new DateOnly(2025, 1, 1), null, Now),
            .. more
        ]);

    private static SessionDelivered Session(Guid id, DateOnly on) => new(PatientId, id, on, 60, "main", [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m)],
        ["F33.2"], 450m, Now, "dr-a", [FundingSource.Insurance], null, null, ResponsibleParty.Insurance);

    private static PriorAuthorization Requested() =>
        Given.Aggregate<PriorAuthorization>(RequestPriorAuthorizationEndpoint.Decide(null, Request(), Insured(), Payer, Today, Now).EventsFor(AuthorizationId).ToArray());

    private static ApprovePriorAuthorization Approval(int sessions = 1) => new(" PA-1 ", sessions, null, new DateOnly(2026, 3, 1), new DateOnly(2026, 3, 31));

    private static PriorAuthorization Approved(int sessions = 1) =>
        Requested().Then(ApprovePriorAuthorizationEndpoint.Decide(Requested(), Approval(sessions), Today, Now).EventsFor(AuthorizationId).ToArray());

    [Fact]
    public void a_request_starts_the_authorization_only_for_a_payer_the_patient_is_covered_by()
    {
        var requested = Assert.IsType<PriorAuthorizationRequested>(Assert.Single(
            RequestPriorAuthorizationEndpoint.Decide(null, Request(), Insured(), Payer, Today, Now).EventsFor(AuthorizationId)));
        Assert.Equal(["F33.2"], requested.DiagnosisCodes);
        Assert.Equal(6, requested.SessionsRequested);

        Assert.Equal(404, Assert.IsType<Outcome.Rejected>(RequestPriorAuthorizationEndpoint.Decide(null, Request(), null, Payer, Today, Now)).Status);
        var otherPayer = new Payer { Id = Guid.NewGuid(), Name = "Other" };
        Assert.Equal("the patient has no coverage with this payer",
            Assert.IsType<Outcome.Rejected>(RequestPriorAuthorizationEndpoint.Decide(null, Request() with { PayerId = otherPayer.Id }, Insured(), otherPayer, Today, Now)).Errors["payerId"].Single());
        Assert.IsType<Outcome.Replayed>(RequestPriorAuthorizationEndpoint.Decide(Requested(), Request(), Insured(), Payer, Today, Now));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(RequestPriorAuthorizationEndpoint.Decide(Requested(), Request() with { SessionsRequested = 8 }, Insured(), Payer, Today, Now)).Status);
    }

    [Fact]
    public void approval_and_extension_tell_the_account_to_count_its_sessions_again_and_illegal_changes_are_conflicts()
    {
        var approval = ApprovePriorAuthorizationEndpoint.Decide(Requested(), Approval(), Today, Now);
        Assert.Equal("PA-1", Assert.IsType<PriorAuthorizationApproved>(Assert.Single(approval.EventsFor(AuthorizationId))).AuthorizationNumber);
        Assert.Equal(new PriorAuthorizationChanged(AuthorizationId, PatientId), Assert.Single(approval.OutgoingMessages));
        var twice = Assert.IsType<Outcome.Rejected>(ApprovePriorAuthorizationEndpoint.Decide(Approved(), Approval(), Today, Now));
        Assert.Equal((409, "an authorization that is approved cannot be approved"), (twice.Status, twice.Detail));

        var extension = new ExtendPriorAuthorization(Guid.NewGuid(), 2, new DateOnly(2026, 4, 30));
        var extended = ExtendPriorAuthorizationEndpoint.Decide(Approved(), extension, Today, Now);
        Assert.Equal(2, Assert.IsType<PriorAuthorizationExtended>(Assert.Single(extended.EventsFor(AuthorizationId))).AdditionalSessions);
        Assert.Single(extended.OutgoingMessages);
        var after = Approved().Then(extended.EventsFor(AuthorizationId).ToArray());
        Assert.IsType<Outcome.Replayed>(ExtendPriorAuthorizationEndpoint.Decide(after, extension, Today, Now));
        Assert.Equal("must not be before the current end 03/31/2026", Assert.IsType<Outcome.Rejected>(ExtendPriorAuthorizationEndpoint.Decide(
            Approved(), extension with { ExtensionId = Guid.NewGuid(), ValidTo = new DateOnly(2026, 3, 30) }, Today, Now)).Errors["validTo"].Single());
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(ExtendPriorAuthorizationEndpoint.Decide(Requested(), extension, Today, Now)).Status);
    }

    [Fact]
    public void a_requested_authorization_can_be_denied_and_an_approved_one_expired()
    {
        var denied = DenyPriorAuthorizationEndpoint.Decide(Requested(), new DenyPriorAuthorization(" not medically necessary "), Today, Now);
        Assert.Equal("not medically necessary", Assert.IsType<PriorAuthorizationDenied>(Assert.Single(denied.EventsFor(AuthorizationId))).Reason);
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(DenyPriorAuthorizationEndpoint.Decide(Approved(), new DenyPriorAuthorization("late"), Today, Now)).Status);

        Assert.IsType<PriorAuthorizationExpired>(Assert.Single(ExpirePriorAuthorizationEndpoint.Decide(Approved(), Today, Now).EventsFor(AuthorizationId)));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(ExpirePriorAuthorizationEndpoint.Decide(Requested(), Today, Now)).Status);
    }

    [Fact]
    public void an_insured_session_is_counted_by_the_authorization_and_flagged_beyond_its_count()
    {
        var first = Guid.NewGuid();
        var account = Insured(Session(first, new DateOnly(2026, 3, 5)), Session(SessionId, new DateOnly(2026, 3, 6)));
        var counted = CountAuthorizedSessionHandler.Decide(account, [Approved()], new InsuredSessionDelivered(PatientId, first, new DateOnly(2026, 3, 5), ["96365"]), Now);
        Assert.Equal(AuthorizationFlag.None, Assert.IsType<AuthorizedSessionUsed>(Assert.Single(counted.EventsFor(AuthorizationId))).Flag);
        var check = Assert.IsType<SessionAuthorizationChecked>(Assert.Single(counted.EventsFor(PatientId)));
        Assert.Equal((AuthorizationId, "PA-1", AuthorizationFlag.None, Payer.Id), (check.AuthorizationId, check.AuthorizationNumber, check.Flag, check.AuthorizationPayerId));

        var used = Approved().Then(counted.EventsFor(AuthorizationId).ToArray());
        var second = CountAuthorizedSessionHandler.Decide(account.Then(counted.EventsFor(PatientId).ToArray()), [used],
            new InsuredSessionDelivered(PatientId, SessionId, new DateOnly(2026, 3, 6), ["96365"]), Now);
        Assert.Equal(AuthorizationFlag.BeyondApprovedCount, Assert.IsType<SessionAuthorizationChecked>(Assert.Single(second.EventsFor(PatientId))).Flag);

        var none = CountAuthorizedSessionHandler.Decide(Insured(Session(first, new DateOnly(2026, 3, 5))), [], new InsuredSessionDelivered(PatientId, first, new DateOnly(2026, 3, 5), ["96365"]), Now);
        Assert.Equal(AuthorizationFlag.NoAuthorization, Assert.IsType<SessionAuthorizationChecked>(Assert.Single(none.AllEvents)).Flag);
    }

    [Fact]
    public void sessions_delivered_before_the_approval_are_counted_when_it_comes()
    {
        var unauthorized = new SessionAuthorizationChecked(PatientId, SessionId, null, null, AuthorizationFlag.NoAuthorization, Now);
        var account = Insured(Session(SessionId, new DateOnly(2026, 3, 6)), unauthorized);

        var outcome = RecheckAuthorizedSessionsHandler.Decide(account, Approved(), new PriorAuthorizationChanged(AuthorizationId, PatientId), Now);

        Assert.Equal(1, Assert.IsType<AuthorizedSessionUsed>(Assert.Single(outcome.EventsFor(AuthorizationId))).Number);
        Assert.Equal(AuthorizationFlag.None, Assert.IsType<SessionAuthorizationChecked>(Assert.Single(outcome.EventsFor(PatientId))).Flag);
        Assert.Empty(RecheckAuthorizedSessionsHandler.Decide(account, Requested(), new PriorAuthorizationChanged(AuthorizationId, PatientId), Now).AllEvents);
    }

    [Fact]
    public void a_voided_session_no_longer_uses_the_authorization()
    {
        var used = Approved().Then(new AuthorizedSessionUsed(AuthorizationId, SessionId, new DateOnly(2026, 3, 6), 1, AuthorizationFlag.None, Now));
        var voided = new FundedSessionVoided(PatientId, SessionId, "entered in error", Now);

        Assert.Equal(SessionId, Assert.IsType<AuthorizedSessionReleased>(Assert.Single(ReleaseAuthorizedSessionHandler.Decide(used, voided).EventsFor(AuthorizationId))).SessionId);
        Assert.Empty(ReleaseAuthorizedSessionHandler.Decide(Approved(), voided).AllEvents);
    }
}
