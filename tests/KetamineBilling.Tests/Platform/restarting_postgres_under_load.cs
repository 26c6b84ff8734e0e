using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// PostgreSQL restarts while the app takes commands: the app recovers without a restart, refuses what it could not
/// save with a 503 (never a 500), no accepted command is lost, retries count once, and the daemon catches up.
/// </summary>
public class restarting_postgres_under_load : IAsyncLifetime
{
    private readonly OwnPostgres _postgres = new();
    private string _connection = "";

    public async ValueTask InitializeAsync() => _connection = await _postgres.StartAsync("kb_fault");

    public ValueTask DisposeAsync() => _postgres.DisposeAsync();

    private sealed record Sent(Guid Patient, bool Payment, object Body, decimal Amount);

    [Fact]
    public async Task the_app_recovers_without_a_restart_and_loses_no_accepted_command()
    {
        var ct = TestContext.Current.CancellationToken;
        var json = ClientCommands.Json;
        await using var app = new AppProcess(_connection, "billing");
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1));
        var api = await app.StartPricedAsync("dr-fault", today);
        var patients = new List<Guid>();
        for (var i = 0; i < 6; i++)
            patients.Add((await (await api.PostAsJsonAsync("/api/patients", new RegisterPatient($"Load{i}", "Patient", new DateOnly(1985, 3, 3), null, null), json, ct))
                .Content.ReadFromJsonAsync<PatientCreated>(json, ct))!.Id);

        // Six clients send sessions and payments for eight seconds; PostgreSQL restarts two seconds in.
        var sent = new System.Collections.Concurrent.ConcurrentBag<(Sent Command, HttpStatusCode Status)>();
        var watch = Stopwatch.StartNew();
        var load = Task.WhenAll(patients.Select(patient => Task.Run(async () =>
        {
            for (var n = 0; watch.Elapsed < TimeSpan.FromSeconds(8); n++)
            {
                var command = n % 2 == 0
                    ? new Sent(patient, false, new DeliverSession(Guid.NewGuid(), today, 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-fault"), 450m)
                    : new Sent(patient, true, new RecordPayment(Guid.NewGuid(), "card", 20m, today, $"load {n}"), 20m);
                HttpStatusCode status;
                try
                {
                    var response = await api.PostAsJsonAsync($"/api/patients/{patient}/{(command.Payment ? "payments" : "sessions")}", command.Body, json, ct);
                    status = response.StatusCode;
                }
                catch (HttpRequestException)
                {
                    status = HttpStatusCode.ServiceUnavailable;
                }

                sent.Add((command, status));
                if (status != HttpStatusCode.Created) await Task.Delay(100, ct);
            }
        }, ct)));
        await Task.Delay(2000, ct);
        await _postgres.StopAsync();
        await Task.Delay(1000, ct);
        await _postgres.StartAgainAsync();
        await load;

        var statuses = sent.GroupBy(s => s.Status).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(statuses.Keys.All(s => s is HttpStatusCode.Created or HttpStatusCode.ServiceUnavailable or HttpStatusCode.Conflict),
            $"statuses: {string.Join(", ", statuses.Select(s => $"{(int)s.Key} x{s.Value}"))}\n{app.Errors()}");
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.ServiceUnavailable) > 0, "the restart refused nothing: it did not land during the load");
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.Created) > 0);

        // The refused ones sent again with the same ids, as a client would: the app answers without being restarted.
        foreach (var (command, _) in sent.Where(s => s.Status != HttpStatusCode.Created))
        {
            for (var attempt = 0; ; attempt++)
            {
                var response = await api.PostAsJsonAsync($"/api/patients/{command.Patient}/{(command.Payment ? "payments" : "sessions")}", command.Body, json, ct);
                if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK) break;
                Assert.True(attempt < 30, $"a retry still answers {(int)response.StatusCode}");
                await Task.Delay(200, ct);
            }
        }

        // Every command counted once: each account's charges and payments are exactly what was sent for it.
        foreach (var patient in patients)
        {
            var balance = (await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", json, ct))!;
            var mine = sent.Where(s => s.Command.Patient == patient).Select(s => s.Command).ToList();
            Assert.Equal((mine.Count(c => !c.Payment), mine.Where(c => c.Payment).Sum(c => c.Amount)), (balance.Sessions.Count, balance.TotalPaid));
        }

        // The daemon caught up: a patient registered now reaches the (async) directory, and the app is ready again.
        var late = (await (await api.PostAsJsonAsync("/api/patients", new RegisterPatient("After", "Restart", new DateOnly(1990, 1, 1), null, null), json, ct))
            .Content.ReadFromJsonAsync<PatientCreated>(json, ct))!.Id;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await api.GetFromJsonAsync<PatientPage>("/api/patients?search=after restart", json, ct))!.Items.All(p => p.Id != late)
               || (await api.GetAsync("/health/ready", ct)).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "the daemon did not catch up within 60 s of the restart");
            await Task.Delay(250, ct);
        }
    }
}
