using JasperFx.Events.Projections;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Projections;

namespace KetamineBilling.Features.Analytics;

public static class AnalyticsModule
{
    public static void AddAnalytics(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten((provider, opts) =>
    {
        var zones = provider.GetRequiredService<ClinicZones>();
        AddAsync(opts, new PayerMonthProjection(zones.ZoneOfAsync), PayerMonthProjection.Name, PayerMonthProjection.EventTypes,
            typeof(PayerMonth), typeof(PayerMonthSource));
        // A/R aging and KPIs (ADR 0017): they read the inline account (and claim) documents, so are rebuilt after them.
        AddAsync(opts, new AgingProjection(), AgingProjection.Name, AgingProjection.EventTypes,
            typeof(AgingDay), typeof(AgingAccount), typeof(AgingCredit), typeof(AgingSponsor));
        AddAsync(opts, new KpiProjection(zones.ZoneOfAsync), KpiProjection.Name, KpiProjection.EventTypes,
            typeof(KpiMonth), typeof(KpiReceivables), typeof(KpiSource));
    });

    /// <summary>
    /// An async read model of the analytics: the events it follows, pages of <see cref="Persistence.RebuildBatchSize"/>, and
    /// its documents, all torn down by a rebuild (documents written only by its own code are unknown to the teardown otherwise).
    /// </summary>
    public static void AddAsync(StoreOptions opts, IProjection projection, string name, IEnumerable<Type> events, params Type[] documents)
    {
        var wrapper = new ProjectionWrapper<IDocumentOperations, IQuerySession>(projection, ProjectionLifecycle.Async) { Name = name };
        foreach (var type in events) wrapper.IncludeType(type);
        wrapper.Options.BatchSize = Persistence.RebuildBatchSize;
        foreach (var document in documents)
        {
            wrapper.Options.DeleteViewTypeOnTeardown(document);
            opts.RegisterDocumentType(document);
        }

        opts.Projections.Add(wrapper, ProjectionLifecycle.Async);
    }
}
