using JasperFx.Events.Projections;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Clinic;

public static class ClinicModule
{
    /// <summary>
    /// The clinic's profile: one stream read inline. What a request's documents print (<see cref="ClinicProfiles"/>, asked by
    /// the endpoints of the 837 writer, statements, receipts, superbills and employer statements) is the latest recorded
    /// profile, loaded per request; the configuration's <c>Clinic</c> section until the first change.
    /// </summary>
    public static void AddClinic(this WebApplicationBuilder builder)
    {
        var configured = builder.Configuration.GetSection("Clinic").Get<ClinicProfile>() ?? new ClinicProfile();
        builder.Services.AddSingleton(new ConfiguredClinicProfile(configured));
        builder.Services.AddSingleton<ClinicProfiles>();
        builder.Services.AddSingleton<ClinicZones>();
        builder.Services.ConfigureMarten(opts => opts.Projections.Add<ClinicProfileProjection>(ProjectionLifecycle.Inline));
    }
}
