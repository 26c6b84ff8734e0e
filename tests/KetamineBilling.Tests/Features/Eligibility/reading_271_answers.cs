using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Eligibility;
using KetamineBilling.Features.Eligibility.X12;

namespace KetamineBilling.Tests.Features.Eligibility;

/// <summary>271 eligibility answers read (issue 20): the public 005010X279A1 examples and one built to the guide's benefit layout.</summary>
public class reading_271_answers
{
    /// <summary>LinuxForHealth/x12 src/tests/resources/271_005010X279A1/subscriber.271: active HMO plan, a PCP, copays in and out of network.</summary>
    private const string Subscriber = """
        ISA*03*9876543210*01*9876543210*30*000000005      *30*12345          *131031*1147*^*00501*000000907*1*T*:~
        GS*HB*000000005*54321*20131031*1147*1*X*005010X279A1~
        ST*271*0001*005010X279A1~
        BHT*0022*11*10001234*20131031*1147~
        HL*1**20*1~
        NM1*PR*2*PAYER C*****PI*12345~
        HL*2*1*21*1~
        NM1*1P*1*DOE*JOHN****XX*1467857193~
        PRV*RF*PXC*207Q00000X~
        HL*3*2*22*0~
        TRN*2*930000000000*9800000004~
        NM1*IL*1*DOE*JOHN****MI*00000000001~
        N3*1500 ANYHOO AVENUE*APT 215~
        N4*SAN MATEO*CA*94401~
        DMG*D8*19700101*M~
        DTP*346*D8*20210101~
        EB*1**30**GOLD 123 PLAN~
        EB*L~
        LS*2120~
        NM1*1P*1*DOE*JOHN****XX*1467857193~
        LE*2120~
        EB*1**1^33^35^47^86^88^98^AL^MH^UC~
        EB*B**1^33^35^47^86^88^98^AL^MH^UC*HM*GOLD 123 PLAN*27*10.00*****Y~
        EB*B**1^33^35^47^86^88^98^AL^MH^UC*HM*GOLD 123 PLAN*27*30.00*****N~
        SE*23*0001~
        GE*1*1~
        IEA*1*000000907~
        """;

    [Fact]
    public void the_guides_subscriber_answer_reads_as_an_active_plan_with_copays_in_and_out_of_network()
    {
        var answer = Assert.Single(Eligibility271Reader.Read(X12Reader.Read(Subscriber)));

        Assert.Equal(("PAYER C", "12345", "930000000000", "00000000001", "DOE", false), (answer.PayerName, answer.PayerId, answer.Trace, answer.MemberId, answer.LastName, answer.Dependent));
        Assert.Equal(new DateOnly(2021, 1, 1), answer.PlanBegin);
        Assert.True(answer.Active);
        Assert.Equal(5, answer.Benefits.Count);
        Assert.Equal("GOLD 123 PLAN", answer.Benefits[0].PlanDescription);
        var copays = answer.Benefits.Where(b => b.Code == "B").ToList();
        Assert.Equal([(10.00m, "Y"), (30.00m, "N")], copays.Select(c => (c.Amount!.Value, c.InNetwork!)));
        Assert.Contains("MH", copays[0].ServiceTypes);
        Assert.Equal(("27", "HM"), (copays[0].TimePeriod, copays[0].InsuranceType));
        Assert.Empty(answer.Rejections);
    }

