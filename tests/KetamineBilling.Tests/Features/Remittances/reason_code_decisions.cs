using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Features.Claims;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Remittances;

/// <summary>Posting by the clinic's reason-code table (issue 19), without a host: the story's 450.00 infusion claim answered line by line.</summary>
public class reason_code_decisions
{
    private static readonly DateTimeOffset Now = ClaimStory.Now;

    private static (ClaimAdjudicated Claim, InsurancePaymentPosted Account) Posted(decimal paid, ReasonCodeTable? table, params ClaimAdjustment[] adjustments)
    {
        var (claim, account) = new ClaimStory().Filed();
        var outcome = ClaimPosting.Post(claim, account, "835 T", [new PostingLine(1, 450m, null, paid, adjustments, [])], "ICN-1", null, Now, table);
        Assert.Null(outcome.Problem);
        return (Assert.IsType<ClaimAdjudicated>(Assert.Single(outcome.ClaimEvents)), Assert.IsType<InsurancePaymentPosted>(Assert.Single(outcome.PatientEvents)));
    }

    private static ReasonCodeTable Table(params object[] events) => Given.Aggregate<ReasonCodeTable>(events);

    [Fact]
    public void the_shipped_table_writes_off_contractual_codes_keeps_denial_codes_open_moves_pr_to_the_patient_and_only_records_oa_23()
    {
        Assert.Equal(
            [AdjustmentTreatment.Contractual, AdjustmentTreatment.Denial, AdjustmentTreatment.Patient, AdjustmentTreatment.Patient, AdjustmentTreatment.Informational,
             AdjustmentTreatment.Contractual, AdjustmentTreatment.Denial],
            [ReasonCodes.Default("CO", "45"), ReasonCodes.Default("CO", "197"), ReasonCodes.Default("PR", "2"), ReasonCodes.Default("PR", "197"),
             ReasonCodes.Default("OA", "23"), ReasonCodes.Default("CO", "253"), ReasonCodes.Default("OA", "18")]);

        // Paid 200.00: 100.00 the contract's, 50.00 coinsurance, 100.00 denied for want of an authorization, which stays open with the payer.
        var (claim, account) = Posted(200m, null, new("CO", "45", 100m), new("PR", "2", 50m), new("CO", "197", 100m));
        var line = Assert.Single(account.Lines);
        Assert.Equal((200m, 100m, 50m, true), (line.Paid, line.Contractual, line.PatientResponsibility, line.Denied));
        // Paid in part, denied in part.
        Assert.Equal((ClaimStatus.PartiallyPaid, 50m), (claim.Outcome, claim.PatientResponsibility));
    }

    [Fact]
    public void the_clinics_own_treatment_of_a_code_is_what_posting_follows()
    {
        var table = Table(new ReasonCodeTreatmentSet(ReasonCodeTable.StreamId, "CO", "197", AdjustmentTreatment.Contractual, Now));

        var (_, account) = Posted(200m, table, new("CO", "45", 150m), new("CO", "197", 100m));

        var line = Assert.Single(account.Lines);
        Assert.Equal((250m, false), (line.Contractual, line.Denied));
    }

    [Fact]
    public void a_zero_paid_line_adjusted_in_full_with_co_45_is_a_denial_unless_the_clinic_writes_it_off()
    {
        var denied = Assert.Single(Posted(0m, null, new ClaimAdjustment("CO", "45", 450m)).Account.Lines);
        Assert.Equal((0m, true), (denied.Contractual, denied.Denied));

        var table = Table(new ZeroPaidContractualRuleSet(ReasonCodeTable.StreamId, AdjustmentTreatment.Contractual, Now));
        var written = Assert.Single(Posted(0m, table, new ClaimAdjustment("CO", "45", 450m)).Account.Lines);
        Assert.Equal((450m, false), (written.Contractual, written.Denied));
        // Whatever the rule, CO-45 with a denial code beside it on an unpaid line is a denial.
        Assert.True(Assert.Single(Posted(0m, table, new ClaimAdjustment("CO", "45", 300m), new ClaimAdjustment("CO", "50", 150m)).Account.Lines).Denied);
        // Paid nothing because the whole allowed amount is the deductible: the CO-45 is the contract's and the deductible the patient's.
        var deductible = Assert.Single(Posted(0m, null, new ClaimAdjustment("CO", "45", 150m), new ClaimAdjustment("PR", "1", 300m)).Account.Lines);
        Assert.Equal((150m, 300m, false), (deductible.Contractual, deductible.PatientResponsibility, deductible.Denied));
    }

    [Fact]
    public void setting_a_treatment_is_recorded_once_and_names_a_known_code_in_words()
    {
        var outcome = SetReasonCodeTreatmentEndpoint.Decide(null, "CO-97", new SetReasonCodeTreatment("denial"), Now);

        var row = Assert.IsType<ReasonCodeRow>(Assert.IsType<Outcome.Accepted>(outcome).Answer);
        Assert.Equal((AdjustmentTreatment.Denial, AdjustmentTreatment.Contractual, true), (row.Treatment, row.Default, row.Overridden));
        Assert.StartsWith("The benefit for this service is included", row.Description);
        var table = Table([.. outcome.EventsFor(ReasonCodeTable.StreamId)]);
        Assert.IsType<Outcome.Replayed>(SetReasonCodeTreatmentEndpoint.Decide(table, "CO-97", new SetReasonCodeTreatment("denial"), Now));
        Assert.Single(SetReasonCodeTreatmentEndpoint.Decide(table, "CO-97", new SetReasonCodeTreatment("contractual"), Now).EventsFor(ReasonCodeTable.StreamId));

        Assert.IsType<Outcome.Replayed>(SetZeroPaidContractualRuleEndpoint.Decide(null, new SetZeroPaidContractualRule("denial"), Now));
        Assert.IsType<ZeroPaidContractualRuleSet>(Assert.Single(SetZeroPaidContractualRuleEndpoint.Decide(table, new SetZeroPaidContractualRule("contractual"), Now)
            .EventsFor(ReasonCodeTable.StreamId)));
    }
}
