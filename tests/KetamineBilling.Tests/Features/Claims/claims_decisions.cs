using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>The claims area's pure decisions, without a host: given events, when a command, then events or a rejection.</summary>
public class claims_decisions
{
    private static readonly DateTimeOffset Now = ClaimStory.Now;

    private static T Single<T>(Outcome outcome, object streamId) => Assert.IsType<T>(Assert.Single(outcome.EventsFor(streamId)));

    private static Outcome.Rejected Rejected(Outcome outcome, int status)
    {
        var rejected = Assert.IsType<Outcome.Rejected>(outcome);
        Assert.Equal(status, rejected.Status);
        return rejected;
    }

    [Fact]
    public void filing_starts_the_claim_stream_and_puts_the_sessions_on_it_moving_what_the_patient_owes_to_insurance()
    {
        var story = new ClaimStory();

        var outcome = FileClaimEndpoint.Decide(story.Unclaimed(), story.FileClaim(), story.Payer, null, new ClinicProfile(), Now);

        var accepted = Assert.IsType<Outcome.Accepted>(outcome);
        Assert.Equal(201, accepted.Status);
        Assert.Equal($"/api/claims/{story.ClaimId}", accepted.Location);
        Assert.Equal(typeof(Claim), accepted.Streams.Single(s => Equals(s.StreamId, story.ClaimId)).StartAs);
        var filed = Single<ClaimFiled>(outcome, story.ClaimId);
        Assert.Equal((450m, "96365", story.Payer.Id), (filed.TotalCharge, Assert.Single(filed.Lines).Code, filed.PayerId));
        Assert.Equal(FileClaimEndpoint.ControlNumber(story.ClaimId), filed.ControlNumber);
        var claimed = Single<SessionsClaimed>(outcome, story.PatientId);
        Assert.Equal([story.SessionId], claimed.SessionIds);
        var move = Assert.Single(claimed.Moves);
        Assert.Equal((ResponsibleParty.Patient, ResponsibleParty.Insurance, 450m), (move.From, move.To, move.Amount));
    }

    [Fact]
    public void filing_for_no_payer_is_unprocessable_and_the_same_claim_again_is_a_replay_or_with_other_sessions_a_conflict()
    {
        var story = new ClaimStory();
        var noPayer = Rejected(FileClaimEndpoint.Decide(story.Unclaimed(), story.FileClaim(), null, null, new ClinicProfile(), Now), 422);
        Assert.Equal(["is not a payer"], noPayer.Errors["payerId"]);

        var (claim, account) = story.Filed();
        var replay = Assert.IsType<Outcome.Replayed>(FileClaimEndpoint.Decide(account, story.FileClaim(), story.Payer, claim, new ClinicProfile(), Now));
        Assert.Equal(claim.Id, Assert.IsType<ClaimView>(replay.Answer).Id);
        var other = story.FileClaim() with { SessionIds = [Guid.NewGuid()] };
        Rejected(FileClaimEndpoint.Decide(account, other, story.Payer, claim, new ClinicProfile(), Now), 409);
    }

    [Fact]
    public void a_session_already_on_a_claim_to_the_payer_is_a_conflict()
    {
        var story = new ClaimStory();
        var (_, account) = story.Filed();

        var rejected = Rejected(FileClaimEndpoint.Decide(account, story.FileClaim() with { ClaimId = Guid.NewGuid() }, story.Payer, null, new ClinicProfile(), Now), 409);

        Assert.Equal($"session {story.SessionId} is already on an open claim to this payer", rejected.Detail);
    }

    [Fact]
    public void acknowledging_a_filed_claim_records_it_and_acknowledging_again_is_a_conflict()
    {
        var (claim, _) = new ClaimStory().Filed();

        var acknowledged = Single<ClaimAcknowledged>(AcknowledgeClaimEndpoint.Decide(claim, new AcknowledgeClaim(claim.Id), Now), claim.Id);
        var again = Rejected(AcknowledgeClaimEndpoint.Decide(claim.Then(acknowledged), new AcknowledgeClaim(claim.Id), Now), 409);

        Assert.Equal(Now, acknowledged.AcknowledgedAt);
        Assert.Equal("a claim that is acknowledged cannot be acknowledged", again.Detail);
    }

    [Fact]
    public void rejecting_a_claim_gives_its_sessions_back_on_the_account()
    {
        var story = new ClaimStory();
        var (claim, _) = story.Filed();

        var outcome = RejectClaimEndpoint.Decide(claim, new RejectClaim("  missing member id "), Now);

        Assert.Equal("missing member id", Single<ClaimRejected>(outcome, claim.Id).Reason);
        var released = Single<SessionsReleasedFromClaim>(outcome, story.PatientId);
        Assert.Equal([story.SessionId], released.SessionIds);
        Assert.Equal("claim rejected: missing member id", released.Reason);
        Assert.Equal("rejected", Assert.IsType<ClaimView>(Assert.IsType<Outcome.Accepted>(outcome).Answer).Status);
    }