    [Fact]
    public void a_request_refused_for_the_provider_says_why_and_whether_to_send_it_again()
    {
        // LinuxForHealth's subscriber-health-benefit-check-error.271, whose SE02 (4323) does not repeat ST02 (4321): refused as the
        // envelope it is; with its SE corrected it reads as the payer's refusal.
        var published = """
            ISA*03*9876543210*01*9876543210*30*000000005      *30*12345          *131031*1147*^*00501*000000907*1*T*:~
            GS*HB*000000005*54321*20131031*1147*1*X*005010X279A1~
            ST*271*4321*005010X279A1~
            BHT*0022*11*10001234*20060501*1319~
            HL*1**20*1~
            NM1*PR*2*ABC COMPANY*****PI*842610001~
            HL*2*1*21*0~
            NM1*1P*2*BONE AND JOIN CLINIC*****SV*2000035~
            AAA*Y**50*N~
            SE*8*4323~
            GE*1*1~
            IEA*1*000000907~
            """;
        Assert.Throws<X12FormatException>(() => X12Reader.Read(published));

        var answer = Assert.Single(Eligibility271Reader.Read(X12Reader.Read(published.Replace("SE*8*4323~", "SE*8*4321~"))));
        var rejection = Assert.Single(answer.Rejections);
        Assert.Equal(("provider", "50", "Provider ineligible for inquiries", "Resubmission not allowed"), (rejection.Loop, rejection.ReasonCode, rejection.Reason, rejection.FollowUp));
        Assert.Null(answer.Active);
    }

    private static string Built271(params string[] benefitSegments)
    {
        var segments = new[]
        {
            "ST*271*0002*005010X279A1", "BHT*0022*11*R-77*20261201*0900", "HL*1**20*1", "NM1*PR*2*BLUE PRAIRIE HEALTH*****PI*BPH01",
            "HL*2*1*21*1", "NM1*1P*2*LAKESIDE KETAMINE CLINIC*****XX*1543210987", "HL*3*2*22*0", "TRN*2*KB270-0001-1*1543210987",
            "NM1*IL*1*QUENNELL*MARISOL****MI*XJH123456789", "DTP*291*RD8*20260101-20261231"
        }.Concat(benefitSegments).ToArray();
        var body = string.Concat(segments.Select(s => s + "~\n"));
        return "ISA*00*          *00*          *ZZ*BPH01          *ZZ*LAKESIDEKC01   *261201*0900*^*00501*000000031*0*P*:~\n" +
               "GS*HB*BPH01*LAKESIDEKC01*20261201*0900*31*X*005010X279A1~\n" + body + $"SE*{segments.Length + 1}*0002~\nGE*1*31~\nIEA*1*000000031~\n";
    }

    [Fact]
    public void the_summary_takes_the_in_network_individual_amounts_and_the_mental_health_answers_first()
    {
        var answer = Assert.Single(Eligibility271Reader.Read(X12Reader.Read(Built271(
            "EB*1*IND*30*PR*CHOICE PPO", "EB*C*IND*30***23*1500*****Y", "EB*C*IND*30***29*320.5*****Y", "EB*C*IND*30***23*3000*****N",
            "EB*C*FAM*30***23*99999.99*****Y", "EB*G*IND*30***23*6000*****Y", "EB*G*IND*30***24*1900*****Y",
            "EB*A*IND*98*****.3****Y", "EB*A*IND*MH*****.2****Y", "MSG*AFTER DEDUCTIBLE", "EB*B*IND*98***27*40*****Y", "EB*1*IND*MH********Y*Y", "EB*U**88",
            "LS*2120", "NM1*VN*2*OPTUMRX", "LE*2120"))));

        var summary = EligibilitySummary.From(answer);

        Assert.Equal((true, "CHOICE PPO"), (summary.Active, summary.Plan));
        Assert.Equal(new YearAmount(1500m, 320.5m), summary.Deductible);
        // What remains of the out-of-pocket maximum from the year-to-date amount met when the payer sends no remaining amount.
        Assert.Equal(new YearAmount(6000m, 4100m), summary.OutOfPocket);
        Assert.Equal((20m, 40m, "MH", true), (summary.Coinsurance!.Value, summary.Copay!.Value, summary.ServiceType, summary.AuthorizationRequired!.Value));
        Assert.True(summary.PharmacyBenefitElsewhere);
        Assert.Equal(["AFTER DEDUCTIBLE"], summary.Messages);
        Assert.Equal(0.3m * 100m, EligibilitySummary.From(answer, ["98"]).Coinsurance);
    }

