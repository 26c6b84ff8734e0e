using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Eligibility;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Eligibility;

/// <summary>Series estimates, coverage limits, contracted rates and Spravato's coding checks: the decisions, without a host (issue 20).</summary>
public class estimate_and_coding_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = new(2026, 12, 2);
    private static readonly Guid PatientId = Guid.NewGuid();
    private static readonly Guid CoverageId = Guid.NewGuid();
    private static readonly Payer Commercial = new() { Id = Guid.NewGuid(), Name = "Blue Prairie Health", PayerId = "BPH01", Kind = PayerKind.Commercial };
    private static readonly Payer Medicare = new() { Id = Guid.NewGuid(), Name = "Medicare Part B", PayerId = "MCR01", Kind = PayerKind.Medicare };

    private static FeeSchedule Schedule()
    {
        var projection = new FeeScheduleProjection();
        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        foreach (var (code, price, cash) in new[] { ("96365", 450m, (decimal?)400m), ("J3490", 60m, 50m), ("99214", 225m, null), ("J0013", 14m, null), ("G2082", 850m, null) })
            projection.Apply(new FeePriceSet(FeeSchedule.StreamId, code, code, price, Today.AddYears(-1), Now, cash), schedule);
        return schedule;
    }

    private static PatientAccount Account(Payer payer, params object[] events) => Given.Aggregate<PatientAccount>(
    [
        new PatientRegistered(PatientId, "Marisol", "Quenneville", new DateOnly(1981, 3, 9), null, null, Now.AddDays(-90)),
        new CoverageRecorded(PatientId, CoverageId, payer.Id, "QMX4410021", null, null, CoveragePriority.Primary, null, 20m, 1500m, Today.AddDays(-365), null, Now.AddDays(-90)),
        .. events
    ]);

    private static EligibilityChecked Answered(DateOnly on, decimal deductibleLeft = 600m) => new(PatientId, CoverageId, Guid.NewGuid(), on, null, "271 BPH01/1", null,
        new EligibilitySummary(true, "SILVER PPO 2000", new YearAmount(1500m, deductibleLeft), new YearAmount(4000m, 2900m), 20m, null, "MH", false, false, [], []), null, null, Now);

    /// <summary>A claim the payer paid with the given allowed amount for one 96365 unit.</summary>
    private static Claim Paid(Guid payerId, decimal allowed) => new()
    {
        Id = Guid.NewGuid(), PayerId = payerId,
        Lines = [new ClaimLine(1, Guid.NewGuid(), 1, "96365", [], 1, 450m, Today.AddDays(-30))],
        Adjudications = [new ClaimAdjudicated(Guid.NewGuid(), null, "835 T", ClaimStatus.Paid, [new AdjudicatedLine(1, 450m, allowed, allowed * 0.8m, [], [])], allowed * 0.8m, 0m, null, Now)]
    };

    private static readonly SeriesPlan SixInfusions = new("Six IV ketamine infusions", 6, [new EstimateLineInput("96365", 1), new EstimateLineInput("J3490", 1)], Today.AddDays(1), 3, null);

    private static SeriesEstimate Estimate(PatientAccount account, IReadOnlyList<Claim> claims, Payer payer) =>
        SeriesEstimates.Estimate(account, SixInfusions, Schedule(), id => id == payer.Id ? payer : null, claims, [], [], [], [], Today);

    [Fact]
    public void a_series_under_insurance_spends_the_deductible_then_coinsurance_and_gives_the_range_the_payers_payments_allow()
    {
        var estimate = Estimate(Account(Commercial, Answered(Today.AddDays(-2))), [Paid(Commercial.Id, 300m), Paid(Commercial.Id, 360m), Paid(Commercial.Id, 330m)], Commercial);

        var i = estimate.Insurance!;
        // 96365 allowed 300 to 360 (median 330) in three payments; J3490 never paid: its 60.00 charge stands in.
        Assert.Equal([("observed", 3, new EstimateRange(300m, 330m, 360m)), ("charge", 0, EstimateRange.Exactly(60m))], i.Lines.Select(l => (l.Basis, l.Observations, l.Allowed)));
        // Expected: 390 a session; the first spends 390 of the 600 deductible, the second 210 plus 20% of 180, the other four 20% of 390.
        Assert.Equal(new EstimateRange(912m, 948m, 984m), i.PatientPays);
        Assert.Equal(new EstimateRange(1248m, 1392m, 1536m), i.PlanPays);
        Assert.Equal(("low", 6, 600m), (i.Confidence, i.CoveredSessions, i.DeductibleLeft));
        // Self-pay: the cash prices, 400 + 50 a session.
        Assert.Equal(2700m, estimate.SelfPay.Total);
        Assert.Equal(3060m, estimate.SelfPay.ListTotal);
        Assert.Equal(1350m, estimate.SelfPay.SlidingScale.Single(s => s.Band == "fpg-0-200").Total);
        Assert.Equal(("insurance", 1752m), (estimate.Cheaper, estimate.Difference));
        Assert.Contains("Insurance is cheaper for the patient by about", estimate.Advice);
    }

    [Fact]
    public void a_contracted_rate_comes_first_limits_leave_sessions_to_the_patient_and_a_copay_program_pays_part_of_the_share()
    {
        var payer = new Payer { Id = Commercial.Id, Name = Commercial.Name, PayerId = "BPH01", ContractedRates = new() { ["96365"] = 340m, ["J3490"] = 40m } };
        var account = Account(payer, Answered(Today.AddDays(-2), deductibleLeft: 0m), new CoverageBenefitsSet(PatientId, CoverageId, 4, null, null, Now),
            new CopayAssistanceRecorded(PatientId, Guid.NewGuid(), "Withme", "W1", 100m, Today.AddDays(-30), null, Now));
        var i = Estimate(account, [Paid(Commercial.Id, 300m)], payer).Insurance!;

        Assert.All(i.Lines, l => Assert.Equal("contracted", l.Basis));
        Assert.Equal(("high", 4), (i.Confidence, i.CoveredSessions));
        // Four covered sessions at 20% of 380, two beyond the limit at the 450.00 cash price.
        Assert.Equal(EstimateRange.Exactly(4 * 76m + 2 * 450m), i.PatientPays);
        Assert.Contains(i.Notes, n => n.Contains("4 a year, 0 used"));
        // A Spravato program pays nothing of a ketamine infusion series.
        Assert.Equal((0m, 1204m), (i.CopayProgram, i.PatientAfterProgram.Expected));
        Assert.Contains(i.Notes, n => n.Contains("pays for its drug only"));

        // Of a Spravato series it pays the patient's share of the covered sessions (20% of 784.00 four times), never the cash ones.
        var spravato = SeriesEstimates.Estimate(account, SixInfusions with { Lines = [new EstimateLineInput("J0013", 56)] }, Schedule(), id => id == payer.Id ? payer : null,
            [], [], [], [], [], Today).Insurance!;
        Assert.Equal((4 * 156.80m + 2 * 784m, 100m, 4 * 156.80m + 2 * 784m - 100m), (spravato.PatientPays.Expected, spravato.CopayProgram, spravato.PatientAfterProgram.Expected));
        // Never beside Medicare.
        var medicare = new Payer { Id = Commercial.Id, Name = "Medicare", PayerId = "MCR01", Kind = PayerKind.Medicare };
        Assert.Equal(0m, SeriesEstimates.Estimate(account, SixInfusions with { Lines = [new EstimateLineInput("J0013", 56)] }, Schedule(), _ => medicare, [], [], [], [], [], Today)
            .Insurance!.CopayProgram);
    }

    [Fact]
    public void a_series_into_the_new_year_starts_the_deductible_and_the_session_limit_again_and_a_refusal_since_does_not_replace_the_figures()
    {
        // 2 of 2 sessions a year used in 2026; the answer (deductible spent) is from December.
        var used = Enumerable.Range(0, 2).Select(n => (object)new SessionDelivered(PatientId, Guid.NewGuid(), new DateOnly(2026, 3, 1 + n), 60, "main",
            [new ChargeLine(1, "96365", "infusion", 1, 450m, 450m)], ["F33.2"], 450m, Now.AddDays(-200))).ToList();
        var account = Account(Commercial, [.. used, Answered(new DateOnly(2026, 12, 1), deductibleLeft: 0m), new CoverageBenefitsSet(PatientId, CoverageId, 2, null, null, Now)]);
        foreach (var s in account.Sessions) s.Claims.Add(new SessionClaim(Guid.NewGuid(), Commercial.Id));
        account = account.Then(new EligibilityChecked(PatientId, CoverageId, Guid.NewGuid(), new DateOnly(2026, 12, 2), null, "271 X/2", null,
            new EligibilitySummary(null, null, null, null, null, null, null, null, false, [], ["Unable to respond at current time (42): Resubmission allowed"]), null, null, Now));
        var plan = SixInfusions with { Sessions = 4, FirstOn = new DateOnly(2026, 12, 26), IntervalDays = 7, Lines = [new EstimateLineInput("96365", 1)] };
        var i = SeriesEstimates.Estimate(account, plan, Schedule(), id => id == Commercial.Id ? Commercial : null, [], [], [], [], [], Today).Insurance!;

        // December 26: beyond 2026's limit, cash (400.00). January 2, 9, 16: two covered under the new year's limit, the 1,500.00
        // deductible starting again (450 + 450), the third beyond 2027's limit too.
        Assert.Equal((true, 2), (i.Active, i.CoveredSessions));
        Assert.Equal(400m + 450m + 450m + 400m, i.PatientPays.Expected);
        Assert.Contains(i.Notes, n => n.Contains("did not answer the inquiry"));
        Assert.Contains(i.Notes, n => n.Contains("runs into 2027"));
    }

    [Fact]
    public void a_coinsurance_sent_as_a_whole_percent_is_read_as_one_and_never_above_all_of_it()
    {
        var file = Eligibility271Builder.Build("BPH01", 9, Today, "BLUE PRAIRIE HEALTH", "BPH01",
            new Eligibility271Builder.Member("T", "M1", "A", "B", ["1**30", "A*IND*MH***27**20****Y"]), new Eligibility271Builder.Member("T2", "M2", "C", "D", ["1**30", "A*IND*MH***27**150****Y"]));
        var answers = KetamineBilling.Features.Eligibility.X12.Eligibility271Reader.Read(KetamineBilling.Features.Claims.X12.X12Reader.Read(file));
        Assert.Equal([20m, 100m], answers.Select(a => EligibilitySummary.From(a).Coinsurance!.Value));
    }

    [Fact]
    public void without_an_answer_the_coverages_own_terms_are_used_and_an_inactive_answer_leaves_everything_to_the_patient()
    {
        var unknown = Estimate(Account(Commercial), [], Commercial).Insurance!;
        Assert.Equal(("low", 1500m), (unknown.Confidence, unknown.DeductibleLeft));
        Assert.Contains(unknown.Notes, n => n.Contains("has not answered for this coverage"));

        var inactive = Answered(Today) with { Answer = Answered(Today).Answer with { Active = false } };
        var estimate = Estimate(Account(Commercial, inactive), [], Commercial);
        Assert.Equal((0, 2700m), (estimate.Insurance!.CoveredSessions, estimate.Insurance.PatientPays.Expected));
        Assert.Equal("same", estimate.Cheaper);

        // A package price below the cash total is what paying the clinic directly costs.
        var package = SeriesEstimates.Estimate(Account(Commercial, inactive), SixInfusions with { PackagePrice = 2400m }, Schedule(), id => id == Commercial.Id ? Commercial : null, [], [], [], [], [], Today);
        Assert.Equal((2400m, 2400m, "self-pay", 300m), (package.SelfPay.Package!.Value, package.SelfPay.Best!.Value, package.Cheaper, package.Difference));
        Assert.Contains("the package price", package.Advice);

        var selfPay = SeriesEstimates.Estimate(Given.Aggregate<PatientAccount>([new PatientRegistered(PatientId, "Cash", "Only", new DateOnly(1990, 1, 1), null, null, Now)]),
            SixInfusions, Schedule(), _ => null, [], [], [], [], [], Today);
        Assert.Null(selfPay.Insurance);
        Assert.Null(selfPay.Cheaper);
    }

    [Fact]
    public void limits_and_the_drug_benefit_are_set_on_the_coverage_and_count_what_its_payer_used()
    {
        var account = Account(Commercial);
        var command = new SetCoverageBenefits(20, 5000m, "medical-buy-and-bill");
        var outcome = Assert.IsType<Outcome.Accepted>(SetCoverageBenefitsEndpoint.Decide(account, CoverageId, command, Today, Now));
        Assert.Equal((20, 0, 20, 5000m), Assert.IsType<CoverageBenefits>(outcome.Answer) is var b ? (b.SessionsPerYear!.Value, b.SessionsUsed, b.SessionsLeft!.Value, b.DollarsLeft!.Value) : default);
        account = account.Then([.. outcome.AllEvents]);
        Assert.Equal("medical-buy-and-bill", account.Coverages[0].DrugBenefit);
        Assert.IsType<Outcome.Replayed>(SetCoverageBenefitsEndpoint.Decide(account, CoverageId, command, Today, Now));
        Assert.Equal(404, Assert.IsType<Outcome.Rejected>(SetCoverageBenefitsEndpoint.Decide(account, Guid.NewGuid(), command, Today, Now)).Status);
        // Recording the same coverage again is still a replay: its limits are not part of the recording.
        Assert.IsType<Outcome.Replayed>(RecordCoverageEndpoint.Decide(account,
            new RecordCoverage(CoverageId, Commercial.Id, "QMX4410021", "primary", null, null, null, 20m, 1500m, Today.AddDays(-365)), Commercial, Today, Now));
        // A coverage whose terms were changed takes its limits on the coverage that replaced it.
        var changed = account.Then(new CoverageChanged(PatientId, CoverageId, Guid.NewGuid(), Guid.NewGuid(), Today, "QMX4410021", null, CoveragePriority.Primary, null, 20m,
            1500m, null, Now, "f"));
        Assert.Equal("medical-buy-and-bill", changed.Coverages[1].DrugBenefit);
        Assert.Contains("coverageId", Assert.IsType<Outcome.Rejected>(SetCoverageBenefitsEndpoint.Decide(changed, CoverageId, command with { SessionsPerYear = 10 }, Today, Now)).Errors.Keys);

        var rates = new SetContractedRates([new ContractedRate("96365", 340m)]);
        var payer = new Payer { Id = Guid.NewGuid(), Name = "P", PayerId = "P1" };
        Assert.Equal(340m, Assert.IsType<Payer>(Assert.IsType<Outcome.Accepted>(SetContractedRatesEndpoint.Decide(payer.Id, payer, rates)).Answer).ContractedRates["96365"]);
        Assert.IsType<Outcome.Replayed>(SetContractedRatesEndpoint.Decide(payer.Id, payer, rates));
        Assert.Equal(404, Assert.IsType<Outcome.Rejected>(SetContractedRatesEndpoint.Decide(Guid.NewGuid(), null, rates)).Status);
    }

    private static (PatientAccount Account, AccountSession Session) Spravato(DateOnly on, bool firstVisit, params ChargeLine[] lines)
    {
        List<object> events = [];
        if (!firstVisit) events.Add(new SessionDelivered(PatientId, Guid.NewGuid(), on.AddDays(-30), 120, "main", [new ChargeLine(1, "99214", "visit", 1, 225m, 225m)], ["F33.2"], 225m, Now.AddDays(-30)));
        var id = Guid.NewGuid();
        events.Add(new SessionDelivered(PatientId, id, on, 120, "main", lines, ["F33.2"], lines.Sum(l => l.Amount), Now));
        var account = Account(Commercial, [.. events]);
        return (account, account.Session(id)!);
    }

    private static readonly DrugGiven Kit56 = new("50458002802", 2m, "UN");

    [Fact]
    public void medicare_spravato_sessions_need_the_g_code_with_kx_and_no_drug_line_or_visit_beside_it_for_established_patients()
    {
        var (account, session) = Spravato(Today, firstVisit: false, new ChargeLine(1, "G2082", "esketamine", 1, 850m, 850m, ["KX"]));
        Assert.Empty(SpravatoCoding.Check(account, session, PayerKind.Medicare, null));

        (account, session) = Spravato(Today, firstVisit: true, new ChargeLine(1, "G2082", "esketamine", 1, 850m, 850m), new ChargeLine(2, "J0013", "drug", 84, 14m, 1176m, Drug: new DrugGiven("50458002803", 3m, "UN")),
            new ChargeLine(3, "99415", "prolonged", 1, 180m, 180m));
        var flags = SpravatoCoding.Check(account, session, PayerKind.Medicare, null);
        Assert.Equal(["medicare-kx", "medicare-no-drug-line", "medicare-no-em", "medicare-established", "medicare-dose"], flags.Select(f => f.Rule));
        Assert.All(flags, f => Assert.False(string.IsNullOrWhiteSpace(f.Source)));
        Assert.Contains("use G2083", flags.Single(f => f.Rule == "medicare-dose").Detail);

        (account, session) = Spravato(Today, firstVisit: false, new ChargeLine(1, "99214", "visit", 1, 225m, 225m), new ChargeLine(2, "J0013", "drug", 56, 14m, 784m, Drug: Kit56));
        Assert.Equal(["medicare-g-code"], SpravatoCoding.Check(account, session, PayerKind.Medicare, null).Select(f => f.Rule));
    }

    [Fact]
    public void other_payers_take_the_visit_and_the_drug_code_of_the_date_in_mg_with_its_ndc_and_no_drug_line_through_a_pharmacy()
    {
        var visit = new ChargeLine(1, "99214", "visit", 1, 225m, 225m);
        var (account, session) = Spravato(Today, firstVisit: false, visit, new ChargeLine(2, "J0013", "drug", 56, 14m, 784m, Drug: Kit56));
        Assert.Empty(SpravatoCoding.Check(account, session, PayerKind.Commercial, "medical-buy-and-bill"));
        Assert.Equal(["drug-benefit-unknown"], SpravatoCoding.Check(account, session, PayerKind.Commercial, null).Select(f => f.Rule));
        Assert.Equal(["no-drug-line"], SpravatoCoding.Check(account, session, PayerKind.Commercial, "pharmacy").Select(f => f.Rule));
        Assert.Equal(["no-drug-line"], SpravatoCoding.Check(account, session, PayerKind.Medicaid, "medical-specialty-pharmacy").Select(f => f.Rule));

        // S0013 after 2026, in 50 units, without the kit's NDC; no visit billed.
        (account, session) = Spravato(Today, firstVisit: false, new ChargeLine(1, "S0013", "drug", 50, 14m, 700m));
        Assert.Equal(["drug-code-by-date", "drug-units-mg", "drug-ndc", "visit-code"], SpravatoCoding.Check(account, session, PayerKind.Commercial, "medical-buy-and-bill").Select(f => f.Rule));
        // Before 2026 S0013 was the code; J0013 then is flagged.
        (account, session) = Spravato(new DateOnly(2025, 11, 3), firstVisit: false, visit, new ChargeLine(2, "J0013", "drug", 56, 14m, 784m, Drug: Kit56));
        Assert.Equal(["drug-code-by-date"], SpravatoCoding.Check(account, session, PayerKind.Commercial, "medical-buy-and-bill").Select(f => f.Rule));
        // The Medicare G code sent to a commercial payer; a session without Spravato is never flagged.
        (account, session) = Spravato(Today, firstVisit: false, new ChargeLine(1, "G2082", "esketamine", 1, 850m, 850m, ["KX"]));
        Assert.Equal(["g-code-medicare-only", "visit-code"], SpravatoCoding.Check(account, session, PayerKind.Commercial, null).Select(f => f.Rule));
        (account, session) = Spravato(Today, firstVisit: false, new ChargeLine(1, "96365", "infusion", 1, 450m, 450m));
        Assert.Empty(SpravatoCoding.Check(account, session, PayerKind.Medicare, null));
    }
}
