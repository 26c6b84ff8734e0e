using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Features.Claims;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Remittances;

/// <summary>The remittances (posting) area's pure decisions, without a host: given events, when a command, then events or a rejection.</summary>
public class remittances_decisions
{
    private static readonly DateTimeOffset Now = ClaimStory.Now;

    private static T Single<T>(Outcome outcome, object streamId) => Assert.IsType<T>(Assert.Single(outcome.EventsFor(streamId)));

    private static Outcome.Rejected Rejected(Outcome outcome, int status)
    {
        var rejected = Assert.IsType<Outcome.Rejected>(outcome);
        Assert.Equal(status, rejected.Status);
        return rejected;
    }

    private static ClaimPayment835 Payment(string controlNumber, string status = "1", decimal paid = 240m) => status == "22"
        ? new ClaimPayment835(controlNumber, "22", -450m, -paid, -60m, "PCN1", [],
            [new ServiceLine835("96365", [], -450m, -paid, 1, ClaimStory.Served, null, null, [new Adjustment835("CO", "45", -150m), new Adjustment835("PR", "2", -60m)], [], "")], "")
        : new ClaimPayment835(controlNumber, status, 450m, paid, 60m, "PCN1", [],
            [new ServiceLine835("96365", [], 450m, paid, 1, ClaimStory.Served, null, 300m, [new Adjustment835("CO", "45", 150m), new Adjustment835("PR", "2", 60m)], [], "")], "");

    private static Remittance WithUnmatched(Guid itemId, ClaimPayment835 payment) => Given.Aggregate<Remittance>(new RemittanceReceived(
        Guid.NewGuid(), "BLUE PRAIRIE HEALTH", "BPH01", null, "TRACE-1", "ACH", payment.Paid, ClaimStory.Served.AddDays(10), "hash",
        [], [new UnmatchedItem(itemId, payment.ControlNumber, payment.Status, payment.Charge, payment.Paid, "no claim has the patient control number", payment)], [],
        Now.AddDays(-1)));

    [Fact]
    public void a_paper_eob_posts_the_payment_to_the_claim_and_the_patients_account_by_the_posting_rules()
    {
        var story = new ClaimStory();
        var (claim, account) = story.Filed();
        var command = new PostEob(Guid.NewGuid(), "PCN-9", [new EobLine(1, 300m, 240m, [new EobAdjustment("CO", "45", 150m), new EobAdjustment("PR", "2", 60m)], null)]);

        var outcome = PostEobEndpoint.Decide(claim, account, command, Now);

        var adjudicated = Single<ClaimAdjudicated>(outcome, claim.Id);
        Assert.Equal((ClaimStatus.Paid, 240m, 60m, $"eob:{command.EobId:N}", "PCN-9"),
            (adjudicated.Outcome, adjudicated.Paid, adjudicated.PatientResponsibility, adjudicated.Source, adjudicated.PayerClaimNumber));
        var posted = Single<InsurancePaymentPosted>(outcome, story.PatientId);
        var line = Assert.Single(posted.Lines);
        Assert.Equal((240m, 150m, 60m, 450m, false), (line.Paid, line.Contractual, line.PatientResponsibility, line.InsuranceReduced, line.Denied));
        Assert.Equal("paid", Assert.IsType<ClaimView>(Assert.IsType<Outcome.Accepted>(outcome).Answer).Status);

        var replay = Assert.IsType<Outcome.Replayed>(PostEobEndpoint.Decide(claim.Then(adjudicated), account.Then(posted), command, Now));
        Assert.Equal(240m, Assert.IsType<ClaimView>(replay.Answer).Paid);
    }

    [Fact]
    public void an_eob_for_a_line_the_claim_does_not_have_or_that_does_not_add_up_is_unprocessable()
    {
        var (claim, account) = new ClaimStory().Filed();

        var noLine = Rejected(PostEobEndpoint.Decide(claim, account, new PostEob(Guid.NewGuid(), null, [new EobLine(2, null, 10m, [], null)]), Now), 422);
        var short_ = Rejected(PostEobEndpoint.Decide(claim, account, new PostEob(Guid.NewGuid(), null, [new EobLine(1, null, 10m, [new EobAdjustment("CO", "45", 1m)], null)]), Now), 422);

        Assert.Equal(["claim has no line 2"], noLine.Errors["lines"]);
        Assert.Equal(["line 1: charge $450.00 less paid $10.00 is not the $1.00 of its adjustments"], short_.Errors["lines"]);
    }

