using JasperFx.Events.Projections;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Patients;

public static class PatientsModule
{
    public static void AddPatients(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        // The account is the write model and the inline read model of balances, ledgers and statements.
        opts.Projections.Snapshot<PatientAccount>(SnapshotLifecycle.Inline, Persistence.RebuildInBulk);
        opts.Projections.Add<SessionOwnerProjection>(ProjectionLifecycle.Inline);
        opts.Projections.Add<PaymentOwnerProjection>(ProjectionLifecycle.Inline);
        opts.Projections.Add<VisitDayProjection>(ProjectionLifecycle.Inline);
        opts.Schema.For<VisitDay>().Index(v => v.On);
        opts.Projections.Add<PatientDirectoryProjection>(ProjectionLifecycle.Async);
        opts.Schema.For<PatientDirectoryEntry>().Index(p => p.SearchName);
        // Written by an event projection, so Marten only knows the type if told: `resources setup` needs it.
        opts.Schema.For<SessionOwner>();
        opts.Schema.For<PaymentOwner>();
    });
}
