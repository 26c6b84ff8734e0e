using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Clinic;

public class editing_the_clinic_profile(AppFixture fixture) : IntegrationContext(fixture)
{
    private static SetClinicProfile From(ClinicProfileView v) => new(v.Name, v.AddressLines, v.Phone, v.Npi, v.TaxId, v.Taxonomy, v.SubmitterId);

    private Task<IScenarioResult> Put(SetClinicProfile body, int status, string user = As.Billing) => Fixture.Call(user, s =>
    {
        s.Put.Json(body, JsonStyle.MinimalApi).ToUrl("/api/clinic/profile");
        s.StatusCodeShouldBe(status);
    });

    [Fact]
    public async Task the_configured_profile_holds_until_a_change_which_the_next_837_prints_and_the_same_again_records_nothing()
    {
        var configured = await Fixture.Get<ClinicProfileView>("/api/clinic/profile", As.Finance);
        Assert.Null(configured.ChangedAt);
        Assert.False(string.IsNullOrEmpty(configured.Npi));

        var renamed = From(configured) with { Name = "Lakeside Ketamine Clinic PLLC", AddressLines = ["400 N Michigan Ave", "Chicago, IL 60611"] };
        var answered = await (await Put(renamed, 200)).ReadAsJsonAsync<ClinicProfileView>();
        Assert.Equal("Lakeside Ketamine Clinic PLLC", answered!.Name);
        await Put(renamed, 200);
        Assert.Single(await Fixture.EventsOf(ClinicProfileState.StreamId));
        var read = await Fixture.Get<ClinicProfileView>("/api/clinic/profile");
        Assert.Equal(renamed.Name, read.Name);
        Assert.Equal(renamed.AddressLines!, read.AddressLines);
        Assert.NotNull(read.ChangedAt);

        // The 837 made now names the clinic as changed (billing provider 2010AA: NM1*85, N3, N4).
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        var patient = (await Fixture.Post<PatientCreated>("/api/patients", new RegisterPatient("Ines", "Halvorsen", new DateOnly(1980, 4, 5), null, null,
            new PostalAddress("41 Orchard Lane", null, "Evanston", "IL", "60201"), "F"))).Id;
        var payer = await Fixture.Payer();
        await Fixture.Coverage(patient, payer);
        var charge = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient,
            Scenarios.Session(lines: [("96365", 1)]) with { Funding = ["insurance"] }));
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [charge.SessionId]));
        var x12 = await (await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new ExportClaimBatch([claim.Id], Guid.NewGuid())).ToUrl("/api/claim-batches");
            s.StatusCodeShouldBeOk();
        })).ReadAsTextAsync();
        Assert.Contains("NM1*85*2*LAKESIDE KETAMINE CLINIC PLLC*****XX*" + configured.Npi, x12.ToUpperInvariant());
        Assert.Contains("N3*400 N MICHIGAN AVE~", x12.ToUpperInvariant());
    }

    [Fact]
    public async Task a_bad_npi_is_a_400_naming_it_and_finance_may_not_change_the_profile()
    {
        var configured = await Fixture.Get<ClinicProfileView>("/api/clinic/profile");
        var badNpi = From(configured) with { Npi = configured.Npi[..9] + (char)('0' + (configured.Npi[9] - '0' + 1) % 10) };
        var problem = await (await Put(badNpi, 400)).ReadAsJsonAsync<ValidationProblemDetails>();
        Assert.Equal(["npi"], problem!.Errors.Keys);
        await Put(From(configured) with { Name = "Someone else" }, 403, As.Finance);
        Assert.Empty(await Fixture.EventsOf(ClinicProfileState.StreamId));
    }
}
