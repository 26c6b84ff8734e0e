using JasperFx.Events.Projections;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Analytics;

public static class AnalyticsModule
{
    public static void AddAnalytics(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten((provider, opts) =>
    {
        var projection = new ProjectionWrapper<IDocumentOperations, IQuerySession>(
            new PayerMonthProjection(provider.GetRequiredService<ClinicZones>().ZoneOfAsync), ProjectionLifecycle.Async) { Name = PayerMonthProjection.Name };
        foreach (var type in PayerMonthProjection.EventTypes) projection.IncludeType(type);
        projection.Options.BatchSize = Persistence.RebuildBatchSize;
        projection.Options.DeleteViewTypeOnTeardown<PayerMonth>();
        projection.Options.DeleteViewTypeOnTeardown<PayerMonthSource>();
        opts.Projections.Add(projection, ProjectionLifecycle.Async);
        opts.Schema.For<PayerMonth>();
        opts.Schema.For<PayerMonthSource>();
    });
}
