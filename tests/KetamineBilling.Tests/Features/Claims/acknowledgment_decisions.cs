using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>Reading 999 and 277CA acknowledgments and what each does to a claim, without a host (issue 19).</summary>
public class acknowledgment_decisions
{
    private static readonly DateTimeOffset Now = ClaimStory.Now;

    [Fact]
    public void a_999_is_read_set_by_set_with_its_errors_in_words_and_the_claim_it_names()
    {
        var acks = AcknowledgmentReader.Read999(X12Reader.Read(AckBuilder.Ack999(1042, accepted: false, "KB9C1E07F3A2B84D5512")));

        var ack = Assert.Single(acks);
        Assert.Equal(("1042", "0001", "R", false), (ack.GroupControlNumber, ack.SetControlNumber, ack.Code, ack.Accepted));
        Assert.Equal(["KB9C1E07F3A2B84D5512"], ack.NamedClaims);
        Assert.Equal("999 rejected transaction set 0001: one or more segments in error; segment DTP at position 45 (loop 2400): segment has data element errors; " +
                     "element 3 (1251): invalid date, value \"20250231\"", ack.Detail);
        Assert.True(Assert.Single(AcknowledgmentReader.Read999(X12Reader.Read(AckBuilder.Ack999(1042, accepted: true, null)))).Accepted);
    }

    [Fact]
    public void a_277ca_is_read_claim_by_claim_rejected_for_a3_to_a8_accepted_for_a2_else_received()
    {
        var acks = AcknowledgmentReader.Read277Ca(X12Reader.Read(AckBuilder.Ack277Ca(4711,
            ("KB1", 450m, "A2:20:PR", "ICN-1"), ("KB2", 450m, "A7:562:85", null), ("KB3", 60m, "A1:19:PR", null), ("KB4", 60m, "A6:164:IL", null))));

        Assert.Equal(["KB1", "KB2", "KB3", "KB4"], acks.Select(a => a.ControlNumber));
        Assert.Equal(["accepted", "rejected", "received", "rejected"], acks.Select(a => a.Outcome));
        Assert.Equal("ICN-1", acks[0].PayerClaimNumber);
        Assert.Equal("277CA rejected: A7:562:85 Rejected for invalid information: National Provider Identifier (NPI) (billing provider)", acks[1].Detail);
        Assert.Equal(["A6:164:IL"], acks[3].Statuses);
    }

    [Fact]
    public void an_acknowledgment_rejects_or_acknowledges_a_claim_awaiting_the_payer_once_and_is_only_noted_on_one_that_moved_on()
    {
        var story = new ClaimStory();
        var (claim, _) = story.Filed();
        var interchange = X12Reader.Read(AckBuilder.Ack277Ca(4711, (claim.ControlNumber, 450m, "A7:33:IL", null)));
        var answer = new ClaimAnswer(claim, claim.ControlNumber, "rejected", "277CA rejected: A7:33:IL", null);

        var outcome = ImportAcknowledgmentEndpoint.Decide(null, Guid.NewGuid(), "277CA", interchange, "hash", [("277CA S/1", answer), ("277CA S/1", answer)], "u", Now);

        var file = Assert.IsType<ClaimAcknowledgmentFile>(Assert.IsType<Outcome.Accepted>(outcome).Answer);
        // Named twice in one file: decided once.
        Assert.Equal(["rejected", "already-recorded"], file.Results.Select(r => r.Effect));
        Assert.Equal("277CA S/1", Assert.IsType<ClaimRejected>(Assert.Single(outcome.EventsFor(claim.Id))).Source);
        Assert.Equal([story.SessionId], Assert.IsType<SessionsReleasedFromClaim>(Assert.Single(outcome.EventsFor(story.PatientId))).SessionIds);
        // The same file again answers what it did; other content under its numbers is a conflict.
        Assert.IsType<Outcome.Replayed>(ImportAcknowledgmentEndpoint.Decide(file, file.Id, "277CA", interchange, "hash", [], "u", Now));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(ImportAcknowledgmentEndpoint.Decide(file, file.Id, "277CA", interchange, "other", [], "u", Now)).Status);

        // Accepted by the payer: acknowledged with its claim number; on a claim already adjudicated, only noted.
        var (accepted, _, _) = ImportAcknowledgmentEndpoint.Effect(claim, "277CA S/2", "accepted", "A2:20", "ICN-9", Now);
        Assert.Equal("ICN-9", Assert.IsType<ClaimAcknowledged>(Assert.Single(accepted)).PayerClaimNumber);
        var paid = claim.Then(new ClaimAdjudicated(claim.Id, null, "EOB", ClaimStatus.Paid, [], 400m, 0m, "ICN-9", Now));
        var (late, patient, effect) = ImportAcknowledgmentEndpoint.Effect(paid, "277CA S/3", "rejected", "A7:33", null, Now);
        Assert.Equal(("noted", 0), (effect, patient.Count));
        Assert.IsType<ClaimAcknowledgmentNoted>(Assert.Single(late));
    }

    [Fact]
    public void a_status_request_traces_each_claim_awaiting_the_payer_and_the_same_request_again_answers_it()
    {
        var (first, _) = new ClaimStory().Filed();
        var (second, _) = new ClaimStory().Filed();
        var command = new RequestClaimStatus(Guid.NewGuid(), OlderThanDays: 30);

        var outcome = RequestClaimStatusEndpoint.Decide(null, command, [first, second], "u", Now);

        var batch = Assert.IsType<ClaimStatusRequestBatch>(Assert.IsType<Outcome.Accepted>(outcome).Answer);
        Assert.Equal([first.Id, second.Id], batch.ClaimIds);
        Assert.Equal(RequestClaimStatusEndpoint.Trace(command.RequestId, 2), Assert.IsType<ClaimStatusRequested>(Assert.Single(outcome.EventsFor(second.Id))).Trace);
        Assert.IsType<Outcome.Replayed>(RequestClaimStatusEndpoint.Decide(batch, command, [], "u", Now));
        Assert.Equal(422, Assert.IsType<Outcome.Rejected>(RequestClaimStatusEndpoint.Decide(null, command, [], "u", Now)).Status);
        var closed = first.Then(new ClaimClosed(first.Id, "written off", Now));
        Assert.Contains("claimIds[0]", Assert.IsType<Outcome.Rejected>(
            RequestClaimStatusEndpoint.Decide(null, new RequestClaimStatus(Guid.NewGuid(), ClaimIds: [closed.Id]), [closed], "u", Now)).Errors.Keys);
    }

    [Fact]
    public void a_277_is_read_by_the_trace_it_answers_with_the_amounts_and_dates_in_words()
    {
        var answer = Assert.Single(AcknowledgmentReader.Read277(X12Reader.Read(AckBuilder.Status277(9001,
            ("TRACE-1", "KB1", "P1:20*20261204**450")))));

        Assert.Equal(("TRACE-1", "KB1", "status"), (answer.Trace, answer.ControlNumber, answer.Outcome));
        Assert.Equal("277 status: P1:20 Pending: in process: Accepted for processing; charge $450.00", answer.Detail);
        Assert.Empty(AcknowledgmentReader.Read277Ca(X12Reader.Read(AckBuilder.Status277(9001, ("TRACE-1", "KB1", "P1:20*20261204**450")))));
    }
}
