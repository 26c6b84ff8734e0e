using Marten;

namespace KetamineBilling.Features.Clearinghouse;

public static class ClearinghouseModule
{
    public static void AddClearinghouse(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IClearinghouse>(new DropFolderClearinghouse(builder.Configuration[DropFolderClearinghouse.Setting]));
        builder.Services.AddSingleton<ClearinghouseExchange>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ClearinghouseExchange>());
        builder.Services.ConfigureMarten(opts => opts.Schema.For<ClearinghouseFile>().Index(f => f.At));
    }
}
