using JasperFx.Events.Projections;
using Marten;

namespace KetamineBilling.Features.Fees;

public static class FeesModule
{
    /// <summary>The fee schedule: one stream, read inline so a price set is visible at once.</summary>
    public static void AddFees(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
        opts.Projections.Add<FeeScheduleProjection>(ProjectionLifecycle.Inline));
}
