using JasperFx.Events.Projections;
using Marten;

namespace KetamineBilling.Features.PriorAuthorizations;

public static class PriorAuthorizationsModule
{
    public static void AddPriorAuthorizations(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        opts.Projections.Snapshot<PriorAuthorization>(SnapshotLifecycle.Inline);
        opts.Schema.For<PriorAuthorization>().Index(a => a.PatientId);
    });
}
