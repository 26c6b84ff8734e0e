using KetamineBilling.Features.Analytics;
using Marten;

namespace KetamineBilling.Features.Reconciliation;

public static class ReconciliationModule
{
    public static void AddReconciliation(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        opts.Projections.Snapshot<BankDeposit>(JasperFx.Events.Projections.SnapshotLifecycle.Inline);
        opts.Projections.Add<DepositedReceiptProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Inline);
        opts.Schema.For<DepositedReceipt>();
        // The worklist as a read model (ADR 0017): paged, filtered and summed in the database.
        AnalyticsModule.AddAsync(opts, new ExceptionsProjection(), ExceptionsProjection.Name, ExceptionsProjection.EventTypes,
            typeof(WorklistEntry), typeof(WorklistTally), typeof(WorklistReceipt), typeof(WorklistReceiptSource), typeof(WorklistSponsor));
        opts.Schema.For<WorklistEntry>()
            .Duplicate(x => x.Source).Duplicate(x => x.Type).Duplicate(x => x.TypeOrder).Duplicate(x => x.Since).Duplicate(x => x.VisibleFrom)
            .Duplicate(x => x.Amount);
        opts.Schema.For<WorklistTally>().Duplicate(x => x.VisibleFrom);
    });
}
