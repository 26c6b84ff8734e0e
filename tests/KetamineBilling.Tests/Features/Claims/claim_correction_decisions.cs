using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>Replacing (frequency 7) and voiding (frequency 8) a claim: the decisions, without a host (issue 19).</summary>
public class claim_correction_decisions
{
    private static readonly DateTimeOffset Now = ClaimStory.Now;

    /// <summary>The story's claim, adjudicated by an 835 that paid 360.00 and gave the payer's claim number (or none: a paper EOB).</summary>
    private static (Claim Claim, PatientAccount Account, ClaimStory Story) Paid(string? payerClaimNumber = "ICN-7731")
    {
        var story = new ClaimStory();
        var (claim, account) = story.Filed();
        var outcome = ClaimPosting.Post(claim, account, "835 T1", [new PostingLine(1, 450m, 360m, 360m, [new ClaimAdjustment("CO", "45", 90m)], [])],
            payerClaimNumber, Guid.NewGuid(), Now.AddDays(-5));
        Assert.Null(outcome.Problem);
        return (claim.Then([.. outcome.ClaimEvents]), account.Then([.. outcome.PatientEvents]), story);
    }

    private static Outcome.Rejected Rejected(Outcome outcome, int status)
    {
        var rejected = Assert.IsType<Outcome.Rejected>(outcome);
        Assert.Equal(status, rejected.Status);
        return rejected;
    }

    [Fact]
    public void a_replacement_files_a_new_claim_naming_the_payers_claim_number_marks_the_original_and_moves_its_sessions()
    {
        var (claim, account, story) = Paid();
        var command = new ReplaceClaim(Guid.NewGuid(), "modifier 59 was missing", null, ["F33.1"], [new LineCorrection(1, ["59"], "10")]);

        var outcome = ReplaceClaimEndpoint.Decide(claim, null, account, command, Now);

        Assert.Equal(201, Assert.IsType<Outcome.Accepted>(outcome).Status);
        var filed = Assert.IsType<ClaimFiled>(Assert.Single(outcome.EventsFor(command.ReplacementId)));
        Assert.Equal((claim.Id, "ICN-7731", "modifier 59 was missing", 450m), (filed.ReplacesClaimId!.Value, filed.ReplacesPayerClaimNumber, filed.Reason, filed.TotalCharge));
        Assert.Equal(["59"], filed.Lines[0].Modifiers);
        Assert.Equal(("10", "10"), (filed.Lines[0].PlaceOfService, filed.PlaceOfService));
        Assert.Equal(["F33.1"], filed.DiagnosisCodes);
        var replaced = Assert.IsType<ClaimReplaced>(Assert.Single(outcome.EventsFor(claim.Id)));
        Assert.Equal(command.ReplacementId, replaced.ReplacementClaimId);
        var patient = outcome.EventsFor(story.PatientId);
        Assert.Equal(claim.Id, Assert.IsType<SessionsReleasedFromClaim>(patient[0]).ClaimId);
        var claimed = Assert.IsType<SessionsClaimed>(patient[1]);
        Assert.Equal((command.ReplacementId, 0), (claimed.ClaimId, claimed.Moves.Count));
        Assert.Equal([story.SessionId], claimed.SessionIds);

        // The same replacement again answers it; other corrections under its id are a conflict.
        var replacement = Given.Aggregate<Claim>(filed);
        var after = claim.Then(replaced);
        Assert.IsType<Outcome.Replayed>(ReplaceClaimEndpoint.Decide(after, replacement, account, command, Now));
        Rejected(ReplaceClaimEndpoint.Decide(after, replacement, account, command with { Lines = [new LineCorrection(1, ["XU"])] }, Now), 409);
        // A replaced claim is corrected no further.
        Rejected(ReplaceClaimEndpoint.Decide(after, null, account, command with { ReplacementId = Guid.NewGuid() }, Now), 409);
        Assert.Equal(("7", "replaced"), (replacement.Frequency, ApiEnum.Name(after.Status)));
    }

