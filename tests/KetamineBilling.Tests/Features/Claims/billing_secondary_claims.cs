using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>
/// Coordination of benefits (issue 19, ADR 0021): the primary's 835 leaving patient responsibility prepares the secondary
/// claim, whose 837 carries the primary's decision (2320, 2330A/B, 2430) in the X12 guide's loop order; the secondary's 835
/// moves the rest; a claim the primary forwarded is not sent again; a copay-assistance program's annual maximum is kept.
/// </summary>
public class billing_secondary_claims(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private Guid _patient;
    private Guid _primary;
    private readonly List<Guid> _sessions = [];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        _patient = await Fixture.RegisteredPatient("Marisol", "Quennell", new DateOnly(1975, 9, 30));
        _primary = await Fixture.Payer();
        await Fixture.Coverage(_patient, _primary);
        for (var i = 0; i < 3; i++)
        {
            // Three sessions in the same calendar year, the newest yesterday.
            _sessions.Add((await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(_patient,
                Scenarios.Session(deliveredOn: Today.AddDays(-2 + i)) with { Funding = ["insurance"] }))).SessionId);
        }
    }

    private async Task<Guid> SecondaryCoverage(string name, string x12Id, string kind)
    {
        var payer = await Fixture.Payer(name, x12Id, kind);
        await Fixture.Post<CoverageRecorded>($"/api/patients/{_patient}/coverages",
            new RecordCoverage(null, payer, "SEC-55821", "secondary", ActiveFrom: Scenarios.ClinicToday.AddDays(-365)));
        return payer;
    }

    private Task<RemittanceUpload> Post835(string file) => Fixture.PostedRemittance(file);

    private async Task<string> Export(Guid claimId)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new ExportClaimBatch([claimId], Guid.NewGuid())).ToUrl("/api/claim-batches");
            s.StatusCodeShouldBeOk();
        });
        return await result.ReadAsTextAsync();
    }

    /// <summary>The primary pays 300.00 of 450.00: 70.00 the contract's (CO-45), 80.00 coinsurance for the patient (PR-2).</summary>
    private async Task<ClaimView> PrimaryPaid(int session, string trace, string status = "1", string? crossover = null)
    {
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _primary, [_sessions[session]]));
        var file = Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 300m, Today,
        [
            new Clp(claim.ControlNumber, status, 450m, 300m, 80m, new Svc("96365", 450m, 300m, Today.AddDays(-2 + session), $"{claim.ControlNumber}-1", ("CO", "45", 70m), ("PR", "2", 80m)))
            {
                Crossover = crossover
            }
        ]);
        Assert.Equal(1, (await Post835(file)).ClaimsPosted);
        return await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}");
    }

    [Fact]
    public async Task the_primarys_835_prepares_the_secondary_claim_whose_837_carries_the_primarys_decision_and_the_secondarys_835_pays_the_rest()
    {
        var secondaryPayer = await SecondaryCoverage("LAKE COUNTY MUTUAL", "LCM22", "commercial");

        var primary = await PrimaryPaid(0, "TRC-COB-1");

        Assert.Equal("paid", primary.Status);
        Assert.Equal(SecondaryClaims.IdOf(primary.Id), primary.SecondaryClaimId);
        var secondary = await Fixture.Get<ClaimView>($"/api/claims/{primary.SecondaryClaimId}");
        Assert.Equal(("filed", secondaryPayer, 450m), (secondary.Status, secondary.PayerId, secondary.TotalCharge));
        Assert.Equal((primary.Id, 300m, 80m, primary.PayerClaimNumber), (secondary.PriorPayer!.ClaimId, secondary.PriorPayer.Paid, secondary.PriorPayer.PatientResponsibility,
            secondary.PriorPayer.PayerClaimNumber));
        // What the primary left the patient is the secondary's to answer for until it does.
        var line = (await Fixture.BalanceOf(_patient)).Sessions.Single(s => s.SessionId == _sessions[0]).Lines.Single();
        Assert.Equal((300m, 70m, 0m, 80m), (line.InsurancePaid, line.Adjusted, line.PatientDue, line.InsurancePending));

        var file = await Export(secondary.Id);
        var read = await ThirdPartyX12Reader.ReadAsync(file);
        Assert.True(read.Ok, read.Error);
        var segments = Assert.Single(read.Transactions!).Segments.Select(s => $"{s.Tag}*{string.Join('*', s.Elements)}".TrimEnd('*')).ToList();
        Assert.Contains(segments, s => s.StartsWith("SBR*S*18"));
        Assert.Contains("SBR*P*18*GRP-7781******CI", segments);
        Assert.Contains("AMT*D*300", segments);
        Assert.Contains("AMT*EAF*80", segments);
        Assert.Contains("OI***Y***Y", segments);
        Assert.Contains("NM1*IL*1*QUENNELL*MARISOL****MI*XJH123456789", segments);
        Assert.Contains("NM1*PR*2*BLUE PRAIRIE HEALTH*****PI*BPH01", segments);
        Assert.Contains($"REF*F8*{primary.PayerClaimNumber}", segments);
        Assert.Contains("SVD*BPH01*300*HC:96365**1", segments);
        Assert.Contains("CAS*CO*45*70", segments);
        Assert.Contains("CAS*PR*2*80", segments);
        // The day the primary answered: its 835's check date (BPR16).
        Assert.Contains($"DTP*573*D8*{Today:yyyyMMdd}", segments);
        Assert.Contains($"NM1*PR*2*LAKE COUNTY MUTUAL*****PI*LCM22", segments);

        // The secondary pays the 80.00; the primary's part is the prior payer's impact (OA-23), which moves nothing.
        await Post835(Build("TRC-COB-2", "LAKE COUNTY MUTUAL", "LCM22", 80m, Today,
            [new Clp(secondary.ControlNumber, "2", 450m, 80m, 0m, new Svc("96365", 450m, 80m, Today.AddDays(-2), $"{secondary.ControlNumber}-1", ("OA", "23", 370m)))]));
        Assert.Equal("paid", (await Fixture.Get<ClaimView>($"/api/claims/{secondary.Id}")).Status);
        line = (await Fixture.BalanceOf(_patient)).Sessions.Single(s => s.SessionId == _sessions[0]).Lines.Single();
        Assert.Equal((380m, 70m, 0m, 0m, 0m), (line.InsurancePaid, line.Adjusted, line.PatientDue, line.InsurancePending, line.Open));
        // The secondary claim is a secondary: its own answer prepares nothing more.
        Assert.Null((await Fixture.Get<ClaimView>($"/api/claims/{secondary.Id}")).SecondaryClaimId);
    }

    [Fact]
    public async Task the_secondary_837_follows_the_loop_order_of_the_x12_guides_coordination_of_benefits_example()
    {
        await SecondaryCoverage("LAKE COUNTY MUTUAL", "LCM22", "commercial");
        var primary = await PrimaryPaid(0, "TRC-COB-3");
        var sample = await System.IO.File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Features", "Claims", "Samples", "x222a2-example-cob-secondary.837"),
            TestContext.Current.CancellationToken);
        var published = await ThirdPartyX12Reader.ReadAsync(sample);
        Assert.True(published.Ok, published.Error);
        var ours = await ThirdPartyX12Reader.ReadAsync(await Export(primary.SecondaryClaimId!.Value));
        Assert.True(ours.Ok, ours.Error);

        // From the secondary payer's subscriber (2000B) on: each loop and its key segments in the same order, once per
        // claim and per line (the example's three lines are one here; its service facility and patient loops are not ours).
        static string[] Skeleton(IEnumerable<ThirdPartyX12Reader.Segment> segments)
        {
            var keys = new List<string>();
            var inClaim = false;
            foreach (var s in segments)
            {
                if (s.Tag == "CLM") inClaim = true;
                var key = s.Tag switch
                {
                    "SBR" => $"SBR:{s.Elements[0]}",
                    "NM1" when s.Elements[0] is "IL" or "PR" => $"NM1:{s.Elements[0]}{(inClaim ? ":2330" : "")}",
                    "AMT" => $"AMT:{s.Elements[0]}",
                    "DTP" => $"DTP:{s.Elements[0]}",
                    "CLM" or "OI" or "LX" or "SV1" or "SVD" => s.Tag,
                    _ => null
                };
                if (key is not null && (keys.Count == 0 || keys[^1] != key)) keys.Add(key);
                if (s.Tag == "LX" && keys.Count(k => k == "LX") > 1) break;
            }

            var lx = keys.IndexOf("LX");
            var second = keys.FindIndex(lx + 1, k => k == "LX");
            return [.. second < 0 ? keys : keys.Take(second)];
        }

        Assert.Equal(Skeleton(published.Transactions!.Single().Segments), Skeleton(ours.Transactions!.Single().Segments));
    }

    [Fact]
    public async Task a_claim_the_primary_forwarded_to_the_secondary_gets_no_second_claim()
    {
        await SecondaryCoverage("LAKE COUNTY MUTUAL", "LCM22", "commercial");

        var primary = await PrimaryPaid(1, "TRC-COB-4", status: "19", crossover: "LAKE COUNTY MUTUAL");

        Assert.Null(primary.SecondaryClaimId);
        Assert.StartsWith("the primary payer forwarded the claim to LAKE COUNTY MUTUAL (crossover", primary.SecondaryNotPrepared);
        Assert.Contains(primary.History, h => h.What.EndsWith("forwarded by the payer to LAKE COUNTY MUTUAL (crossover)"));
        var line = (await Fixture.BalanceOf(_patient)).Sessions.Single(s => s.SessionId == _sessions[1]).Lines.Single();
        Assert.Equal((80m, 0m), (line.PatientDue, line.InsurancePending));
    }

    [Fact]
    public async Task a_copay_assistance_programs_annual_maximum_is_kept_and_beyond_it_the_patient_owes()
    {
        // The drug maker's program, enrolled with its card id and billed through its payer.
        var program = await Fixture.Payer("SPRAVATO WITHME", "JNJCAP", "copay-assistance");
        await Fixture.Post<CopayAssistanceRecorded>($"/api/patients/{_patient}/copay-assistance",
            new RecordCopayAssistance(Guid.NewGuid(), "Spravato withMe", "SWM-88120", 100m, Scenarios.ClinicToday.AddDays(-30), PayerId: program));

        // The first visit: the program pays the whole 80.00 the primary left.
        var first = await PrimaryPaid(0, "TRC-CAP-1");
        var firstProgram = await Fixture.Get<ClaimView>($"/api/claims/{first.SecondaryClaimId}");
        Assert.Empty(firstProgram.Warnings);
        await Post835(Build("TRC-CAP-2", "SPRAVATO WITHME", "JNJCAP", 80m, Today,
            [new Clp(firstProgram.ControlNumber, "2", 450m, 80m, 0m, new Svc("96365", 450m, 80m, Today.AddDays(-2), $"{firstProgram.ControlNumber}-1", ("OA", "23", 370m)))]));

        // The second: 20.00 of the maximum remains; the program pays it and the patient owes the other 60.00 (PR-119).
        var second = await PrimaryPaid(1, "TRC-CAP-3");
        var secondProgram = await Fixture.Get<ClaimView>($"/api/claims/{second.SecondaryClaimId}");
        Assert.Equal($"$20.00 of the annual maximum of $100.00 remains for {Today.AddDays(-2).Year}: beyond it the patient owes", Assert.Single(secondProgram.Warnings));
        // Billed to the program as a secondary payer, with the card id it issued.
        var secondProgramFile = await Export(secondProgram.Id);
        Assert.Contains("NM1*PR*2*SPRAVATO WITHME*****PI*JNJCAP~", secondProgramFile);
        Assert.Contains("NM1*IL*1*QUENNELL*MARISOL****MI*SWM-88120~", secondProgramFile);
        Assert.Equal(program, secondProgram.PayerId);
        await Post835(Build("TRC-CAP-4", "SPRAVATO WITHME", "JNJCAP", 20m, Today,
            [new Clp(secondProgram.ControlNumber, "2", 450m, 20m, 60m,
                new Svc("96365", 450m, 20m, Today.AddDays(-1), $"{secondProgram.ControlNumber}-1", ("OA", "23", 370m), ("PR", "119", 60m)))]));
        var line = (await Fixture.BalanceOf(_patient)).Sessions.Single(s => s.SessionId == _sessions[1]).Lines.Single();
        Assert.Equal((320m, 60m, 0m), (line.InsurancePaid, line.PatientDue, line.InsurancePending));

        // The third: the maximum is used; no claim goes to the program and the patient owes the 80.00.
        var third = await PrimaryPaid(2, "TRC-CAP-5");
        Assert.Null(third.SecondaryClaimId);
        Assert.Equal($"the secondary coverage's annual maximum of $100.00 for {Today.AddDays(-2).Year} is used ($100.00 paid): the patient owes the rest", third.SecondaryNotPrepared);
        line = (await Fixture.BalanceOf(_patient)).Sessions.Single(s => s.SessionId == _sessions[2]).Lines.Single();
        Assert.Equal((80m, 0m), (line.PatientDue, line.InsurancePending));
    }
}
