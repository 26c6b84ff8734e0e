using Marten;

namespace KetamineBilling.Features.Clearinghouse;

public static class ClearinghouseModule
{
    public static void AddClearinghouse(this WebApplicationBuilder builder)
    {
        var settle = int.TryParse(builder.Configuration["Clearinghouse:SettleSeconds"], out var seconds) && seconds >= 0
            ? TimeSpan.FromSeconds(seconds)
            : DropFolderClearinghouse.DefaultSettle;
        builder.Services.AddSingleton<IClearinghouse>(sp =>
            new DropFolderClearinghouse(builder.Configuration[DropFolderClearinghouse.Setting], settle, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<ClearinghouseExchange>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ClearinghouseExchange>());
        builder.Services.ConfigureMarten(opts => opts.Schema.For<ClearinghouseFile>().Index(f => f.At));
    }
}
