using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Remittances;

/// <summary>The clinic's reason-code table over HTTP (issue 19): read, changed by billing, and followed by the next 835.</summary>
public class posting_by_reason_code(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));

    [Fact]
    public async Task billing_sets_a_codes_treatment_and_the_next_835_posts_by_it()
    {
        var table = await Fixture.Get<ReasonCodeTableView>("/api/reason-codes");
        Assert.Equal((AdjustmentTreatment.Contractual, false), table.Codes.Single(c => c.Group == "CO" && c.Reason == "97") is var row ? (row.Treatment, row.Overridden) : default);
        Assert.Equal(AdjustmentTreatment.Denial, table.ZeroPaidContractual);

        var problem = await Fixture.Put<ValidationProblemDetails>("/api/reason-codes/XX-97", new SetReasonCodeTreatment("forgive"), 400);
        Assert.Equal(["code", "treatment"], problem.Errors.Keys.Order());
        var set = await Fixture.Put<ReasonCodeRow>("/api/reason-codes/CO-97", new SetReasonCodeTreatment("denial"), 200);
        Assert.Equal((AdjustmentTreatment.Denial, AdjustmentTreatment.Contractual, true), (set.Treatment, set.Default, set.Overridden));

        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        var patient = await Fixture.RegisteredPatient("Benedikta", "Okafor-Strand", new DateOnly(1984, 2, 7));
        var payer = await Fixture.Payer();
        await Fixture.Coverage(patient, payer);
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient,
            Scenarios.Session(deliveredOn: Today.AddDays(-9)) with { Funding = ["insurance"] }));
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId]));

        // Paid 300.00; 60.00 the contract's; 90.00 bundled (CO-97), which this clinic keeps open as a denial.
        var file = Build("TRC-RC1", "PRAIRIE HEALTH", "PRH01", 300m, Today,
            [new Clp(claim.ControlNumber, "1", 450m, 300m, 0m, new Svc("96365", 450m, 300m, Today.AddDays(-9), $"{claim.ControlNumber}-1", ("CO", "45", 60m), ("CO", "97", 90m)))]);
        var posted = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text(file).ToUrl("/api/remittances");
            s.StatusCodeShouldBeOk();
        });
        Assert.Equal(1, (await posted.ReadAsJsonAsync<RemittanceUpload>())!.ClaimsPosted);

        var line = (await Fixture.BalanceOf(patient)).Sessions.Single().Lines.Single();
        Assert.Equal((300m, 60m, 90m, true), (line.InsurancePaid, line.Adjusted, line.InsurancePending, line.Denied));
        Assert.Equal("partially-paid", (await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}")).Status);
    }
}
