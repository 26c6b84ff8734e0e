using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Features.Claims;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Remittances;

/// <summary>
/// Payer overpayments, refunds to payers, provider-level adjustments and secondary claims: the decisions, without a host
/// (issue 19, ADR 0021).
/// </summary>
public class overpayment_and_provider_adjustment_decisions
{
    private static readonly DateTimeOffset Now = ClaimStory.Now;
    private static readonly DateOnly Today = DateOnly.FromDateTime(Now.UtcDateTime);

    /// <summary>The story's claim paid 360.00 (CO-45 90.00), then paid again on another check: 360.00 of insurance credit.</summary>
    private static (Claim Claim, PatientAccount Account, ClaimStory Story) Overpaid()
    {
        var story = new ClaimStory();
        var (claim, account) = story.Filed();
        foreach (var source in new[] { "835 T1", "835 T2" })
        {
            var outcome = ClaimPosting.Post(claim, account, source, [new PostingLine(1, 450m, 360m, 360m, [new ClaimAdjustment("CO", "45", 90m)], [])],
                "ICN-1", Guid.NewGuid(), Now.AddDays(-5), overpayments: true);
            Assert.Null(outcome.Problem);
            (claim, account) = (claim.Then([.. outcome.ClaimEvents]), account.Then([.. outcome.PatientEvents]));
        }

        return (claim, account, story);
    }

    private static Outcome.Rejected Rejected(Outcome outcome, int status)
    {
        var rejected = Assert.IsType<Outcome.Rejected>(outcome);
        Assert.Equal(status, rejected.Status);
        return rejected;
    }

    [Fact]
    public void a_payment_on_a_settled_line_is_insurance_credit_and_a_refund_clears_at_most_what_is_open()
    {
        var (claim, account, story) = Overpaid();
        Assert.Equal((360m, 360m, 90m), (account.InsuranceCreditOn(claim.Id), account.TotalInsurancePaid, account.TotalAdjusted));
        // A paper EOB paying the settled line again is refused: typed in twice is likelier than paid twice.
        Assert.Contains("more than the $0.00 open with insurance", ClaimPosting.Post(claim, account, "eob:again",
            [new PostingLine(1, 450m, 360m, 360m, [new ClaimAdjustment("CO", "45", 90m)], [])], null, null, Now).Problem);
        Assert.Equal(360m, Assert.Single(account.InsuranceOverpayments).Amount);

        var refund = new RefundPayer(Guid.NewGuid(), 150m, " 1044 ", Today.AddDays(-1));
        var outcome = RefundPayerEndpoint.Decide(claim, account, refund, Today, Now);
        var cleared = Assert.IsType<InsuranceOverpaymentCleared>(Assert.Single(outcome.EventsFor(story.PatientId)));
        Assert.Equal(("refund", "1044", 150m, Today.AddDays(-1)), (cleared.How, cleared.Reference, cleared.Amount, cleared.ClearedOn));
        Assert.Equal(210m, Assert.IsType<PayerCredit>(Assert.IsType<Outcome.Accepted>(outcome).Answer).Open);

        var after = Snapshot.Copy(account).Then(cleared);
        Assert.IsType<Outcome.Replayed>(RefundPayerEndpoint.Decide(claim, after, refund, Today, Now));
        Rejected(RefundPayerEndpoint.Decide(claim, after, refund with { Amount = 151m }, Today, Now), 409);
        Assert.Contains("more than the $210.00", Rejected(RefundPayerEndpoint.Decide(claim, after, refund with { RefundId = Guid.NewGuid(), Amount = 210.01m }, Today, Now), 422).Errors["amount"][0]);
        Assert.Contains("refundedOn", Rejected(RefundPayerEndpoint.Decide(claim, after, refund with { RefundId = Guid.NewGuid(), RefundedOn = Today.AddDays(1) }, Today, Now), 422).Errors.Keys);
        // The payer reverses the duplicate payment (all 360.00 it paid): the credit it left goes with it.
        var reversal = new ClaimPayment835(claim.ControlNumber, "22", -450m, -360m, 0m, "ICN-1", [], [], "");
        var reversed = ClaimPosting.PostPayment(claim, account, reversal, "835 T3", Guid.NewGuid(), Now);
        Assert.Null(reversed.Problem);
        var back = Assert.IsType<InsuranceOverpaymentCleared>(reversed.PatientEvents.Last());
        Assert.Equal(("reversal", 360m, -360m), (back.How, back.Amount, reversed.Paid));
        Assert.Contains("the last posting paid $360.00",
            ClaimPosting.PostPayment(claim, account, reversal with { Paid = -300m }, "835 T4", Guid.NewGuid(), Now).Problem);
        // After a check refunded part of it, the reversal would return that part twice: refused with the reason.
        Assert.Contains("part of it was already refunded or recovered", ClaimPosting.PostPayment(claim, after, reversal, "835 T5", Guid.NewGuid(), Now).Problem);

        var (plain, plainAccount) = new ClaimStory().Filed();
        Assert.Contains("holds no insurance credit", Rejected(RefundPayerEndpoint.Decide(plain, plainAccount, refund, Today, Now), 422).Errors["amount"][0]);
        Assert.Contains("checkNumber", ((Microsoft.AspNetCore.Http.HttpValidationProblemDetails)RefundPayerEndpoint.Validate(refund with { CheckNumber = " " })).Errors.Keys);
    }

