using Marten;

namespace KetamineBilling.Features.Studies;

public static class StudiesModule
{
    public static void AddStudies(this WebApplicationBuilder builder) =>
        builder.Services.ConfigureMarten(opts => opts.Projections.Snapshot<Study>(JasperFx.Events.Projections.SnapshotLifecycle.Inline));
}