    [Fact]
    public void matching_an_unmatched_item_posts_it_to_the_named_claim_and_marks_it_matched()
    {
        var story = new ClaimStory();
        var (claim, account) = story.Filed();
        var itemId = Guid.NewGuid();
        var remittance = WithUnmatched(itemId, Payment("WRONG42"));

        var outcome = MatchRemittanceItemEndpoint.Decide(remittance, new MatchRemittanceItem(itemId, claim.Id), claim, account, Now);

        var matched = Single<RemittanceItemMatched>(outcome, remittance.Id);
        Assert.Equal((itemId, claim.Id, 240m, 1), (matched.ItemId, matched.Posted.ClaimId, matched.Posted.Paid, matched.Posted.Lines));
        var adjudicated = Single<ClaimAdjudicated>(outcome, claim.Id);
        Assert.Equal((remittance.Id, $"835:{remittance.Id:N}:{itemId:N}"), (adjudicated.RemittanceId!.Value, adjudicated.Source));
        Assert.Equal(240m, Single<InsurancePaymentPosted>(outcome, story.PatientId).Paid);

        Assert.Equal(404, Rejected(MatchRemittanceItemEndpoint.Decide(remittance, new MatchRemittanceItem(Guid.NewGuid(), claim.Id), claim, account, Now), 404).Status);
        Assert.Equal(["the claim does not exist"],
            Rejected(MatchRemittanceItemEndpoint.Decide(remittance, new MatchRemittanceItem(itemId, Guid.NewGuid()), null, null, Now), 422).Errors["claimId"]);
    }

    [Fact]
    public void a_reversal_undoes_the_last_posting_on_the_claim_and_the_account()
    {
        var story = new ClaimStory();
        var (claim, account) = story.Filed();
        var itemId = Guid.NewGuid();
        var posted = MatchRemittanceItemEndpoint.Decide(WithUnmatched(itemId, Payment("X1")), new MatchRemittanceItem(itemId, claim.Id), claim, account, Now);
        claim.Then([.. posted.EventsFor(claim.Id)]);
        account.Then([.. posted.EventsFor(story.PatientId)]);
        var reversalId = Guid.NewGuid();

        var outcome = MatchRemittanceItemEndpoint.Decide(WithUnmatched(reversalId, Payment("X1", "22")), new MatchRemittanceItem(reversalId, claim.Id), claim, account, Now);

        Assert.IsType<ClaimAdjudicationReversed>(Assert.Single(outcome.EventsFor(claim.Id)));
        var reversed = Single<InsurancePaymentReversed>(outcome, story.PatientId);
        Assert.Equal((240m, Single<ClaimAdjudicated>(posted, claim.Id).Source), (reversed.Paid, reversed.ReversedSource));
    }

    private static Remittance835 File(string trace, decimal payment, params ClaimPayment835[] claims) =>
        new("BLUE PRAIRIE HEALTH", "BPH01", trace, null, "ACH", payment, ClaimStory.Served.AddDays(10), claims, []);

    private static ImportRemittance Import(bool acceptUnbalanced, params (Remittance835 File, string Hash)[] files) =>
        new(files.Select(f => new ReadRemittance(ImportRemittanceEndpoint.RemittanceId(f.File), f.File, f.Hash)).ToList(), acceptUnbalanced, "user-1", "b@example.com");

