using KetamineBilling.Features.Accounts;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace KetamineBilling.Features.Auth;

public static class AuthModule
{
    public static void AddAuth(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<IPasswordHasher<UserAccount>, PasswordHasher<UserAccount>>();
        services.AddSingleton<UserAccounts>();
        services.AddSingleton(builder.Configuration.GetSection("Auth:Throttle").Get<LoginThrottleOptions>() ?? new LoginThrottleOptions());
        services.AddSingleton<LoginThrottle>();

        // Keys at rest are encrypted with a certificate (outside Development a missing one stops the start).
        var dataProtection = services.AddDataProtection().SetApplicationName("KetamineBilling");
        // Before ASP.NET Core's own hosted service reads the key ring (registered by AddDataProtection just above); the
        // missing-certificate check below goes before this one.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, KeyRingAtStart>());
        if (DataProtectionCertificate.Load(builder.Configuration) is { } certificate)
        {
            dataProtection.ProtectKeysWithCertificate(certificate);
        }
        else if (!builder.Environment.IsDevelopment())
        {
            // First, so the start stops before anything else starts.
            services.Insert(0, ServiceDescriptor.Singleton<IHostedService, DataProtectionCertificateRequired>());
        }

        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = new MartenXmlRepository(sp.GetRequiredService<IGlobalStore>())));

        services.AddAuthentication(AuthSchemes.Cookie)
            .AddBearerToken(AuthSchemes.Bearer, o =>
            {
                o.BearerTokenExpiration = TimeSpan.FromHours(1);
                // Revocation: a token whose account was disabled or changed (security stamp) is refused.
                o.Events.OnMessageReceived = AccountStates.CheckBearerAsync;
            })
            .AddCookie(AuthSchemes.Cookie, o =>
            {
                o.LoginPath = "/account/login";
                o.LogoutPath = "/account/logout";
                o.AccessDeniedPath = "/account/denied";
                // Idle sign-out: a cookie not used for 15 minutes expires.
                o.ExpireTimeSpan = TimeSpan.FromMinutes(15);
                o.SlidingExpiration = true;
                o.Cookie.Name = "kb.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                // Revocation: a cookie whose account was disabled or changed (security stamp) is dropped.
                o.Events.OnValidatePrincipal = AccountStates.CheckCookieAsync;
                // Outside Development the cookie only travels over HTTPS (the proxy terminates TLS).
                o.Cookie.SecurePolicy = builder.Environment.IsDevelopment() ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
            });
        services.AddAuthorization(Policies.Register);

        services.ConfigureGlobalStore(opts =>
        {
            opts.Schema.For<UserAccount>().UniqueIndex(u => u.NormalizedEmail).UseOptimisticConcurrency(true);
            opts.Schema.For<DataProtectionKey>().Identity(k => k.Id);
            opts.Storage.ExtendedSchemaObjects.Add(LoginThrottle.Table(opts.DatabaseSchemaName));
        });
    }
}
