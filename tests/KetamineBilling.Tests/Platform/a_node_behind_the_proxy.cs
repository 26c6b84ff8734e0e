using System.Net;
using Alba;
using JasperFx.CommandLine;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Demo;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog.Core;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// A second node on the run's database, configured as production runs it behind the TLS proxy (its public HTTPS port
/// set, so plain HTTP is redirected), with small abuse limits.
/// </summary>
public sealed class ProxiedNode(AppFixture fixture) : IAsyncLifetime
{
    public const int PermitLimit = 20;
    public const int FailuresPerClient = 6;

    public LogCapture Logs { get; } = new();

    public IAlbaHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        JasperFxEnvironment.AutoStartHost = true;
        Host = await AlbaHost.For<Program>(builder =>
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:Marten", fixture.ConnectionString);
            // The run's main host runs the projections; this node only serves requests.
            builder.UseSetting("Marten:DaemonMode", "Disabled");
            builder.UseSetting("Logging:Console", "false");
            builder.UseSetting("Network:HttpsPort", "443");
            builder.UseSetting("RateLimits:Anonymous:PermitLimit", PermitLimit.ToString());
            builder.UseSetting("Auth:Throttle:FailuresPerClient", FailuresPerClient.ToString());
            // Asked for outside Development: refused with a warning.
            builder.UseSetting("Demo:Seed", "true");
            builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(Logs));
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
    }
}

/// <summary>
/// Requests to <see cref="ProxiedNode"/> come through the "proxy" on loopback (the default known proxy) with
/// X-Forwarded-For / X-Forwarded-Proto, as the compose proxy sends them.
/// </summary>
public sealed class a_node_behind_the_proxy(AppFixture fixture, ProxiedNode proxied) : IClassFixture<ProxiedNode>
{
    private const int PermitLimit = ProxiedNode.PermitLimit;
    private const int FailuresPerClient = ProxiedNode.FailuresPerClient;

    private IAlbaHost _node => proxied.Host;

    private LogCapture _logs => proxied.Logs;

    // Addresses of this run only: the counts of earlier runs are cleared at the start of the run, not between tests.
    private static readonly int Run = Random.Shared.Next(1, 250);

    private static string Address(int n) => $"203.0.{Run}.{n}";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<IScenarioResult> ViaProxy(string client, Action<Scenario> configure) => _node.Scenario(s =>
    {
        s.ConfigureHttpContext(c =>
        {
            c.Connection.RemoteIpAddress = IPAddress.Loopback;
            c.Request.Host = new HostString("billing.example");
        });
        s.WithRequestHeader("X-Forwarded-For", client);
        s.WithRequestHeader("X-Forwarded-Proto", "https");
        configure(s);
    });

    private static Action<Scenario> Token(string email, string password, int status) => s =>
    {
        s.Post.Json(new TokenRequest(email, password)).ToUrl("/api/auth/token");
        s.StatusCodeShouldBe(status);
    };

    [Fact]
    public async Task https_from_the_known_proxy_gets_hsts_while_plain_http_or_an_unknown_proxy_is_redirected_to_https()
    {
        var viaProxy = await ViaProxy(Address(1), s =>
        {
            s.Get.Url("/account/login");
            s.StatusCodeShouldBeOk();
        });
        Assert.Equal("max-age=31536000; includeSubDomains", viaProxy.Context.Response.Headers.StrictTransportSecurity.ToString());
        Assert.Contains("frame-ancestors 'none'", viaProxy.Context.Response.Headers.ContentSecurityPolicy.ToString());
        // HTTPS as the proxy said: the form's antiforgery cookie is Secure too.
        Assert.Contains("; secure", viaProxy.Context.Response.Headers.SetCookie.ToString().ToLowerInvariant());

        foreach (var forwarded in new[] { false, true })
        {
            // Not from a known proxy: its X-Forwarded-Proto (and -For) are not believed.
            var direct = await _node.Scenario(s =>
            {
                s.ConfigureHttpContext(c =>
                {
                    c.Connection.RemoteIpAddress = IPAddress.Parse("198.51.100.20");
                    c.Request.Host = new HostString("billing.example");
                });
                if (forwarded)
                {
                    s.WithRequestHeader("X-Forwarded-For", Address(2));
                    s.WithRequestHeader("X-Forwarded-Proto", "https");
                }

                s.Get.Url("/account/login");
                s.StatusCodeShouldBe(307);
            });
            Assert.Equal("https://billing.example/account/login", direct.Context.Response.Headers.Location.ToString());
        }
    }

