using Marten;

namespace KetamineBilling.Features.Grants;

public static class GrantsModule
{
    public static void AddGrants(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        opts.Projections.Snapshot<Grant>(JasperFx.Events.Projections.SnapshotLifecycle.Inline);
        opts.Schema.For<Grant>().Index(g => g.PatientId);
    });
}
