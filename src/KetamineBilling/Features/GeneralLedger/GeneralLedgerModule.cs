using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Clinic;
using Marten;

namespace KetamineBilling.Features.GeneralLedger;

public static class GeneralLedgerModule
{
    public static void AddGeneralLedger(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten((provider, opts) =>
    {
        var zones = provider.GetRequiredService<ClinicZones>();
        // The journal (async): it folds the account events itself and reads the deposits' inline documents for their day.
        AnalyticsModule.AddAsync(opts, new JournalProjection(zones.ZoneOfAsync), JournalProjection.Name, JournalProjection.EventTypes,
            typeof(JournalEntry), typeof(JournalAccount), typeof(JournalMonth));
        opts.Schema.For<JournalEntry>().Index(e => e.Date);
        opts.Schema.For<JournalMonth>().Index(m => m.Month);
    });
}
