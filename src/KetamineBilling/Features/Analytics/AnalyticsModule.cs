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

        // A/R aging (ADR 0017): reads the inline account documents, so rebuilt after them.
        var aging = new ProjectionWrapper<IDocumentOperations, IQuerySession>(new AgingProjection(), ProjectionLifecycle.Async) { Name = AgingProjection.Name };
        foreach (var type in AgingProjection.EventTypes) aging.IncludeType(type);
        aging.Options.BatchSize = Persistence.RebuildBatchSize;
        aging.Options.DeleteViewTypeOnTeardown<AgingDay>();
        aging.Options.DeleteViewTypeOnTeardown<AgingAccount>();
        aging.Options.DeleteViewTypeOnTeardown<AgingCredit>();
        aging.Options.DeleteViewTypeOnTeardown<AgingSponsor>();
        opts.Projections.Add(aging, ProjectionLifecycle.Async);
        opts.Schema.For<AgingDay>();
        opts.Schema.For<AgingAccount>();
        opts.Schema.For<AgingCredit>();
        opts.Schema.For<AgingSponsor>();

        // KPIs (ADR 0017): read the inline account and claim documents, so rebuilt after them.
        var kpis = new ProjectionWrapper<IDocumentOperations, IQuerySession>(
            new KpiProjection(provider.GetRequiredService<ClinicZones>().ZoneOfAsync), ProjectionLifecycle.Async) { Name = KpiProjection.Name };
        foreach (var type in KpiProjection.EventTypes) kpis.IncludeType(type);
        kpis.Options.BatchSize = Persistence.RebuildBatchSize;
        kpis.Options.DeleteViewTypeOnTeardown<KpiMonth>();
        kpis.Options.DeleteViewTypeOnTeardown<KpiReceivables>();
        kpis.Options.DeleteViewTypeOnTeardown<KpiSource>();
        opts.Projections.Add(kpis, ProjectionLifecycle.Async);
        opts.Schema.For<KpiMonth>();
        opts.Schema.For<KpiReceivables>();
        opts.Schema.For<KpiSource>();
    });
}