    [Fact]
    public void deductible_out_of_pocket_coinsurance_and_authorization_for_mental_health_read_as_the_payer_sends_them()
    {
        // Built to the guide's 2110C layout: calendar-year (23) and remaining (29) amounts, coinsurance as a fraction, EB11 and MSG.
        var file = Built271("EB*1*IND*30*PR*CHOICE PPO", "EB*C*IND*30***23*1500*****Y", "EB*C*IND*30***29*320.5*****Y", "EB*G*IND*30***23*6000*****Y",
            "EB*G*IND*30***29*4100*****Y", "EB*A*IND*MH*****.2****Y", "MSG*AFTER DEDUCTIBLE", "EB*B*IND*98***27*40*****Y",
            "EB*1*IND*MH********Y*Y", "MSG*PRIOR AUTHORIZATION REQUIRED FOR INFUSION THERAPY");

        var answer = Assert.Single(Eligibility271Reader.Read(X12Reader.Read(file)));

        Assert.Equal((new DateOnly(2026, 1, 1), new DateOnly(2026, 12, 31)), (answer.PlanBegin!.Value, answer.PlanEnd!.Value));
        Assert.Equal([(1500m, "23"), (320.5m, "29")], answer.Benefits.Where(b => b.Code == "C").Select(b => (b.Amount!.Value, b.TimePeriod!)));
        Assert.Equal([(6000m, "23"), (4100m, "29")], answer.Benefits.Where(b => b.Code == "G").Select(b => (b.Amount!.Value, b.TimePeriod!)));
        var coinsurance = answer.Benefits.Single(b => b.Code == "A");
        Assert.Equal((0.2m, "AFTER DEDUCTIBLE"), (coinsurance.Percent!.Value, Assert.Single(coinsurance.Messages)));
        var mentalHealth = answer.Benefits.Last();
        Assert.Equal((true, "Y", "PRIOR AUTHORIZATION REQUIRED FOR INFUSION THERAPY"), (mentalHealth.AuthorizationRequired!.Value, mentalHealth.InNetwork!, mentalHealth.Messages.Single()));
        Assert.Equal("KB270-0001-1", answer.Trace);
    }

    [Fact]
    public void a_dependents_answer_is_one_answer_with_the_subscribers_member_id_and_the_subscriber_loop_that_leads_to_it_is_none()
    {
        // The guide's layout for a dependent: 2000C names the subscriber (member id, nothing answered), 2000D the patient with the trace.
        var file = """
            ISA*00*          *00*          *ZZ*BPH01          *ZZ*LAKESIDEKC01   *261201*1200*^*00501*000000321*0*P*:~
            GS*HB*BPH01*LAKESIDEKC01*20261201*1200*321*X*005010X279A1~
            ST*271*0001*005010X279A1~
            BHT*0022*11*10001234*20261201*1200~
            HL*1**20*1~
            NM1*PR*2*BLUE PRAIRIE HEALTH*****PI*BPH01~
            HL*2*1*21*1~
            NM1*1P*2*LAKESIDE KETAMINE CLINIC*****XX*1543210987~
            HL*3*2*22*1~
            NM1*IL*1*MARCHETTI*ROSA****MI*SMA5550001~
            HL*4*3*23*0~
            TRN*2*ABC123-1*9877281234~
            NM1*03*1*MARCHETTI*LUCA~
            INS*N*19~
            DTP*346*D8*20260101~
            EB*1**30**SILVER PPO 2000~
            EB*C*IND*30***29*250*****Y~
            SE*16*0001~
            GE*1*321~
            IEA*1*000000321~
            """;
        var answer = Assert.Single(Eligibility271Reader.Read(X12Reader.Read(file)));
        Assert.Equal((true, "SMA5550001", "MARCHETTI", "LUCA", "ABC123-1", true), (answer.Dependent, answer.MemberId, answer.LastName, answer.FirstName, answer.Trace, answer.Active));
        Assert.Equal(new DateOnly(2026, 12, 1), answer.AnsweredOn);
        Assert.Equal(250m, EligibilitySummary.From(answer).Deductible!.Remaining);
    }
}
