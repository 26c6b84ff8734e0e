using Marten;

namespace KetamineBilling.Features.Providers;

public static class ProvidersModule
{
    public static void AddProviders(this WebApplicationBuilder builder) =>
        builder.Services.ConfigureMarten(opts => opts.Schema.For<Provider>().Identity(p => p.Id));
}
