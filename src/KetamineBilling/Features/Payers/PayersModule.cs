using Marten;

namespace KetamineBilling.Features.Payers;

public static class PayersModule
{
    public static void AddPayers(this WebApplicationBuilder builder) =>
        builder.Services.ConfigureMarten(opts => opts.Schema.For<Payer>().UniqueIndex(p => p.PayerId));
}
