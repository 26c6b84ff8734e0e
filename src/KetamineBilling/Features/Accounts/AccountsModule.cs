using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Accounts;

public static class AccountsModule
{
    /// <summary>Account administration, password rules, revocation by security stamp and the TOTP second factor.</summary>
    public static void AddAccounts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(builder.Configuration.GetSection("Auth:Revocation").Get<RevocationOptions>() ?? new RevocationOptions());
        services.AddSingleton<AccountStates>();
        services.AddSingleton<TwoFactor>();
        services.ConfigureGlobalStore(opts => opts.Schema.For<TwoFactorPolicy>().Identity(p => p.Id));
    }
}
