namespace KetamineBilling.Features.Demo;

public static class DemoDataModule
{
    public static void AddDemoData(this WebApplicationBuilder builder)
    {
        // Demo accounts and data exist in Development only, and only when asked for (ops/run.sh asks).
        if (!builder.Configuration.GetValue("Demo:Seed", false))
        {
            return;
        }

        if (builder.Environment.IsDevelopment())
        {
            builder.Services.AddHostedService<DemoSeeder>();
        }
        else
        {
            builder.Services.AddHostedService<DemoSeedRefused>();
        }
    }
}
