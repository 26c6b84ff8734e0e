using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Maintenance;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// ops/backup.sh and ops/restore.sh: a backup restored into a fresh database (a cluster of the test's own, through
/// ops/postgres.sh ensure-db) runs the app with every balance as it was, and a rebuild of every read model there
/// gives them again.
/// </summary>
public class backing_up_and_restoring(AppFixture fixture) : IntegrationContext(fixture)
{
    private DateOnly Today => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
        .GetRequiredService<KetamineBilling.Infrastructure.ClinicCalendar>(Host.Services).Today();

    private static async Task<(int ExitCode, string Output, string Errors)> Script(string script, IDictionary<string, string> environment, params string[] arguments)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = OwnPostgres.Root() };
        info.ArgumentList.Add(Path.Combine(OwnPostgres.Root(), "ops", script));
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var (key, value) in environment) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, (await output).Trim(), await errors);
    }

    private static async Task<Dictionary<Guid, string>> BalancesAsync(HttpClient api, IEnumerable<Guid> patients)
    {
        var balances = new Dictionary<Guid, string>();
        foreach (var patient in patients)
        {
            balances[patient] = await api.GetStringAsync($"/api/patients/{patient}/balance", TestContext.Current.CancellationToken);
        }

        return balances;
    }

    [Fact]
    public async Task a_backup_restored_into_a_fresh_database_runs_the_app_with_every_balance_and_a_rebuild_equal()
    {
        var ct = TestContext.Current.CancellationToken;
        // Accounts of every kind: self-pay paid in part, insured with a claim filed, a voided session with its money as credit.
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer();
        var patients = new List<Guid>();
        var selfPay = await Fixture.RegisteredPatient("Backup", "Selfpay");
        await Fixture.DeliveredSession(selfPay, Scenarios.Session());
        await Fixture.DeliveredSession(selfPay, Scenarios.Session());
        await Fixture.Post<PaymentResult>($"/api/patients/{selfPay}/payments", new RecordPayment(Guid.NewGuid(), "card", 300m, Today, "VISA 4242"));
        var insured = await Fixture.RegisteredPatient("Backup", "Insured");
        await Fixture.Coverage(insured, payer);
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(insured, Scenarios.Session() with { Funding = ["insurance"] }));
        await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), insured, payer, [session.SessionId]));
        var voided = await Fixture.RegisteredPatient("Backup", "Voided");
        var charge = await Fixture.DeliveredSession(voided, Scenarios.Session());
        await Fixture.Post<PaymentResult>($"/api/patients/{voided}/payments", new RecordPayment(Guid.NewGuid(), "cash", 100m, Today, null));
        await Fixture.Post<object>($"/api/patients/{voided}/sessions/{charge.SessionId}/void", new VoidSession("entered twice"), 200);
        patients.AddRange([selfPay, insured, voided]);
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

        var original = Host.Server.CreateClient();
        original.DefaultRequestHeaders.Authorization = new("Bearer", await Fixture.TokenFor(As.Billing));
        var balances = await BalancesAsync(original, patients);
        var directory = await original.GetStringAsync("/api/patients?pageSize=50&sort=name", ct);
        Assert.Contains("\"totalPaid\":300", balances[selfPay], StringComparison.Ordinal);

        var folder = Path.Combine(Path.GetTempPath(), $"kb-backup-{Guid.NewGuid():N}"[..20]);
        await using var cluster = new OwnPostgres();
        try
        {
            var backup = await Script("backup.sh", new Dictionary<string, string> { ["ConnectionStrings__Marten"] = Fixture.ConnectionString, ["KB_BACKUP_DIR"] = folder });
            Assert.True(backup.ExitCode == 0, $"backup.sh: {backup.Errors}");
            Assert.True(File.Exists(backup.Output), $"backup.sh printed {backup.Output}");
            // The backup holds PHI: readable by its owner only.
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(backup.Output));
            // The master database and every clinic database of the pool (the two clinics of the run are in two of them).
            using (var list = Process.Start(new ProcessStartInfo("tar", ["-tf", backup.Output]) { RedirectStandardOutput = true })!)
            {
                var entries = (await list.StandardOutput.ReadToEndAsync(ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(e => e.TrimStart('.', '/')).ToHashSet();
                Assert.Superset(new HashSet<string> { "master.dump", "shared.dump", "group.dump", "databases.txt" }, entries);
            }

            var restored = await cluster.StartAsync($"kb_restored_{Guid.NewGuid():N}"[..24]);
            var target = new Dictionary<string, string> { ["ConnectionStrings__Marten"] = restored };
            var restore = await Script("restore.sh", target, backup.Output);
            Assert.True(restore.ExitCode == 0, $"restore.sh: {restore.Errors}");
            // A database that holds data is not overwritten unless told.
            var again = await Script("restore.sh", target, backup.Output);
            Assert.Equal(3, again.ExitCode);
            Assert.Contains("not empty", again.Errors, StringComparison.Ordinal);

            await using var app = new AppProcess(restored, Store.Options.DatabaseSchemaName);
            await app.AddUserAsync(AppFixture.Clinic);
            await app.StartAsync();
            var api = await app.ClientAsync();

            Assert.Equal(balances, await BalancesAsync(api, patients));
            Assert.Equal(directory, await api.GetStringAsync("/api/patients?pageSize=50&sort=name", ct));

            // Every read model rebuilt from the restored events: the same balances again.
            var started = await api.PostAsJsonAsync("/api/maintenance/projections/rebuild-all", new { }, ClientCommands.Json, ct);
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            var job = (await started.Content.ReadFromJsonAsync<RebuildJob>(ClientCommands.Json, ct))!;
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!job.Finished)
            {
                Assert.True(DateTime.UtcNow < deadline, "the rebuild on the restored database did not end");
                await Task.Delay(200, ct);
                job = (await api.GetFromJsonAsync<RebuildJob>(started.Headers.Location, ClientCommands.Json, ct))!;
            }

            Assert.True(job.State == RebuildState.Succeeded, $"{job.State}: {job.Error} {app.Errors()}");
            Assert.Equal(balances, await BalancesAsync(api, patients));
            Assert.Equal(directory, await api.GetStringAsync("/api/patients?pageSize=50&sort=name", ct));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }
}