    private static Remittance835 WithPlb(params ProviderAdjustment835[] plb) => new("BLUE PRAIRIE HEALTH", "BPH01", "TR-9", null, "ACH", 0m, Today, [], plb);

    private static Remittance Carried(string trace, decimal amount, DateTimeOffset at)
    {
        var id = Guid.NewGuid();
        var remittance = new Remittance { Id = id, TraceNumber = trace, PayerIdentifier = "BPH01", ReceivedAt = at };
        remittance.Apply(new ProviderAdjustmentsPosted(id, "BLUE PRAIRIE HEALTH", [new PostedProviderAdjustment(0, "FB", trace, -amount, ProviderAdjustmentPosting.ForwardBalance, null, 0m, "")],
            Today, at));
        return remittance;
    }

    [Fact]
    public void each_plb_code_posts_by_its_treatment_interest_balances_forward_recoveries_and_the_rest()
    {
        var (claim, account, story) = Overpaid();
        var older = Carried("TR-1", 40m, Now.AddDays(-20));
        var named = Carried("TR-2", 30m, Now.AddDays(-10));
        var id = Guid.NewGuid();
        var remittance = WithPlb(new("1543210987", "L6", null, -7.25m), new("1543210987", "WO", claim.ControlNumber, 400m), new("1543210987", "FB", "TR-2", 50m),
            new("1543210987", "FB", "TR-9", -20m), new("1543210987", "J1", "X1", 5m), new("1543210987", "WO", "NOPE", 10m));

        var outcome = ProviderAdjustmentPosting.Decide(id, remittance, new Dictionary<string, (Claim, PatientAccount)> { [claim.ControlNumber] = (claim, account) },
            [older, named], Today, Now)!;

        var posted = Assert.IsType<ProviderAdjustmentsPosted>(Assert.Single(outcome.EventsFor(id)));
        Assert.Equal(["interest", "overpayment-recovery", "forward-balance", "forward-balance", "other", "overpayment-recovery"], posted.Items.Select(i => i.Treatment));
        // The recovery clears the claim's 360.00 of credit; 40.00 finds none.
        var cleared = Assert.IsType<InsuranceOverpaymentCleared>(Assert.Single(outcome.EventsFor(story.PatientId)));
        Assert.Equal(("recovery", 360m, "835 TR-9"), (cleared.How, cleared.Amount, cleared.Reference));
        Assert.Equal((360m, claim.Id), (posted.Items[1].Applied, posted.Items[1].ClaimId));
        // The FB taken back offsets the balance its reference names first (30.00), then the oldest (20.00 of 40.00).
        Assert.Equal(30m, Assert.IsType<ForwardBalanceOffset>(Assert.Single(outcome.EventsFor(named.Id))).Amount);
        Assert.Equal(20m, Assert.IsType<ForwardBalanceOffset>(Assert.Single(outcome.EventsFor(older.Id))).Amount);
        Assert.Equal("Balance carried forward: the clinic owes $20.00 to BLUE PRAIRIE HEALTH until a later payment takes it back", posted.Items[3].Detail);
        Assert.Equal("J1 (nonreimbursable): $5.00 recorded", posted.Items[4].Detail);
        Assert.StartsWith("Recovery of $10.00: no claim with insurance credit", posted.Items[5].Detail);

        // The journal entry balances: undeposited funds against interest and payer balances (the recovery's applied part is the account's).
        var entry = KetamineBilling.Features.GeneralLedger.JournalProjection.ProviderAdjustments(posted)!;
        Assert.Equal(entry.Debits, entry.Credits);
        Assert.Equal(7.25m, entry.Lines.Single(l => l.Account == KetamineBilling.Features.GeneralLedger.GlAccount.InterestIncome).Credit);
        // Payer balances: 40.00 recovered without a credit + 50.00 taken back + 5.00 J1 + 10.00 unknown recovery - 20.00 carried.
        Assert.Equal(85m, entry.Lines.Single(l => l.Account == KetamineBilling.Features.GeneralLedger.GlAccount.PayerBalances).Debit);
        Assert.Null(ProviderAdjustmentPosting.Decide(id, WithPlb(), new Dictionary<string, (Claim, PatientAccount)>(), [], Today, Now));
    }

