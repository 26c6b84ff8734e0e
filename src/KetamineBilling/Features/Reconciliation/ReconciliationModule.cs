using Marten;

namespace KetamineBilling.Features.Reconciliation;

public static class ReconciliationModule
{
    public static void AddReconciliation(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        opts.Projections.Snapshot<BankDeposit>(JasperFx.Events.Projections.SnapshotLifecycle.Inline);
        opts.Projections.Add<DepositedReceiptProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Inline);
        opts.Schema.For<DepositedReceipt>();
    });
}
