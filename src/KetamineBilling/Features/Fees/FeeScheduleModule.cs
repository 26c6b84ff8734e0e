using JasperFx.Events.Projections;
using Marten;

namespace KetamineBilling.Features.Fees;

public static class FeeScheduleModule
{
    public static void AddFeeSchedule(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
        opts.Projections.Add<FeeScheduleProjection>(ProjectionLifecycle.Inline));
}