    [Fact]
    public async Task sign_in_failures_are_counted_in_postgresql_for_every_node_and_block_only_the_address_that_failed()
    {
        var email = $"shared-{Guid.NewGuid():N}@test.local";
        await fixture.Host.Services.GetRequiredService<UserAccounts>()
            .EnsureAsync(email, "Shared", AppFixture.Password, [Roles.Finance], null, [AppFixture.Clinic], DateTimeOffset.UtcNow, Ct);
        var attacker = Address(10);

        // Five failures on the run's main node, from one client address.
        for (var i = 0; i < new LoginThrottleOptions().FailuresPerAccountAndClient; i++)
        {
            await fixture.Host.Scenario(s =>
            {
                s.ConfigureHttpContext(c => c.Connection.RemoteIpAddress = IPAddress.Parse(attacker));
                Token(email, "wrong-password", 401)(s);
            });
        }

        // This node reads the same counts: that address is refused even the right password...
        var refused = await ViaProxy(attacker, Token(email, AppFixture.Password, 429));
        Assert.True(int.Parse(refused.Context.Response.Headers.RetryAfter.ToString()) > 0);
        // ...while the account's owner, at another address, signs in.
        await ViaProxy(Address(11), Token(email, AppFixture.Password, 200));
    }

    [Fact]
    public async Task an_address_over_its_failure_limit_is_refused_and_another_address_signs_in_to_the_same_account()
    {
        var sprayer = Address(20);
        for (var i = 0; i < FailuresPerClient; i++)
        {
            await ViaProxy(sprayer, Token($"sprayed-{Guid.NewGuid():N}@test.local", "wrong-password", 401));
        }

        // Billing never failed, yet the spraying address is refused for it; every other address is not.
        await ViaProxy(sprayer, Token(As.Billing, AppFixture.Password, 429));
        await ViaProxy(Address(21), Token(As.Billing, AppFixture.Password, 200));
    }

    [Fact]
    public async Task anonymous_endpoints_are_rate_limited_per_client_address()
    {
        var busy = Address(30);
        for (var i = 0; i < PermitLimit; i++)
        {
            await ViaProxy(busy, s =>
            {
                s.Get.Url("/account/login");
                s.StatusCodeShouldBeOk();
            });
        }

        var limited = await ViaProxy(busy, s =>
        {
            s.Get.Url("/account/login");
            s.StatusCodeShouldBe(429);
        });
        Assert.True(int.Parse(limited.Context.Response.Headers.RetryAfter.ToString()) > 0);
        await ViaProxy(busy, Token(As.Billing, AppFixture.Password, 429));

        // Another address is not limited, nor is a signed-in API call from the busy one.
        await ViaProxy(Address(31), s =>
        {
            s.Get.Url("/account/login");
            s.StatusCodeShouldBeOk();
        });
        var token = await fixture.TokenFor(As.Billing);
        await ViaProxy(busy, s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Get.Url("/api/auth/me");
            s.StatusCodeShouldBeOk();
        });
    }

    [Fact]
    public void demo_data_asked_for_outside_development_is_not_seeded_and_the_log_says_so()
    {
        Assert.Empty(_node.Services.GetServices<IHostedService>().OfType<DemoSeeder>());
        Assert.Contains(_logs.Lines, l => l.StartsWith("Warning", StringComparison.Ordinal)
                                          && l.Contains("Demo:Seed is set but the environment is \"Testing\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task a_node_without_the_projection_daemon_starts_and_answers_a_rebuild_with_503_saying_why()
    {
        var token = (await (await ViaProxy(Address(90), Token(As.Billing, AppFixture.Password, 200))).ReadAsJsonAsync<TokenResponse>())!.AccessToken;
        foreach (var url in new[] { "/api/maintenance/projections/rebuild-all", "/api/maintenance/projections/PatientAccount/rebuild" })
        {
            var answer = await ViaProxy(Address(90), s =>
            {
                s.WithRequestHeader("Authorization", $"Bearer {token}");
                s.Post.Json(new { }).ToUrl(url);
                s.StatusCodeShouldBe(503);
            });
            Assert.Contains("runs no projection daemon", await answer.ReadAsTextAsync(), StringComparison.Ordinal);
        }
    }
}