    [Fact]
    public void a_secondary_claim_is_prepared_once_and_not_after_a_crossover_or_beyond_an_annual_maximum()
    {
        var story = new ClaimStory();
        var secondaryPayer = Guid.NewGuid();
        var (claim, account) = story.Filed();
        account = account.Then(new CoverageRecorded(story.PatientId, Guid.NewGuid(), secondaryPayer, "S-1", null, null, CoveragePriority.Secondary, null, null, null,
            new DateOnly(2026, 1, 1), null, Now.AddDays(-30), AnnualMaximum: 500m));
        var posting = ClaimPosting.Post(claim, account, "835 T1",
            [new PostingLine(1, 450m, 360m, 288m, [new ClaimAdjustment("CO", "45", 90m), new ClaimAdjustment("PR", "2", 72m)], [])], "ICN-1", Guid.NewGuid(), Now);
        var (paid, paidAccount) = (claim.Then([.. posting.ClaimEvents]), account.Then([.. posting.PatientEvents]));

        var prepared = SecondaryClaims.Prepare(paid, paidAccount, Now)!;
        var filed = Assert.IsType<ClaimFiled>(Assert.Single(prepared.EventsFor(SecondaryClaims.IdOf(claim.Id))));
        Assert.Equal((secondaryPayer, 288m, 72m), (filed.PayerId, filed.PriorPayer!.Paid, filed.PriorPayer.PatientResponsibility));
        Assert.Equal([new ClaimAdjustment("CO", "45", 90m), new ClaimAdjustment("PR", "2", 72m)], filed.PriorPayer.Lines.Single().Adjustments);
        var claimed = Assert.IsType<SessionsClaimed>(Assert.Single(prepared.EventsFor(story.PatientId)));
        Assert.Equal(72m, Assert.Single(claimed.Moves).Amount);
        var after = Snapshot.Copy(paid).Then([.. prepared.EventsFor(claim.Id)]);
        Assert.Null(SecondaryClaims.Prepare(after, Snapshot.Copy(paidAccount).Then(claimed), Now));
        // The primary's reversal waits while the secondary claim holds the patient's share.
        Assert.Contains("is on its secondary claim", ClaimPosting.PostPayment(after, Snapshot.Copy(paidAccount).Then(claimed),
            new ClaimPayment835(claim.ControlNumber, "22", -450m, -288m, -72m, "ICN-1", [], [], ""), "835 T9", Guid.NewGuid(), Now).Problem);

        // Forwarded by the primary (crossover): said once, nothing filed.
        var forwarded = Snapshot.Copy(paid).Then(paid.Adjudications[^1] with { Source = "835 T2", ForwardedTo = "LAKE COUNTY MUTUAL" });
        var noted = Assert.IsType<SecondaryClaimNotPrepared>(Assert.Single(SecondaryClaims.Prepare(forwarded, paidAccount, Now)!.AllEvents));
        Assert.Contains("forwarded the claim to LAKE COUNTY MUTUAL", noted.Reason);
        Assert.Empty(SecondaryClaims.Prepare(forwarded.Then(noted), paidAccount, Now)!.AllEvents);

        // The secondary's annual maximum is used by what it paid on the year's sessions.
        var used = Snapshot.Copy(paidAccount).Then(new InsurancePaymentPosted(story.PatientId, Guid.NewGuid(), secondaryPayer, "835 S", [new InsuranceLinePosting(story.SessionId, 1, 500m, 0m, 0m, 0m, false)],
            500m, Now));
        Assert.Contains("annual maximum of $500.00 for 2026 is used", Assert.IsType<SecondaryClaimNotPrepared>(Assert.Single(SecondaryClaims.Prepare(paid, used, Now)!.AllEvents)).Reason);
    }
}
