using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Eligibility;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using UglyToad.PdfPig;
using static KetamineBilling.Tests.Infrastructure.Eligibility271Builder;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Eligibility;

/// <summary>
/// Estimates over HTTP (issue 20): a series under the patient's insurance (its 271, what the payer paid before, its contracted
/// rates) against cash, the cost-estimate and Good Faith Estimate PDFs, coverage limits, and Spravato's coding flags on
/// sessions and on the claim as filed.
/// </summary>
public class estimating_a_series_over_http(AppFixture fixture) : IntegrationContext(fixture)
{
    private static DateOnly Today => Scenarios.ClinicToday;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private Guid _payer;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        await Fixture.PricedCode("G2082", 850m, description: "Esketamine, up to 56 mg, 2 h observation");
        _payer = await Fixture.Payer("Blue Prairie Health", "BPH01");
    }

    private async Task<(Guid Patient, Guid Coverage)> InsuredAndAnswered(string first, string last, string memberId)
    {
        var patient = await Fixture.RegisteredPatient(first, last, new DateOnly(1980, 7, 1));
        var coverage = await Fixture.Coverage(patient, _payer, memberId);
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text(Build("BPH01", Random.Shared.Next(1_000, 999_999_999), Today, "BLUE PRAIRIE HEALTH", "BPH01",
                new Member(null, memberId, last.ToUpperInvariant(), first.ToUpperInvariant(), Active))).ToUrl("/api/eligibility-answers");
            s.StatusCodeShouldBeOk();
        });
        Assert.Equal(1, (await result.ReadAsJsonAsync<EligibilityImport>())!.Recorded);
        return (patient, coverage);
    }

    private async Task<(string Text, byte[] Bytes)> Pdf(string url)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBeOk();
        });
        Assert.Equal("application/pdf", result.Context.Response.ContentType);
        using var buffer = new MemoryStream();
        await result.Context.Response.Body.CopyToAsync(buffer, Ct);
        using var pdf = PdfDocument.Open(buffer.ToArray());
        return (string.Join("\n", pdf.GetPages().Select(p => string.Join(" ", p.GetWords().Select(w => w.Text)))), buffer.ToArray());
    }

    private async Task<ValidationProblemDetails> Refused(string url, int status)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBe(status);
        });
        return (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;
    }

    [Fact]
    public async Task a_series_is_estimated_from_the_271_and_what_the_payer_paid_before_against_cash_and_printed()
    {
        var (patient, _) = await InsuredAndAnswered("Henrike", "Oyelowo", "HOY2200031");
        // The payer paid one infusion before: allowed 360.00 (450.00 less CO-45 90.00).
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: Today.AddDays(-20)) with { Funding = ["insurance"] }));
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, _payer, [session.SessionId]));
        var trace = $"EST{Guid.NewGuid():N}"[..16];
        await Fixture.PostedRemittance(Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 288m, Today,
            [new Clp(claim.ControlNumber, "1", 450m, 288m, 72m, new Svc("96365", 450m, 288m, Today.AddDays(-20), null, ("CO", "45", 90m), ("PR", "2", 72m)))]));

        var query = $"sessions=6&lines=96365:1&firstOn={Today.AddDays(1):yyyy-MM-dd}&intervalDays=3&description=Six%20infusions";
        var estimate = await Fixture.Get<SeriesEstimate>($"/api/patients/{patient}/estimate?{query}");
        var i = estimate.Insurance!;
        Assert.Equal(("observed", 1, 360m), (i.Lines[0].Basis, i.Lines[0].Observations, i.Lines[0].Allowed.Expected));
        Assert.Equal((600m, 2900m, 20m, 40m, "medium"), (i.DeductibleLeft!.Value, i.OutOfPocketLeft!.Value, i.Coinsurance!.Value, i.Copay!.Value, i.Confidence));
        // 360 from the deductible; then 240 of it with 20% of 120 and the 40.00 copay; then 20% of 360 and the copay, four times.
        Assert.Equal(360m + 304m + 4 * 112m, i.PatientPays.Expected);
        Assert.Equal(2700m, estimate.SelfPay.Total);
        Assert.Equal(("insurance", 2700m - 1112m), (estimate.Cheaper, estimate.Difference));
        Assert.Equal((Today.AddDays(1), Today.AddDays(16)), (estimate.FirstOn, estimate.LastOn));

        // A contracted rate comes before what was observed.
        var rated = await Fixture.Put<Payer>($"/api/payers/{_payer}/contracted-rates", new SetContractedRates([new ContractedRate("96365", 300m)]));
        Assert.Equal(300m, rated.ContractedRates["96365"]);
        Assert.Equal(("contracted", 300m), (await Fixture.Get<SeriesEstimate>($"/api/patients/{patient}/estimate?{query}")).Insurance!.Lines.Select(l => (l.Basis, l.Allowed.Expected)).Single());

        var (text, _) = await Pdf($"/api/patients/{patient}/estimate.pdf?{query}");
        foreach (var expected in new[] { "Cost estimate", "Henrike Oyelowo", "Blue Prairie Health", "SILVER PPO 2000", "Which is cheaper", "Insurance is cheaper", "sliding scale" })
            Assert.Contains(expected, text);

        Assert.Contains("lines", (await Refused($"/api/patients/{patient}/estimate?sessions=6&lines=96365", 400)).Errors.Keys);
        Assert.Contains("sessions", (await Refused($"/api/patients/{patient}/estimate?sessions=60&lines=96365:1", 400)).Errors.Keys);
        Assert.Contains("no price", (await Refused($"/api/patients/{patient}/estimate?sessions=6&lines=99999:1", 422)).Errors["lines"][0]);
        Assert.Contains("coverageId", (await Refused($"/api/patients/{patient}/estimate?sessions=6&lines=96365:1&coverageId={Guid.NewGuid()}", 422)).Errors.Keys);
        await Refused($"/api/patients/{Guid.NewGuid()}/estimate?sessions=6&lines=96365:1", 404);
        await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetContractedRates([new ContractedRate("9636", 1m)]), JsonStyle.MinimalApi).ToUrl($"/api/payers/{_payer}/contracted-rates");
            s.StatusCodeShouldBe(400);
        });
    }

    [Fact]
    public async Task a_good_faith_estimate_carries_the_no_surprises_act_fields_and_becomes_the_estimate_the_400_dollar_check_uses()
    {
        var patient = await Fixture.RegisteredPatient("Casimir", "Adeyemi-Holt", new DateOnly(1977, 9, 23));
        var series = Guid.NewGuid();
        await Fixture.Post<object>($"/api/patients/{patient}/series", new PlanSeries(series, "Six IV ketamine infusions", 6, Today));
        var estimateId = Guid.NewGuid();
        var command = new IssueGoodFaithEstimate(estimateId, series, Today, [new EstimateLineInput("96365", 6)], ["F33.2"], AppFixture.ProviderId, Today.AddDays(2), Today.AddDays(17));
        var issued = await Fixture.Post<GoodFaithEstimateIssued>($"/api/patients/{patient}/good-faith-estimates", command);
        Assert.Equal((2700m, "Six IV ketamine infusions", Today.AddDays(17)), (issued.Total, issued.Description, issued.ServiceTo!.Value));

        var (text, _) = await Pdf($"/api/patients/{patient}/good-faith-estimates/{estimateId}/gfe.pdf");
        foreach (var expected in new[]
                 {
                     "Good Faith Estimate", "Casimir Adeyemi-Holt", "Six IV ketamine infusions", "F33.2", "96365", "NPI", "tax ID", "$2,700.00", "$400 or more",
                     "120 calendar days", "www.cms.gov/nosurprises", "not a contract", "only an estimate", "scheduled separately"
                 })
            Assert.Contains(expected, text);

        // Seven sessions of the series at 450.00 reach 3,150.00: $400 or more above the estimate's 2,700.00.
        for (var n = 0; n < 7; n++)
            await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: Today.AddDays(-n)) with { SeriesId = series });
        var alert = Assert.Single((await Fixture.Get<PatientBalance>($"/api/patients/{patient}/balance")).Alerts, a => a.Kind == "estimate-exceeded");
        Assert.Equal((estimateId, 450m), (alert.EstimateId!.Value, alert.Amount!.Value));

        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(command with { EstimateId = Guid.NewGuid(), ProviderId = "nobody" }, JsonStyle.MinimalApi).ToUrl($"/api/patients/{patient}/good-faith-estimates");
            s.StatusCodeShouldBe(422);
        });
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(command with { EstimateId = Guid.NewGuid(), DiagnosisCodes = ["depression"] }, JsonStyle.MinimalApi).ToUrl($"/api/patients/{patient}/good-faith-estimates");
            s.StatusCodeShouldBe(400);
        });
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/patients/{patient}/good-faith-estimates/{Guid.NewGuid()}/gfe.pdf");
            s.StatusCodeShouldBe(404);
        });
    }

    [Fact]
    public async Task a_medicare_spravato_session_is_flagged_before_filing_and_on_the_claim_and_its_coverage_counts_what_claims_used()
    {
        var medicare = await Fixture.Payer("Medicare Part B", "MCR01", "medicare");
        var patient = await Fixture.RegisteredPatient("Ottoline", "Brannigan", new DateOnly(1950, 2, 2));
        var coverage = await Fixture.Coverage(patient, medicare, "1EG4TE5MK73");
        await Fixture.Post<CoverageBenefits>($"/api/patients/{patient}/coverages/{coverage}/benefits", new SetCoverageBenefits(24, null, "medical-buy-and-bill"), 200);

        // Her first session at the clinic, G2082 without the KX modifier.
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: Today, lines: ("G2082", 1)) with { Funding = ["insurance"] }));
        var flagged = Assert.Single(await Fixture.Get<List<SessionCodingFlags>>($"/api/patients/{patient}/coding-flags"));
        Assert.Equal((session.SessionId, "Medicare Part B"), (flagged.SessionId, flagged.Payer));
        Assert.Equal(["medicare-kx", "medicare-established"], flagged.Flags.Select(f => f.Rule));
        Assert.Contains("CGS", flagged.Flags[0].Source);

        // Filed as it is: the claim carries the flags as warnings, the line as recorded.
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, medicare, [session.SessionId]));
        Assert.Contains(claim.Warnings, w => w.Contains("Spravato coding") && w.Contains("KX modifier"));
        Assert.Empty(claim.Lines[0].Modifiers);

        var benefits = (await Fixture.Get<PatientEligibility>($"/api/patients/{patient}/eligibility")).Coverages.Single().Benefits;
        Assert.Equal((24, 1, 23, "medical-buy-and-bill"), (benefits.SessionsPerYear!.Value, benefits.SessionsUsed, benefits.SessionsLeft!.Value, benefits.DrugBenefit));
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new SetCoverageBenefits(0, null, "mail-order"), JsonStyle.MinimalApi).ToUrl($"/api/patients/{patient}/coverages/{coverage}/benefits");
            s.StatusCodeShouldBe(400);
        });
    }
}
