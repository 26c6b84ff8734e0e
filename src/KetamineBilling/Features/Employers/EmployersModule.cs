using Marten;

namespace KetamineBilling.Features.Employers;

public static class EmployersModule
{
    public static void AddEmployers(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
        opts.Projections.Snapshot<EmployerAgreement>(JasperFx.Events.Projections.SnapshotLifecycle.Inline));
}