    [Fact]
    public void only_an_adjudicated_claim_is_replaced_or_voided_and_its_payers_claim_number_must_be_known()
    {
        var story = new ClaimStory();
        var (filed, account) = story.Filed();
        var command = new ReplaceClaim(Guid.NewGuid(), "a correction");
        Rejected(ReplaceClaimEndpoint.Decide(filed, null, account, command, Now), 409);
        Rejected(VoidClaimEndpoint.Decide(filed, new VoidClaim("billed in error"), Now), 409);

        // A paper EOB gave no claim number: the request gives it, or gets a 422 naming it.
        var (paper, paperAccount, _) = Paid(payerClaimNumber: null);
        Assert.Contains("payerClaimNumber", Rejected(ReplaceClaimEndpoint.Decide(paper, null, paperAccount, command, Now), 422).Errors.Keys);
        var given = ReplaceClaimEndpoint.Decide(paper, null, paperAccount, command with { PayerClaimNumber = "EOB-55" }, Now);
        Assert.Equal("EOB-55", given.EventsFor(command.ReplacementId).OfType<ClaimFiled>().Single().ReplacesPayerClaimNumber);
        // The 835 gave one: another is refused.
        var (paid, paidAccount, _) = Paid();
        Assert.Contains("payerClaimNumber", Rejected(VoidClaimEndpoint.Decide(paid, new VoidClaim("billed in error", "ICN-0000"), Now), 422).Errors.Keys);
        // A correction must name a line of the claim.
        Assert.Contains("lines[0].lineNumber",
            Rejected(ReplaceClaimEndpoint.Decide(paid, null, paidAccount, command with { Lines = [new LineCorrection(7, ["59"])] }, Now), 422).Errors.Keys);
    }

    [Fact]
    public void a_void_frees_the_sessions_and_the_same_void_again_is_a_replay()
    {
        var (claim, _, story) = Paid();

        var outcome = VoidClaimEndpoint.Decide(claim, new VoidClaim("wrong patient"), Now);

        var voided = Assert.IsType<ClaimVoided>(Assert.Single(outcome.EventsFor(claim.Id)));
        Assert.Equal(("ICN-7731", "wrong patient"), (voided.PayerClaimNumber, voided.Reason));
        Assert.Equal([story.SessionId], Assert.IsType<SessionsReleasedFromClaim>(Assert.Single(outcome.EventsFor(story.PatientId))).SessionIds);
        var after = claim.Then(voided);
        Assert.IsType<Outcome.Replayed>(VoidClaimEndpoint.Decide(after, new VoidClaim("wrong patient"), Now));
        Rejected(VoidClaimEndpoint.Decide(after, new VoidClaim("another reason"), Now), 409);
    }

    [Fact]
    public void the_payers_reversal_of_a_replaced_claim_posts_and_it_stays_replaced_counting_nothing_in_kpis_or_payer_performance()
    {
        var (claim, account, _) = Paid();
        Assert.Single(KpiProjection.Of(claim, TimeZoneInfo.Utc).Months);
        var replaced = new ClaimReplaced(claim.Id, Guid.NewGuid(), "KB0000000000000001", "correction", Now);
        var after = claim.Then(replaced);

        var reversal = ClaimPosting.Reverse(after, account, "835 T2", Guid.NewGuid(), Now.AddDays(1));

        Assert.Null(reversal.Problem);
        var reversed = after.Then([.. reversal.ClaimEvents]);
        Assert.Equal((ClaimStatus.Replaced, 0m), (reversed.Status, reversed.Paid));
        Assert.Empty(KpiProjection.Of(reversed, TimeZoneInfo.Utc).Months);
        var source = PayerMonthSource.Fold(PayerMonthSource.Fold(null, new ClaimFiled(claim.Id, claim.PatientId, claim.PayerId, claim.CoverageId, claim.ControlNumber,
            claim.Lines, claim.DiagnosisCodes, null, null, [], claim.TotalCharge, claim.FiledAt)), replaced)!;
        Assert.True(source.Share(TimeZoneInfo.Utc).Total.IsZero());
    }

    [Fact]
    public void a_batch_sends_a_voided_claim_as_its_void_once_unless_resubmitted()
    {
        var (claim, _, _) = Paid();
        var voided = claim.Then(new ClaimVoided(claim.Id, "wrong patient", "ICN-7731", Now));
        var claims = new Dictionary<Guid, Claim> { [claim.Id] = voided };
        var first = new ClaimBatch { Id = 1, BatchId = Guid.NewGuid(), ClaimIds = [claim.Id] };

        var batch = Assert.IsType<ClaimBatch>(Assert.IsType<Outcome.Accepted>(
            ExportClaimBatchEndpoint.Decide(null, new ExportClaimBatch([claim.Id], Guid.NewGuid()), claims, [first], "u", Now)).Answer);
        Assert.Equal([claim.Id], batch.Voids);
        batch.Id = 2;
        Rejected(ExportClaimBatchEndpoint.Decide(null, new ExportClaimBatch([claim.Id], Guid.NewGuid()), claims, [first, batch], "u", Now), 409);
        Assert.IsType<Outcome.Accepted>(ExportClaimBatchEndpoint.Decide(null, new ExportClaimBatch([claim.Id], Guid.NewGuid(), true, "lost"), claims, [first, batch], "u", Now));
    }
}
