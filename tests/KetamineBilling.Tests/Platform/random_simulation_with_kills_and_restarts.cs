using System.Net;
using System.Net.Http.Json;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// A seeded random run of commands, duplicates, conflicting resends, app kills (SIGKILL) and PostgreSQL restarts,
/// checking the money after every step against what was accepted. The seed is printed on failure; KB_SIM_SEED replays it.
/// </summary>
public class random_simulation_with_kills_and_restarts : IAsyncLifetime
{
    private readonly OwnPostgres _postgres = new();
    private string _connection = "";

    public async ValueTask InitializeAsync() => _connection = await _postgres.StartAsync("kb_sim");

    public ValueTask DisposeAsync() => _postgres.DisposeAsync();

    /// <summary>A command as sent: where, what, and whether the platform accepted it (a 2xx was seen for its id).</summary>
    private sealed class Sent(Guid patient, bool payment, object body, decimal amount)
    {
        public Guid Patient { get; } = patient;
        public bool Payment { get; } = payment;
        public object Body { get; } = body;
        public decimal Amount { get; } = amount;
        public bool Accepted { get; set; }
        public string Url => $"/api/patients/{Patient}/{(Payment ? "payments" : "sessions")}";
    }

    [Fact]
    public async Task the_money_adds_up_after_every_step_of_a_random_run_with_kills_and_restarts()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("KB_SIM_SEED"), out var given) ? given : Environment.TickCount & 0x7fffffff;
        var random = new Random(seed);
        var ct = TestContext.Current.CancellationToken;
        var json = ClientCommands.Json;
        await using var app = new AppProcess(_connection, "billing");
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1));
        var api = await app.StartPricedAsync("dr-sim", today);
        var patients = new List<Guid>();
        for (var i = 0; i < 3; i++)
            patients.Add((await (await api.PostAsJsonAsync("/api/patients", new RegisterPatient($"Sim{i}", "Patient", new DateOnly(1970, 1, 1), null, null, PatientId: Guid.NewGuid()), json, ct))
                .Content.ReadFromJsonAsync<PatientCreated>(json, ct))!.Id);
        var sent = new List<Sent>();
        var log = new List<string>();

        string Why(string what) => $"seed {seed} (replay with KB_SIM_SEED={seed}), after: {string.Join(" | ", log.TakeLast(6))}: {what}";

        async Task<HttpStatusCode> Send(Sent command, object? body = null)
        {
            try
            {
                return (await api.PostAsJsonAsync(command.Url, body ?? command.Body, json, ct)).StatusCode;
            }
            catch (HttpRequestException)
            {
                return HttpStatusCode.ServiceUnavailable;
            }
        }

        // Whatever was sent but not seen accepted is sent again until the platform answers it, so the expected state is known.
        async Task Settle()
        {
            foreach (var command in sent.Where(c => !c.Accepted))
            {
                for (var attempt = 0; !command.Accepted; attempt++)
                {
                    var status = await Send(command);
                    Assert.True(status is not HttpStatusCode.InternalServerError, Why($"{command.Url} answered 500"));
                    command.Accepted = status is HttpStatusCode.Created or HttpStatusCode.OK;
                    Assert.True(attempt < 60, Why($"{command.Url} is still refused ({(int)status})"));
                    if (!command.Accepted) await Task.Delay(250, ct);
                }
            }
        }

        for (var step = 0; step < 30; step++)
        {
            var roll = random.Next(100);
            // Whatever the seed, the run kills the app once and restarts PostgreSQL once.
            if (step == 10) roll = 85;
            if (step == 20) roll = 95;
            var patient = patients[random.Next(patients.Count)];
            if (roll < 40)
            {
                var command = roll % 2 == 0
                    ? new Sent(patient, false, new DeliverSession(Guid.NewGuid(), today, 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-sim"), 450m)
                    : new Sent(patient, true, new RecordPayment(Guid.NewGuid(), random.Next(2) == 0 ? "card" : "cash", 5m * random.Next(1, 40), today, $"step {step}"), 0m);
                if (command.Payment) command = new Sent(patient, true, command.Body, ((RecordPayment)command.Body).Amount!.Value);
                sent.Add(command);
                var status = await Send(command);
                command.Accepted = status is HttpStatusCode.Created;
                log.Add($"{step}: {(command.Payment ? "payment" : "session")} {(int)status}");
                Assert.True(status is HttpStatusCode.Created or HttpStatusCode.ServiceUnavailable or HttpStatusCode.Conflict, Why($"a new command answered {(int)status}"));
            }
            else if (roll < 65 && sent.Count > 0)
            {
                var again = sent[random.Next(sent.Count)];
                var status = await Send(again);
                log.Add($"{step}: resend {(int)status}");
                if (again.Accepted) Assert.True(status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable or HttpStatusCode.Conflict, Why($"a resend answered {(int)status}"));
                else again.Accepted = status is HttpStatusCode.Created or HttpStatusCode.OK;
            }
            else if (roll < 80 && sent.Any(c => c.Accepted && c.Payment))
            {
                var original = sent.Where(c => c.Accepted && c.Payment).ElementAt(random.Next(sent.Count(c => c.Accepted && c.Payment)));
                var changed = (RecordPayment)original.Body with { Amount = original.Amount + 1m };
                var status = await Send(original, changed);
                log.Add($"{step}: other content under a used key {(int)status}");
                Assert.True(status is HttpStatusCode.Conflict or HttpStatusCode.ServiceUnavailable, Why($"other content under a used key answered {(int)status}"));
            }
            else if (roll < 90)
            {
                log.Add($"{step}: kill -9 and start the app");
                await app.KillAsync();
                await app.StartAsync();
                api = await app.ClientAsync();
            }
            else
            {
                log.Add($"{step}: restart PostgreSQL");
                await _postgres.StopAsync();
                await _postgres.StartAgainAsync();
            }

            await Settle();
            foreach (var p in patients)
            {
                using var read = await api.GetAsync($"/api/patients/{p}/balance", ct);
                Assert.True(read.IsSuccessStatusCode, Why($"the balance read answered {(int)read.StatusCode}: {await read.Content.ReadAsStringAsync(ct)}"));
                var balance = (await read.Content.ReadFromJsonAsync<PatientBalance>(json, ct))!;
                var mine = sent.Where(c => c.Patient == p).ToList();
                Assert.True(mine.Count(c => !c.Payment) == balance.Sessions.Count, Why($"{balance.Sessions.Count} sessions on the account, {mine.Count(c => !c.Payment)} accepted"));
                Assert.True(mine.Where(c => c.Payment).Sum(c => c.Amount) == balance.TotalPaid, Why($"{balance.TotalPaid} paid on the account, {mine.Where(c => c.Payment).Sum(c => c.Amount)} accepted"));
                Assert.True(balance.TotalCharged - balance.TotalPaid - balance.TotalAdjusted + balance.TotalRefunded == balance.TotalOpen - balance.UnappliedCredit,
                    Why("the balance identity does not hold"));
            }
        }

        Assert.Contains(log, l => l.Contains("kill", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("PostgreSQL", StringComparison.Ordinal));
    }
}
