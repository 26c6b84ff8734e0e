using Marten;

namespace KetamineBilling.Features.Remittances;

public static class RemittancesModule
{
    public static void AddRemittances(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        opts.Projections.Snapshot<Remittance>(JasperFx.Events.Projections.SnapshotLifecycle.Inline);
        opts.Projections.Snapshot<ReasonCodeTable>(JasperFx.Events.Projections.SnapshotLifecycle.Inline);
    });
}
