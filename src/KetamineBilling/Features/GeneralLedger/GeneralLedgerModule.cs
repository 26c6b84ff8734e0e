using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Clinic;
using JasperFx.Events.Projections;
using Marten;

namespace KetamineBilling.Features.GeneralLedger;

public static class GeneralLedgerModule
{
    public static void AddGeneralLedger(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten((provider, opts) =>
    {
        var zones = provider.GetRequiredService<ClinicZones>();
        // The journal (async): it folds the account events itself and reads the deposits' inline documents for their day.
        AnalyticsModule.AddAsync(opts, new JournalProjection(zones.ZoneOfAsync), JournalProjection.Name, JournalProjection.EventTypes,
            typeof(JournalEntry), typeof(JournalAccount), typeof(JournalMonth), typeof(JournalBooks), typeof(CloseReport));
        opts.Projections.Snapshot<Books>(SnapshotLifecycle.Inline);
        opts.Projections.Snapshot<ClinicChart>(SnapshotLifecycle.Inline);
        opts.Schema.For<CloseReport>().Index(r => r.Month);
        opts.Schema.For<JournalEntry>().Index(e => e.Date);
        opts.Schema.For<JournalMonth>().Index(m => m.Month);
    });
}