    [Fact]
    public void only_an_adjudicated_claim_is_appealed_with_the_documents_named()
    {
        var (claim, _) = new ClaimStory().Filed();
        Assert.Equal("a claim that is filed cannot be appealed", Rejected(AppealClaimEndpoint.Decide(claim, new AppealClaim("wrong", null), Now), 409).Detail);

        var denied = claim.Then(new ClaimAdjudicated(claim.Id, null, "manual EOB", ClaimStatus.Denied,
            [new AdjudicatedLine(1, 450m, 0m, 0m, [new ClaimAdjustment("CO", "197", 450m)], [])], 0m, 0m, null, Now.AddDays(-1)));
        var appealed = Single<ClaimAppealed>(AppealClaimEndpoint.Decide(denied, new AppealClaim("authorized", ["auth.pdf", " "]), Now), claim.Id);

        Assert.Equal("authorized", appealed.Reason);
        Assert.Equal(["auth.pdf"], appealed.Documents);
    }

    [Fact]
    public void closing_with_insurance_still_open_needs_a_disposition_which_writes_it_off_or_bills_the_patient()
    {
        var story = new ClaimStory();
        var (claim, account) = story.Filed();

        var rejected = Rejected(CloseClaimEndpoint.Decide(claim, account, new CloseClaim("timely filing"), Now), 422);
        Assert.Equal(["$450.00 is still open with insurance: say bill-patient or write-off"], rejected.Errors["disposition"]);

        var writeOff = CloseClaimEndpoint.Decide(claim, account, new CloseClaim("timely filing", "write-off"), Now);
        Assert.Equal("timely filing", Single<ClaimClosed>(writeOff, claim.Id).Reason);
        var patientEvents = writeOff.EventsFor(story.PatientId);
        var adjusted = Assert.IsType<ThirdPartyAdjusted>(patientEvents[0]);
        Assert.Equal((ResponsibleParty.Insurance, 450m, $"claim {claim.ControlNumber} closed: timely filing"), (adjusted.Party, adjusted.Total, adjusted.Reason));
        Assert.IsType<SessionsReleasedFromClaim>(patientEvents[1]);

        var billed = CloseClaimEndpoint.Decide(claim, account, new CloseClaim("timely filing", "bill-patient"), Now).EventsFor(story.PatientId);
        var move = Assert.Single(Assert.IsType<ResponsibilityMoved>(billed[0]).Moves);
        Assert.Equal((ResponsibleParty.Insurance, ResponsibleParty.Patient, 450m), (move.From, move.To, move.Amount));
    }

    [Fact]
    public void a_batch_sends_only_claims_awaiting_the_payer_and_a_claim_sent_before_only_as_a_resubmission()
    {
        var (claim, _) = new ClaimStory().Filed();
        var claims = new Dictionary<Guid, Claim> { [claim.Id] = claim };
        var command = new ExportClaimBatch([claim.Id], Guid.NewGuid());

        var batch = Assert.IsType<ClaimBatch>(Assert.IsType<Outcome.Accepted>(ExportClaimBatchEndpoint.Decide(null, command, claims, [], "user-1", Now)).Answer);
        Assert.Equal([claim.Id], batch.ClaimIds);
        Assert.Equal(("user-1", Now, (string?)null), (batch.CreatedBy, batch.CreatedAt, batch.ResubmissionReason));

        var earlier = new ClaimBatch { Id = 7, BatchId = Guid.NewGuid(), ClaimIds = [claim.Id] };
        var conflict = Rejected(ExportClaimBatchEndpoint.Decide(null, command, claims, [earlier], "user-1", Now), 409);
        Assert.StartsWith($"claim {claim.ControlNumber} ({claim.Id}) was already sent in batch 000000007", conflict.Detail);
        var resent = Assert.IsType<ClaimBatch>(Assert.IsType<Outcome.Accepted>(ExportClaimBatchEndpoint.Decide(
            null, command with { Resubmission = true, ResubmissionReason = " corrected " }, claims, [earlier], "user-1", Now)).Answer);
        Assert.Equal(("corrected", 7), (resent.ResubmissionReason, Assert.Single(resent.Resent).EarlierBatch));

        var unknown = Rejected(ExportClaimBatchEndpoint.Decide(null, command, new Dictionary<Guid, Claim>(), [], "user-1", Now), 422);
        Assert.Equal(["is not a claim"], unknown.Errors["claimIds[0]"]);
        var closed = claim.Then(new ClaimClosed(claim.Id, "done", Now));
        Assert.Equal(["is closed: only claims awaiting the payer, and voided claims (as voids), are sent"],
            Rejected(ExportClaimBatchEndpoint.Decide(null, command, new Dictionary<Guid, Claim> { [claim.Id] = closed }, [], "user-1", Now), 422).Errors["claimIds[0]"]);
    }

    [Fact]
    public void the_same_batch_id_again_answers_the_same_batch_or_with_other_claims_a_conflict()
    {
        var claimId = Guid.NewGuid();
        var existing = new ClaimBatch { Id = 3, BatchId = Guid.NewGuid(), ClaimIds = [claimId], File = "ISA*..." };

        var replay = Assert.IsType<Outcome.Replayed>(ExportClaimBatchEndpoint.Decide(existing, new ExportClaimBatch([claimId], existing.BatchId), new Dictionary<Guid, Claim>(), [], "u", Now));
        Assert.Same(existing, replay.Answer);
        Rejected(ExportClaimBatchEndpoint.Decide(existing, new ExportClaimBatch([Guid.NewGuid()], existing.BatchId), new Dictionary<Guid, Claim>(), [], "u", Now), 409);
    }
}