    [Fact]
    public void an_import_that_balances_is_planned_as_read_and_one_that_does_not_only_when_billing_accepts_it()
    {
        var balanced = File("T-1", 240m, Payment("KB1"));
        var unbalanced = File("T-2", 100m, Payment("KB2"));

        var plan = Assert.IsType<RemittanceImportPlan>(Assert.IsType<Outcome.Accepted>(
            ImportRemittanceEndpoint.Decide(new Dictionary<Guid, Remittance>(), Import(false, (balanced, "h1")), Now)).Answer);
        Assert.Empty(plan.Unbalanced);

        var refused = Rejected(ImportRemittanceEndpoint.Decide(new Dictionary<Guid, Remittance>(), Import(false, (balanced, "h1"), (unbalanced, "h2")), Now), 400);
        Assert.StartsWith("of trace T-2 is $100.00; the claim payments (sum of CLP04) $240.00", Assert.Single(refused.Errors["BPR02"]));

        var accepted = Assert.IsType<RemittanceImportPlan>(Assert.IsType<Outcome.Accepted>(
            ImportRemittanceEndpoint.Decide(new Dictionary<Guid, Remittance>(), Import(true, (balanced, "h1"), (unbalanced, "h2")), Now)).Answer);
        var acceptance = accepted.Unbalanced[ImportRemittanceEndpoint.RemittanceId(unbalanced)];
        Assert.Equal(("user-1", 100m, 240m, Now), (acceptance.AcceptedBy, acceptance.PaymentAmount, acceptance.Balanced, acceptance.AcceptedAt));
    }

    [Fact]
    public void a_trace_twice_in_the_file_is_invalid_and_a_trace_sent_before_with_other_content_a_conflict()
    {
        var file = File("T-3", 240m, Payment("KB3"));
        var id = ImportRemittanceEndpoint.RemittanceId(file);
        var recorded = new Dictionary<Guid, Remittance> { [id] = new() { Id = id, ContentHash = "old", Posting = false } };

        var twice = Rejected(ImportRemittanceEndpoint.Decide(new Dictionary<Guid, Remittance>(), Import(false, (file, "h"), (file, "h")), Now), 400);
        var conflict = Rejected(ImportRemittanceEndpoint.Decide(recorded, Import(false, (file, "new")), Now), 409);
        var again = ImportRemittanceEndpoint.Decide(recorded, Import(false, (file, "old")), Now);

        Assert.Equal(["holds trace T-3 twice: send each check (TRN) once"], twice.Errors["file"]);
        Assert.Equal("trace T-3 from BLUE PRAIRIE HEALTH was already posted with other content", conflict.Detail);
        Assert.IsType<Outcome.Accepted>(again);
    }

    private static RecordRemittance Result(Guid id, Guid? payerId) =>
        new(id, "BLUE PRAIRIE HEALTH", "BPH01", payerId, "T-4", "ACH", 240m, ClaimStory.Served, "h", [new PostedClaim(Guid.NewGuid(), "KB4", "1", 240m, 1)], [], []);

    [Fact]
    public void a_traces_result_is_recorded_on_the_stream_its_posting_started_or_as_a_new_stream_and_once()
    {
        var id = Guid.NewGuid();
        var payerId = Guid.NewGuid();
        var acceptance = new UnbalancedAcceptance("user-1", null, 240m, 240m, 0m, Now);
        var started = Given.Aggregate<Remittance>(new RemittancePostingStarted(id, "BLUE PRAIRIE HEALTH", "BPH01", payerId, "T-4", "ACH", 240m, ClaimStory.Served,
            "h", 1, Now, acceptance));

        var onStarted = RecordRemittanceHandler.Decide(started, Result(id, null), Now);
        var received = Single<RemittanceReceived>(onStarted, id);
        Assert.Equal((payerId, acceptance, 240m), (received.PayerId, received.AcceptedUnbalanced, received.Posted.Sum(p => p.Paid)));
        Assert.Null(Assert.IsType<Outcome.Accepted>(onStarted).Streams.Single().StartAs);

        var fresh = RecordRemittanceHandler.Decide(null, Result(id, payerId), Now);
        Assert.Equal(typeof(Remittance), Assert.IsType<Outcome.Accepted>(fresh).Streams.Single().StartAs);
        Assert.Equal((payerId, (UnbalancedAcceptance?)null), (Single<RemittanceReceived>(fresh, id).PayerId, Single<RemittanceReceived>(fresh, id).AcceptedUnbalanced));

        var replay = Assert.IsType<Outcome.Replayed>(RecordRemittanceHandler.Decide(started.Then(received), Result(id, null), Now));
        Assert.Same(started, replay.Answer);
    }
}
