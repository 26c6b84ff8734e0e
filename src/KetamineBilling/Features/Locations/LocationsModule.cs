using JasperFx.Events.Projections;
using Marten;

namespace KetamineBilling.Features.Locations;

public static class LocationsModule
{
    /// <summary>The clinic's locations: one stream, read inline so a change is visible at once.</summary>
    public static void AddLocations(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
        opts.Projections.Add<ClinicLocationsProjection>(ProjectionLifecycle.Inline));
}
