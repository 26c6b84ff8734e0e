using System.Net;
using Alba;
using Marten;
using Marten.Events;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Patients;

public class registering_a_patient(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task a_new_patient_gets_an_id_a_location_and_an_empty_balance()
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new RegisterPatient("Dana", "Whitfield", new DateOnly(1979, 4, 13), "dana@example.test", null)).ToUrl("/api/patients");
            s.StatusCodeShouldBe(201);
        });
        var created = (await result.ReadAsJsonAsync<PatientCreated>())!;

        Assert.NotEqual(Guid.Empty, created.Id);
        Assert.Equal($"/api/patients/{created.Id}", result.Context.Response.Headers.Location.ToString());
        var balance = await Fixture.BalanceOf(created.Id);
        Assert.Equal("Dana Whitfield", balance.PatientName);
        Assert.Equal(0m, balance.TotalCharged);
        Assert.Empty(balance.Sessions);
    }

    [Fact]
    public async Task missing_names_and_a_future_birth_date_are_a_400_naming_each_field()
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new RegisterPatient("", " ", DateOnly.FromDateTime(DateTime.UtcNow.AddDays(30)), "not-an-email", null)).ToUrl("/api/patients");
            s.StatusCodeShouldBe(400);
        });
        var problem = (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;

        Assert.Equal(["dateOfBirth", "email", "firstName", "lastName"], problem.Errors.Keys.Order());
        await using var session = Store.QuerySession(AppFixture.Clinic);
        Assert.Empty(await session.Events.QueryAllRawEvents().ToListAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task a_body_that_is_not_json_is_a_400()
    {
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text("{ not json").ToUrl("/api/patients");
            s.WithRequestHeader("Content-Type", "application/json");
            s.StatusCodeShouldBe(400);
        });
    }

    [Fact]
    public async Task a_new_patient_appears_in_the_searchable_directory_once_the_daemon_catches_up()
    {
        var id = await Fixture.RegisteredPatient("Quentin", "Marlowe");
        await Fixture.RegisteredPatient("Other", "Person");
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url("/api/patients?search=MARLO");
            s.StatusCodeShouldBeOk();
        });
        var page = (await result.ReadAsJsonAsync<PatientPage>())!;

        Assert.Equal(1, page.TotalCount);
        Assert.Equal(id, Assert.Single(page.Items).Id);
    }

    [Fact]
    public async Task an_unknown_patient_is_a_404()
    {
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/patients/{Guid.NewGuid()}");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/patients/{Guid.NewGuid()}/balance");
            s.StatusCodeShouldBe(HttpStatusCode.NotFound);
        });
    }

    [Fact]
    public async Task a_page_number_that_is_not_a_number_is_a_400()
    {
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url("/api/patients?page=abc");
            s.StatusCodeShouldBe(400);
        });
    }

    [Fact]
    public async Task a_registration_with_the_client_s_id_is_recorded_once_however_often_it_is_sent()
    {
        var id = Guid.NewGuid();
        var command = new RegisterPatient("Noor", "Haddad", new DateOnly(1990, 6, 1), "noor@example.test", null, PatientId: id);

        var first = await Fixture.Post<PatientCreated>("/api/patients", command, 201);
        var again = await Fixture.Post<PatientCreated>("/api/patients", command, 200);
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(command with { LastName = "Haddad-Smith" }).ToUrl("/api/patients");
            s.StatusCodeShouldBe(409);
        });

        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(command with { PatientId = Guid.Empty }).ToUrl("/api/patients");
            s.StatusCodeShouldBe(400);
            s.ContentShouldContain("patientId");
        });

        Assert.Equal((id, id), (first.Id, again.Id));
        Assert.Single(await Fixture.EventsOf(id));
        Assert.Equal("Noor Haddad", (await Fixture.BalanceOf(id)).PatientName);
    }
}
