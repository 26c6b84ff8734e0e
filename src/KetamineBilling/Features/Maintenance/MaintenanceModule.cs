using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Maintenance;

public static class MaintenanceModule
{
    /// <summary>The rebuild jobs' runner (one per node, stopped with the node) and their documents.</summary>
    public static void AddMaintenance(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RebuildJobs>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RebuildJobs>());
        builder.Services.AddSingleton<ShardRebuilds>();
        builder.Services.ConfigureGlobalStore(opts =>
        {
            opts.Schema.For<RebuildJob>().Index(j => j.RequestedAt);
            opts.Schema.For<RebuildCancel>();
            opts.Schema.For<ShardRebuild>().Index(r => r.JobId);
        });
    }
}
