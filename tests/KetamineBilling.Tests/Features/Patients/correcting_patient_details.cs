using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Patients;

/// <summary>Issue 21: a patient's details and address can be corrected, once per change id, in the patient stream.</summary>
public class correcting_patient_details(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly PostalAddress Home = new("41 Orchard Lane", "Apt 2", "Evanston", "IL", "60201");

    private static CorrectPatientDetails Correction(Guid? changeId = null, PostalAddress? address = null) =>
        new(changeId ?? Guid.NewGuid(), "Dana", "Whitfield-Ames", new DateOnly(1979, 4, 14), "F", "dana@example.test", "312-555-0188", address ?? Home);

    [Fact]
    public async Task a_correction_changes_the_details_the_directory_and_the_account_and_a_replay_changes_nothing()
    {
        var patient = await Fixture.RegisteredPatient("Dana", "Whitfield", new DateOnly(1979, 4, 13));
        var correction = Correction();

        var corrected = await Fixture.Post<PatientDetails>($"/api/patients/{patient}/details", correction, 200);
        var replay = await Fixture.Post<PatientDetails>($"/api/patients/{patient}/details", correction, 200);

        Assert.Equal(("Whitfield-Ames", new DateOnly(1979, 4, 14), "F", Home), (corrected.LastName, corrected.DateOfBirth, corrected.Sex, corrected.Address));
        Assert.Equal(corrected, replay);
        var events = await Fixture.EventsOf(patient);
        Assert.Equal(["PatientRegistered", "PatientDetailsCorrected", "PatientAddressChanged"], events.Select(e => e.Data.GetType().Name));
        var view = await Fixture.Get<PatientView>($"/api/patients/{patient}");
        Assert.Equal(("Dana", "Whitfield-Ames", "312-555-0188", Home), (view.FirstName, view.LastName, view.Phone, view.Address));
        Assert.Equal("Dana Whitfield-Ames", (await Fixture.BalanceOf(patient)).PatientName);
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var page = await Fixture.Get<PatientPage>("/api/patients?search=whitfield-ames");
        Assert.Equal((patient, new DateOnly(1979, 4, 14)), (Assert.Single(page.Items).Id, page.Items[0].DateOfBirth));

        // Another correction under the same change id is a conflict and writes nothing.
        await Fixture.Post<ProblemDetails>($"/api/patients/{patient}/details", correction with { FirstName = "Dina" }, 409);
        // Only what differs is written: an address-only change is one PatientAddressChanged.
        await Fixture.Post<PatientDetails>($"/api/patients/{patient}/details", Correction(address: Home with { Line2 = null }), 200);
        Assert.Equal("PatientAddressChanged", (await Fixture.EventsOf(patient)).Last().Data.GetType().Name);
        Assert.Equal(4, (await Fixture.EventsOf(patient)).Count);
    }

    [Fact]
    public async Task bad_details_are_a_400_naming_each_field_and_a_birth_date_after_a_session_is_a_422_and_an_unknown_patient_a_404()
    {
        var patient = await Fixture.RegisteredPatient();
        await Fixture.PricedCode("96365", 450m);
        var session = await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: new DateOnly(2025, 3, 10)));

        var bad = await Fixture.Post<ValidationProblemDetails>($"/api/patients/{patient}/details",
            new CorrectPatientDetails(Guid.Empty, " ", "Tester*Smith", null, "X", Address: new PostalAddress("1 Main~St", null, "", "Illinois", "6020")), 400);
        var afterSession = await Fixture.Post<ValidationProblemDetails>($"/api/patients/{patient}/details",
            Correction() with { DateOfBirth = new DateOnly(2025, 3, 11) }, 422);
        await Fixture.Post<ProblemDetails>($"/api/patients/{Guid.NewGuid()}/details", Correction(), 404);

        Assert.Equal(["address.city", "address.line1", "address.postalCode", "address.state", "changeId", "dateOfBirth", "firstName", "lastName", "sex"],
            bad.Errors.Keys.Order());
        Assert.Contains("X12", bad.Errors["lastName"][0]);
        Assert.Equal(["dateOfBirth"], afterSession.Errors.Keys);
        Assert.Equal(["PatientRegistered", "SessionDelivered"], (await Fixture.EventsOf(patient)).Select(e => e.Data.GetType().Name));
        Assert.NotEqual(Guid.Empty, session.SessionId);
    }

    [Fact]
    public async Task a_claim_filed_after_the_address_was_added_no_longer_warns_of_a_missing_address()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Noor", "Haddad");
        var payer = await Fixture.Payer();
        await Fixture.Coverage(patient, payer);
        var first = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Scenarios.Session() with { Funding = ["insurance"] }));
        var second = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient,
            Scenarios.Session(deliveredOn: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-2))) with { Funding = ["insurance"] }));
        var before = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [first.SessionId]));

        await Fixture.Post<PatientDetails>($"/api/patients/{patient}/details",
            new CorrectPatientDetails(Guid.NewGuid(), "Noor", "Haddad", new DateOnly(1985, 5, 17), Address: Home), 200);
        var after = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [second.SessionId]));

        Assert.Contains(before.Warnings, w => w.Contains("no address on file", StringComparison.Ordinal));
        Assert.DoesNotContain(after.Warnings, w => w.Contains("no address on file", StringComparison.Ordinal));
    }
}
