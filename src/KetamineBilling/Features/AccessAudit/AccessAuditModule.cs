using Marten;

namespace KetamineBilling.Features.AccessAudit;

public static class AccessAuditModule
{
    public static void AddAccessAudit(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PhiAccessLog>();
        builder.Services.ConfigureMarten(opts => opts.Schema.For<PhiAccess>()
            .Index(a => a.At)
            .Index(a => a.UserId)
            .GinIndexJsonData());
    }
}
