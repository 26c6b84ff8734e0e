using Alba;
using JasperFx.CommandLine;
using JasperFx.Events.Daemon;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;

[assembly: AssemblyFixture(typeof(KetamineBilling.Tests.Infrastructure.AppFixture))]
// One host and one database for the run: classes take turns, each starting from empty event data.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>The one host of the run, on real PostgreSQL, with an account per role.</summary>
public sealed class AppFixture : IAsyncLifetime
{
    public const string Password = "Test-pass-2026";

    /// <summary>The clinic's one provider in tests; kept across data resets like the accounts.</summary>
    public const string ProviderId = "dr-test";

    /// <summary>The clinic every test account works for (in the shared clinic database).</summary>
    public const string Clinic = "test_a";

    /// <summary>A second clinic, in a database of its own (a clinic group's): isolation tests' other tenant.</summary>
    public const string OtherClinic = "test_b";

    /// <summary>An account of both clinics (a billing company's staff): its tokens act for either.</summary>
    public const string BothClinicsEmail = "company@test.local";

    private readonly TestDatabase _database = new();
    private readonly Dictionary<string, string> _tokens = new();

    public IAlbaHost Host { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    /// <summary>The run's mail server: statement notices go to it through the app's SMTP client.</summary>
    public TestSmtpServer Mail { get; } = new();

    /// <summary>The card processor's API as the app reaches it (a local fake of Stripe's).</summary>
    public FakeStripe Stripe { get; } = new();

    /// <summary>The webhook signing secret the app checks the processor's events with.</summary>
    public const string StripeWebhookSecret = "whsec_test_0123456789abcdef";

    /// <summary>Where the app says patients open its links (the payment page).</summary>
    public const string PublicBaseUrl = "https://pay.test.local";

    /// <summary>The master database (clinic registry, accounts, Wolverine's nodes).</summary>
    public string ConnectionString => _database.ConnectionString;

    /// <summary>The clinic database of <see cref="Clinic"/> (its events and documents).</summary>
    public string ClinicConnectionString => ClinicDatabases.Beside(_database.ConnectionString, ClinicDatabases.Shared);

    public IDocumentStore Store => Host.Services.GetRequiredService<IDocumentStore>();

    public IGlobalStore Global => Host.Services.GetRequiredService<IGlobalStore>();

    /// <summary>The clearinghouse drop folder of this run: {folder}/{clinic}/outbox and inbox.</summary>
    public string ClearinghouseFolder { get; } = Path.Combine(Path.GetTempPath(), $"kb-clearinghouse-{Guid.NewGuid():N}");

    public Guid EmployerAId { get; } = Guid.Parse("11111111-0000-7000-8000-0000000000a1");

    public Guid EmployerBId { get; } = Guid.Parse("11111111-0000-7000-8000-0000000000b2");

    public async ValueTask InitializeAsync()
    {
        await _database.StartAsync();
        JasperFxEnvironment.AutoStartHost = true;
        Host = await AlbaHost.For<Program>(builder =>
        {
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:Marten", _database.ConnectionString);
            // One node: Marten's own daemon, running at once (the distributed mode of several nodes is proven by
            // Platform/several_nodes with app processes of their own).
            builder.UseSetting("Marten:DaemonMode", "HotCold");
            // Tests fail sign-ins on purpose; keep the per-client limit out of their way.
            builder.UseSetting("Auth:Throttle:FailuresPerClient", "1000");
            // Every test's anonymous calls come from one address: keep the anonymous endpoints' rate limit out of their way.
            builder.UseSetting("RateLimits:Anonymous:PermitLimit", "100000");
            // The run's logs go to LogCapture (tests read them), not to the console.
            builder.UseSetting("Logging:Console", Environment.GetEnvironmentVariable("KB_TEST_CONSOLE_LOGS") ?? "false");
            builder.UseSetting("Mail:Smtp:Host", "127.0.0.1");
            builder.UseSetting("Mail:Smtp:Port", Mail.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("Mail:Smtp:Security", "None");
            builder.UseSetting("Mail:From", "statements@clinic.test");
            builder.UseSetting("App:PublicBaseUrl", PublicBaseUrl);
            builder.UseSetting("Stripe:SecretKey", "sk_test_fake");
            builder.UseSetting("Stripe:WebhookSecret", StripeWebhookSecret);
            builder.UseSetting("Stripe:ApiBase", Stripe.BaseUrl);
            // A drop folder of the run's own, exchanged when a test says so (the check runs once at start).
            builder.UseSetting("Clearinghouse:DropFolder", ClearinghouseFolder);
            builder.UseSetting("Clearinghouse:CheckSeconds", "86400");
            builder.UseSetting("Clearinghouse:SettleSeconds", "0");
            builder.ConfigureServices(services =>
            {
                services.AddSingleton<ILogEventSink>(Logs);
                // A projection that fails on a test-only event: platform tests prove a failing shard stops and is reported.
                services.ConfigureMarten(opts => opts.Projections.Add<PoisonedProjection>(JasperFx.Events.Projections.ProjectionLifecycle.Async));
            });
        });

        // Sign-in failures are counted in PostgreSQL and outlive a run: start each run with none.
        await using (var command = ((Weasel.Postgresql.PostgresqlDatabase)Global.Storage.Database).DataSource.CreateCommand(
                         $"delete from {Global.Options.DatabaseSchemaName}.{LoginThrottle.TableName}"))
        {
            await command.ExecuteNonQueryAsync();
        }

        var now = DateTimeOffset.UtcNow;
        var clinics = Host.Services.GetRequiredService<Clinics>();
        await clinics.AddAsync(Clinic, "Test Clinic A", ClinicDatabases.Shared, "tests", now, default);
        await clinics.AddAsync(OtherClinic, "Test Clinic B", ClinicDatabases.Group, "tests", now, default);

        var accounts = Host.Services.GetRequiredService<UserAccounts>();
        // The staff accounts work for both clinics (a billing company's): their tokens act for the first unless a test acts
        // for the other (ActingFor).
        await accounts.EnsureAsync("billing@test.local", "Billing Tester", Password, [Roles.BillingAdmin], null, [Clinic, OtherClinic], now, default);
        await accounts.EnsureAsync("finance@test.local", "Finance Tester", Password, [Roles.Finance], null, [Clinic, OtherClinic], now, default);
        await accounts.EnsureAsync("employer-a@test.local", "Employer A HR", Password, [Roles.Employer], EmployerAId, [Clinic], now, default);
        await accounts.EnsureAsync("employer-b@test.local", "Employer B HR", Password, [Roles.Employer], EmployerBId, [Clinic], now, default);
        await accounts.EnsureAsync("norole@test.local", "No Role", Password, [], null, [Clinic], now, default);
        await accounts.EnsureAsync("admin@test.local", "Administrator", Password, [Roles.Administrator], null, [Clinic, OtherClinic], now, default);
        await accounts.EnsureAsync(BothClinicsEmail, "Billing Company", Password, [Roles.BillingAdmin, Roles.Finance], null, [Clinic, OtherClinic], now, default);
        // A database kept from an earlier run holds the accounts with that run's password: give them this one.
        foreach (var user in await accounts.ListAsync(default))
        {
            if (user.Email.EndsWith("@test.local", StringComparison.Ordinal) && !accounts.VerifyPassword(user, Password))
            {
                accounts.SetPassword(user, Password);
                await accounts.SaveAsync(user, default);
            }
        }

        foreach (var clinic in new[] { Clinic, OtherClinic })
        {
            await using var session = Store.LightweightSession(clinic);
            session.Store(new Provider { Id = ProviderId, Name = "Test Provider", Npi = "1234567893", Credentials = "MD" });
            await session.SaveChangesAsync();
        }
    }

    /// <summary>A bearer token for the account, fetched once per run through the real token endpoint.</summary>
    private static readonly AsyncLocal<string?> Acting = new();

    /// <summary>
    /// Until disposed, the tokens of this flow act for <paramref name="clinic"/>: the scenario helpers set up data in it
    /// (the accounts that work for it: billing, finance, admin, company).
    /// </summary>
    public IDisposable ActingFor(string clinic)
    {
        var before = Acting.Value;
        Acting.Value = clinic;
        return new Restore(() => Acting.Value = before);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    public async Task<string> TokenFor(string email, string? clinic = null)
    {
        clinic ??= Acting.Value;
        var key = $"{email}|{clinic}";
        if (_tokens.TryGetValue(key, out var token))
        {
            return token;
        }

        var result = await Host.Scenario(s =>
        {
            s.Post.Json(new TokenRequest(email, Password, null, clinic)).ToUrl("/api/auth/token");
            s.StatusCodeShouldBeOk();
        });
        token = (await result.ReadAsJsonAsync<TokenResponse>())!.AccessToken;
        _tokens[key] = token;
        return token;
    }

    /// <summary>
    /// Empties the event store and every document but accounts, Data Protection keys and providers, with the daemon
    /// paused so it does not see a store move backwards under it.
    /// </summary>
    public async Task ResetDataAsync()
    {
        if (Directory.Exists(ClearinghouseFolder)) Directory.Delete(ClearinghouseFolder, recursive: true);
        var coordinator = Host.Services.GetRequiredService<IProjectionCoordinator>();
        await coordinator.PauseAsync();
        try
        {
            // The durable cascades of the test before may still be writing: a deadlock with them is tried again.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await Store.Advanced.Clean.DeleteAllEventDataAsync(default);
                    await Store.Advanced.Clean.DeleteDocumentsExceptAsync(CancellationToken.None,
                        [typeof(Provider)]);
                    // The rebuild jobs of the platform (global store) belong to the data of the test before.
                    foreach (var type in new[] { typeof(KetamineBilling.Features.Maintenance.RebuildJob), typeof(KetamineBilling.Features.Maintenance.RebuildCancel),
                                 typeof(KetamineBilling.Features.Maintenance.ShardRebuild) })
                    {
                        await Global.Advanced.Clean.DeleteDocumentsByTypeAsync(type, CancellationToken.None);
                    }
                    break;
                }
                catch (Exception e) when (attempt < 5 && IsDeadlock(e))
                {
                    await Task.Delay(200 * attempt);
                }
            }
        }
        finally
        {
            // The clinics' profiles went with the data: their zones are the default again.
            var zones = Host.Services.GetRequiredService<KetamineBilling.Features.Clinic.ClinicZones>();
            zones.Forget(Clinic);
            zones.Forget(OtherClinic);
            await coordinator.ResumeAsync();
        }
    }

    private static bool IsDeadlock(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.DeadlockDetected }) return true;
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        await Mail.DisposeAsync();
        await Stripe.DisposeAsync();
        if (Directory.Exists(ClearinghouseFolder)) Directory.Delete(ClearinghouseFolder, recursive: true);
        await _database.DisposeAsync();
    }
}
