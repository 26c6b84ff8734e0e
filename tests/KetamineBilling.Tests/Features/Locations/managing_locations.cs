using Alba;
using KetamineBilling.Features.Locations;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Locations;

public class managing_locations(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly PostalAddress Office = new("1200 Lakeshore Drive", "Suite 300", "Chicago", "IL", "60611");

    private Task<IScenarioResult> Put(string id, object body, int status, string user = As.Billing) => Fixture.Call(user, s =>
    {
        s.Put.Json(body, JsonStyle.MinimalApi).ToUrl($"/api/locations/{id}");
        s.StatusCodeShouldBe(status);
    });

    [Fact]
    public async Task a_location_is_added_changed_deactivated_and_listed_and_a_replay_records_nothing()
    {
        await Put("main-clinic", new SetLocation("Main clinic", Office, "11"), 200);
        await Put("main-clinic", new SetLocation("Main clinic", Office, "11"), 200);
        await Put("home-telehealth", new SetLocation("Telehealth (patient's home)", Office, "10"), 200);
        var changed = await (await Put("main-clinic", new SetLocation("Lakeshore clinic", Office, "11"), 200)).ReadAsJsonAsync<LocationView>();
        Assert.Equal("Lakeshore clinic", changed!.Name);
        await Put("home-telehealth/active", new SetLocationActive(false), 200);
        await Put("home-telehealth/active", new SetLocationActive(false), 200);

        var list = await Fixture.Get<List<LocationView>>("/api/locations", As.Finance);
        Assert.Equal(["main-clinic", "home-telehealth"], list.Select(l => l.Id));
        Assert.Equal((true, "Lakeshore clinic"), (list[0].Active, list[0].Name));
        Assert.Equal((false, "10", "Telehealth provided in the patient's home"), (list[1].Active, list[1].PlaceOfService, list[1].PlaceOfServiceName));

        var events = await Fixture.EventsOf(ClinicLocations.StreamId);
        Assert.Equal([typeof(LocationAdded), typeof(LocationAdded), typeof(LocationChanged), typeof(LocationDeactivated)], events.Select(e => e.EventType));
    }

    [Fact]
    public async Task bad_input_is_a_400_naming_the_field_an_unknown_location_a_404_and_finance_may_not_write()
    {
        var problem = await (await Put("main-clinic", new SetLocation("Main clinic", Office with { PostalCode = "6061" }, "77"), 400)).ReadAsJsonAsync<ValidationProblemDetails>();
        Assert.Equal(["address.postalCode", "placeOfService"], problem!.Errors.Keys.Order(StringComparer.Ordinal));
        await Put("nowhere/active", new SetLocationActive(false), 404);
        await Put("main-clinic", new SetLocation("Main clinic", Office, "11"), 403, As.Finance);
        Assert.Empty(await Fixture.EventsOf(ClinicLocations.StreamId));
    }
}
