using System.Net.Http.Headers;
using System.Net.Http.Json;
using JasperFx.CommandLine;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Demo;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using Serilog.Core;

namespace KetamineBilling.Tests.Browser;

[CollectionDefinition("browser")]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>;

/// <summary>
/// The app on a real port (Kestrel, in this process) with the demo world seeded in schemas of its own, and Debian's
/// chromium driven by Playwright. The API host of the other tests keeps its own schemas in the same database.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly TestDatabase _database = new();
    private WebApplicationFactory<Program> _factory = null!;
    private IPlaywright _playwright = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public IServiceProvider Services => _factory.Services;

    public LogCapture Logs { get; } = new();

    /// <summary>The mail server the app sends statement notices to.</summary>
    public TestSmtpServer Mail { get; } = new();

    /// <summary>The card processor's API as the app reaches it (a local fake of Stripe's).</summary>
    public FakeStripe Stripe { get; } = new();

    /// <summary>What the pages wrote to the browser console (shown when a journey fails).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Console { get; } = new();

    public async ValueTask InitializeAsync()
    {
        await _database.StartAsync();
        JasperFxEnvironment.AutoStartHost = true;
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Testing");
            builder.UseStaticWebAssets();
            builder.UseSetting("ConnectionStrings:Marten", _database.ConnectionString);
            // The app's address: KB_BROWSER_PORT lets several runs share the machine (Kestrel's default is localhost:5000).
            builder.UseSetting(WebHostDefaults.ServerUrlsKey, $"http://127.0.0.1:{Environment.GetEnvironmentVariable("KB_BROWSER_PORT") ?? "5000"}");
            builder.UseSetting("Marten:Schema", "ui_billing");
            builder.UseSetting("Wolverine:Schema", "ui_wolverine");
            // The API tests' host holds the hot-cold daemon lock of this database: this one runs its daemon on its own.
            builder.UseSetting("Marten:DaemonMode", "Solo");
            builder.UseSetting("Logging:Console", "false");
            // Open circuits re-check their sign-in every 2 s (30 s by default): a journey sees a revoked page signed out quickly.
            builder.UseSetting("Auth:Revocation:CircuitRevalidation", "00:00:02");
            // Every page load of every journey comes from 127.0.0.1: keep the anonymous endpoints' rate limit out of their way.
            builder.UseSetting("RateLimits:Anonymous:PermitLimit", "100000");
            builder.UseSetting("Mail:Smtp:Host", "127.0.0.1");
            builder.UseSetting("Mail:Smtp:Port", Mail.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("Mail:Smtp:Security", "None");
            builder.UseSetting("Stripe:SecretKey", "sk_test_fake");
            builder.UseSetting("Stripe:WebhookSecret", AppFixture.StripeWebhookSecret);
            builder.UseSetting("Stripe:ApiBase", Stripe.BaseUrl);
            builder.UseSetting("App:PublicBaseUrl", $"http://127.0.0.1:{Environment.GetEnvironmentVariable("KB_BROWSER_PORT") ?? "5000"}");
            builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(Logs));
        });
        _factory.UseKestrel();
        _factory.StartServer();
        BaseAddress = _factory.ClientOptions.BaseAddress;

        var store = Services.GetRequiredService<IDocumentStore>();
        // A clean world (the schemas outlive a local run), with the daemon paused so it never sees the store move backwards.
        var coordinator = Services.GetRequiredService<JasperFx.Events.Daemon.IProjectionCoordinator>();
        await coordinator.PauseAsync();
        try
        {
            await store.Advanced.Clean.DeleteAllEventDataAsync();
            await store.Advanced.Clean.DeleteAllDocumentsAsync();
            // Clinics a journey onboarded in an earlier local run: the demo seeds only a platform of its own clinics.
            await using var global = Services.GetRequiredService<KetamineBilling.Infrastructure.IGlobalStore>().LightweightSession();
            global.DeleteWhere<KetamineBilling.Infrastructure.ClinicRecord>(c => c.Id != DemoSeeder.Lakeside && c.Id != DemoSeeder.Northside);
            await global.SaveChangesAsync();
        }
        finally
        {
            await coordinator.ResumeAsync();
        }

        // The demo world: its users (password DemoSeeder.DefaultPassword), seven accounts, a year of practice.
        await new DemoSeeder(store, Services.GetRequiredService<KetamineBilling.Infrastructure.IGlobalStore>(), Services.GetRequiredService<KetamineBilling.Infrastructure.Clinics>(), Services.GetRequiredService<UserAccounts>(), Services.GetRequiredService<ClinicCalendar>(), TimeProvider.System,
            new ConfigurationBuilder().Build(), NullLogger<DemoSeeder>.Instance).StartAsync(default);
        await store.WaitForNonStaleProjectionDataAsync(DemoSeeder.Lakeside, TimeSpan.FromSeconds(60));
        await Services.GetRequiredService<UserAccounts>().EnsureAsync("norole@demo.test", "No Role", DemoSeeder.DefaultPassword, [], null, [DemoSeeder.Lakeside], DateTimeOffset.UtcNow, default);

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
        });
    }

    /// <summary>A fresh browser context (its own cookies) with a page signed in as the user, on their home page.</summary>
    /// <summary>Waits until the demo clinic's async read models (the worklist, aging, KPIs) have caught up with its events.</summary>
    public Task CaughtUpAsync() =>
        Services.GetRequiredService<Marten.IDocumentStore>().WaitForNonStaleProjectionDataAsync(DemoSeeder.Lakeside, TimeSpan.FromSeconds(30));

    public async Task<IPage> SignedInAsync(string email, string? path = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseAddress.ToString(), Locale = "en-US", ViewportSize = new() { Width = 1440, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        page.Console += (_, message) => Console.Enqueue($"{message.Type}: {message.Text}");
        page.PageError += (_, error) => Console.Enqueue($"page error: {error}");
        await page.GotoAsync("/account/login" + (path is null ? "" : $"?returnUrl={Uri.EscapeDataString(path)}"));
        await page.FillAsync("input[name=username]", email);
        await page.FillAsync("input[name=password]", DemoSeeder.DefaultPassword);
        await page.ClickAsync("button[type=submit]");
        try
        {
            await LiveAsync(page);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\nat {page.Url}\nbrowser console:\n{string.Join("\n", Console.TakeLast(20))}\npage:\n{(await page.ContentAsync())[..Math.Min(3000, (await page.ContentAsync()).Length)]}", e);
        }

        return page;
    }

    /// <summary>Waits until the page's Blazor circuit is live (a hidden marker only the interactive render writes).</summary>
    public static Task LiveAsync(IPage page) =>
        page.WaitForSelectorAsync("[data-testid=circuit-live]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });

    /// <summary>An API client with a bearer token of the user, to set up what a journey starts from.</summary>
    public async Task<HttpClient> ApiAsync(string email)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        var response = await client.PostAsJsonAsync("/api/auth/token", new TokenRequest(email, DemoSeeder.DefaultPassword));
        response.EnsureSuccessStatusCode();
        var token = (await response.Content.ReadFromJsonAsync<TokenResponse>())!.AccessToken;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }



    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (_factory is not null) await _factory.DisposeAsync();
        await Mail.DisposeAsync();
        await Stripe.DisposeAsync();
        await _database.DisposeAsync();
    }
}
