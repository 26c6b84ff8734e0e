using KetamineBilling.Features.Locations;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Tests.Features.Locations;

/// <summary>The pure decisions behind PUT /api/locations/{id} and PUT /api/locations/{id}/active, without a host.</summary>
public class locations_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 15, 0, 0, TimeSpan.Zero);
    private static readonly PostalAddress Office = new("1200 Lakeshore Drive", "Suite 300", "Chicago", "IL", "60611");

    private static ClinicLocations With(params LocationAdded[] added)
    {
        var state = new ClinicLocations { Id = ClinicLocations.StreamId };
        var projection = new ClinicLocationsProjection();
        foreach (var e in added) projection.Apply(e, state);
        return state;
    }

    private static LocationAdded Main => new(ClinicLocations.StreamId, "main-clinic", "Main clinic", Office, "11", Now.AddDays(-10));

    [Fact]
    public void a_new_location_is_added_trimmed_with_its_address_normalized()
    {
        var outcome = SetLocationEndpoint.Decide(null, "north", new SetLocation(" North office ", new PostalAddress(" 5 Elm St ", " ", "Evanston", "il", "60201"), "11"), Now);

        var added = Assert.IsType<LocationAdded>(Assert.Single(outcome.EventsFor(ClinicLocations.StreamId)));
        Assert.Equal(("north", "North office", "11", Now), (added.LocationId, added.Name, added.PlaceOfService, added.AddedAt));
        Assert.Equal(new PostalAddress("5 Elm St", null, "Evanston", "IL", "60201"), added.Address);
        var view = Assert.IsType<LocationView>(Assert.IsType<Outcome.Accepted>(outcome).Answer);
        Assert.True(view.Active);
        Assert.Equal("Office", view.PlaceOfServiceName);
    }

    [Fact]
    public void the_same_location_again_records_nothing_and_a_change_records_the_whole_new_set()
    {
        var state = With(Main);

        var again = SetLocationEndpoint.Decide(state, "main-clinic", new SetLocation("Main clinic", Office, "11"), Now);
        Assert.IsType<Outcome.Replayed>(again);

        var telehealth = SetLocationEndpoint.Decide(state, "main-clinic", new SetLocation("Main clinic", Office, "02"), Now);
        var changed = Assert.IsType<LocationChanged>(Assert.Single(telehealth.EventsFor(ClinicLocations.StreamId)));
        Assert.Equal(("main-clinic", "02", "Main clinic"), (changed.LocationId, changed.PlaceOfService, changed.Name));
    }

    [Fact]
    public void a_location_is_deactivated_and_reactivated_once_each_and_an_unknown_one_is_not_found()
    {
        var state = With(Main);

        var off = SetLocationActiveEndpoint.Decide(state, "main-clinic", new SetLocationActive(false), Now);
        Assert.IsType<LocationDeactivated>(Assert.Single(off.AllEvents));
        new ClinicLocationsProjection().Apply((LocationDeactivated)off.AllEvents[0], state);
        Assert.False(state.Locations["main-clinic"].Active);

        Assert.IsType<Outcome.Replayed>(SetLocationActiveEndpoint.Decide(state, "main-clinic", new SetLocationActive(false), Now));
        Assert.IsType<LocationReactivated>(Assert.Single(SetLocationActiveEndpoint.Decide(state, "main-clinic", new SetLocationActive(true), Now).AllEvents));
        Assert.Equal(404, Assert.IsType<Outcome.Rejected>(SetLocationActiveEndpoint.Decide(state, "nowhere", new SetLocationActive(false), Now)).Status);
    }

    [Fact]
    public void a_bad_id_address_or_place_of_service_is_refused_naming_each_field()
    {
        var problem = SetLocationEndpoint.Validate("Main Clinic", new SetLocation("", new PostalAddress("", null, "Chicago", "Illinois", "606"), "99"));

        var errors = Assert.IsType<Microsoft.AspNetCore.Http.HttpValidationProblemDetails>(problem).Errors;
        Assert.Equal(["address.line1", "address.postalCode", "address.state", "locationId", "name", "placeOfService"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("11", errors["placeOfService"][0]);
    }
}
