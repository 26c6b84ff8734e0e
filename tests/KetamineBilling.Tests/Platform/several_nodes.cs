using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Maintenance;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Npgsql;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// Two app processes on one database share the work (Distributed mode, ADR 0015): commands go to both, a token of one
/// is accepted by the other, every async read model runs on exactly one node, and when the node holding them is
/// killed with SIGKILL the other takes them over, with no event applied twice and the killed node's messages handled
/// once. The negative control (two nodes each running every shard) makes the same checks fail.
/// </summary>
public class several_nodes(AppFixture fixture) : IAsyncDisposable
{
    private readonly List<string> _schemas = [];

    /// <summary>The nodes' schemas go with the test (their processes are stopped by then).</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var schema in _schemas)
        {
            await TestSchemas.DropAsync(fixture.ConnectionString, schema, schema + "_wolverine");
        }
    }

    private const string Payer = "NODE01";
    private const decimal Price = 450m;

    /// <summary>Heartbeats every second and a node dead after 5 s: the test's take-over in seconds, not the 12 s default.</summary>
    private static Dictionary<string, string> Settings(string mode) => new()
    {
        ["Marten__DaemonMode"] = mode,
        ["Cluster__HealthCheckPolling"] = "00:00:01",
        ["Cluster__StaleNodeTimeout"] = "00:00:05",
        ["Cluster__FirstCheck"] = "00:00:00.500",
        ["Cluster__RecoveryPolling"] = "00:00:01"
    };

    /// <summary>What was sent and accepted: the figures the read models must show exactly.</summary>
    private sealed class Sent
    {
        public int Patients;
        public int Claims;
        public int InsuredSessions;
        public decimal Billed;
    }

    private sealed class World(string connection, string schema, Guid payer, string providerId, DateOnly today)
    {
        public string Connection { get; } = connection;
        public string Schema { get; } = schema;
        public string Messaging => Schema + "_wolverine";

        /// <summary>The async read models' shards of the nodes' clinic, as the nodes list them (PayerMonths second: the take-over's victim runs it).</summary>
        public static readonly string[] ClinicShards = [$"PatientDirectoryEntry:{AppProcess.Clinic}", $"PayerMonths:{AppProcess.Clinic}", $"Aging:{AppProcess.Clinic}", $"Kpis:{AppProcess.Clinic}", $"Exceptions:{AppProcess.Clinic}", $"Journal:{AppProcess.Clinic}"];

        /// <summary>The async read models' shards of the nodes' clinic (a clinic's events have a sequence of their own).</summary>
        private static string Shards => $"'PayerMonths:All:{AppProcess.Clinic}', 'PatientDirectoryEntry:All:{AppProcess.Clinic}', 'Aging:All:{AppProcess.Clinic}', 'Kpis:All:{AppProcess.Clinic}', 'Exceptions:All:{AppProcess.Clinic}'";
        public Sent Sent { get; } = new();

        /// <summary>A patient with coverage and an approved authorization, and <paramref name="sessions"/> insured sessions, the first one claimed.</summary>
        public async Task PatientAsync(HttpClient api, int i, int sessions = 1)
        {
            var ct = TestContext.Current.CancellationToken;
            var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients",
                new RegisterPatient($"Node{i}", "Patient", new DateOnly(1980, 1, 1 + i % 28), null, null, PatientId: Guid.NewGuid()))).Id;
            Sent.Patients++;
            await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
                new RecordCoverage(null, payer, $"MEM{i:000000}", "primary", "GRP-1", CoinsurancePercent: 20m, Copay: 40m, ActiveFrom: today.AddDays(-365)));
            var authorization = Guid.NewGuid();
            await ClientCommands.PostAsync<AuthorizationView>(api, "/api/prior-authorizations", new RequestPriorAuthorization(authorization, patient, payer, ["96365"], 6, ["F33.2"],
                new MedicalNecessityEvidence(["sertraline", "bupropion"], 22, 35, null), today.AddDays(-30)));
            var approved = await api.PostAsJsonAsync($"/api/prior-authorizations/{authorization}/approve",
                new ApprovePriorAuthorization($"PA-{i:0000}", 6, null, today.AddDays(-30), today.AddDays(30)), ClientCommands.Json, ct);
            Assert.True(approved.IsSuccessStatusCode, $"approve answered {(int)approved.StatusCode}");
            for (var s = 0; s < sessions; s++)
            {
                var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
                    new DeliverSession(Guid.NewGuid(), today.AddDays(-s), 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], providerId, ["insurance"]));
                Sent.InsuredSessions++;
                if (s == 0)
                {
                    await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [charge.SessionId]));
                    Sent.Claims++;
                    Sent.Billed += Price;
                }
            }
        }

        public async Task<T> ScalarAsync<T>(string sql)
        {
            await using var connection = new NpgsqlConnection(Connection);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = new NpgsqlCommand(sql, connection);
            var value = await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
            return value is DBNull or null ? default! : (T)Convert.ChangeType(value, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>Every async read model at the newest event, and no message waiting in the inbox (or the deadline passed).</summary>
        public async Task SettledAsync(TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            while (DateTime.UtcNow < deadline)
            {
                var head = await ScalarAsync<long>($"select coalesce(max(seq_id), 0) from {Schema}.mt_events");
                var behind = await ScalarAsync<long>($"select count(*) from {Schema}.mt_event_progression where name in ({Shards}) and last_seq_id < {head}");
                var shards = await ScalarAsync<long>($"select count(*) from {Schema}.mt_event_progression where name in ({Shards})");
                var waiting = await ScalarAsync<long>($"select count(*) from {Messaging}.wolverine_incoming_envelopes where status <> 'Handled'");
                var checks = await ScalarAsync<long>($"select count(distinct data->>'SessionId') from {Schema}.mt_events where type = 'session_authorization_checked'");
                if (behind == 0 && shards == 2 && waiting == 0 && checks >= Sent.InsuredSessions) return;
                await Task.Delay(250, TestContext.Current.CancellationToken);
            }
        }

        /// <summary>
        /// The checks: each async read model ran on exactly one node (<paramref name="views"/>, asked of every node); the
        /// payer-month tallies equal what was sent; every insured session's cascaded message was handled exactly once and
        /// none was dead-lettered. Returns what failed.
        /// </summary>
        public async Task<List<string>> CheckAsync(IReadOnlyList<ClusterView> views, IReadOnlyList<AppProcess> nodes)
        {
            var failures = new List<string>();
            // Two daemons on one shard: Marten refuses the second one's batch (the progression moved under it), which
            // is what keeps an event from being applied twice; a node that says so ran a shard it must not.
            var twiceApplied = nodes.SelectMany(n => n.Output).Count(l => l.Contains("ProgressionProgressOutOfOrder", StringComparison.Ordinal) || l.Contains("pk_mt_event_progression", StringComparison.Ordinal));
            if (twiceApplied > 0) failures.Add($"events: {twiceApplied} log lines of a shard's batch refused because another node had applied it");
            foreach (var name in ClinicShards)
            {
                var on = views.Where(v => v.RunningHere.Contains(name)).Select(v => v.ThisNode).ToList();
                if (on.Count != 1) failures.Add($"shards: {name} runs on {on.Count} nodes ({string.Join(", ", on)})");
            }

            // Every other shard (the databases' own) on at most one node too.
            foreach (var shard in views.SelectMany(v => v.RunningHere).GroupBy(n => n).Where(g => g.Count() > 1))
                failures.Add($"shards: {shard.Key} runs on {shard.Count()} nodes");

            var claims = await ScalarAsync<long>($"select coalesce(sum((data->'Total'->>'Claims')::int), 0) from {Schema}.mt_doc_payermonth");
            var billed = await ScalarAsync<decimal>($"select coalesce(sum((data->'Total'->>'Billed')::numeric), 0) from {Schema}.mt_doc_payermonth");
            var requested = await ScalarAsync<long>($"select coalesce(sum((data->'Total'->>'AuthorizationsRequested')::int), 0) from {Schema}.mt_doc_payermonth");
            if (claims != Sent.Claims || billed != Sent.Billed || requested != Sent.Patients)
                failures.Add($"tallies: payer months count {claims} claims, {billed} billed, {requested} authorizations requested; sent {Sent.Claims}, {Sent.Billed}, {Sent.Patients}");
            var directory = await ScalarAsync<long>($"select count(*) from {Schema}.mt_doc_patientdirectoryentry");
            if (directory != Sent.Patients) failures.Add($"directory: {directory} patients listed, {Sent.Patients} registered");

            var checkedSessions = await ScalarAsync<long>($"select count(distinct data->>'SessionId') from {Schema}.mt_events where type = 'session_authorization_checked'");
            var twice = await ScalarAsync<long>(
                $"select count(*) from (select data->>'SessionId' from {Schema}.mt_events where type = 'session_authorization_checked' group by 1 having count(*) > 1) t");
            if (checkedSessions != Sent.InsuredSessions || twice > 0)
                failures.Add($"messages: {checkedSessions} of {Sent.InsuredSessions} insured sessions checked against their authorization, {twice} more than once");
            // A clinic's cascades are kept in its own database (the outbox in the transaction of its events).
            var dead = await ScalarAsync<long>($"select count(*) from {Messaging}.wolverine_dead_letters");
            if (dead > 0) failures.Add($"messages: {dead} dead letters");
            return failures;
        }

        /// <summary>Every document's body by table and id (jsonb: numbers compared by value).</summary>
        public async Task<Dictionary<string, string>> DocumentsAsync()
        {
            var all = new Dictionary<string, string>();
            await using var connection = new NpgsqlConnection(Connection);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            var tables = new List<string>();
            await using (var list = new NpgsqlCommand($"select table_name from information_schema.tables where table_schema = '{Schema}' and table_name like 'mt_doc_%'", connection))
            await using (var reader = await list.ExecuteReaderAsync(TestContext.Current.CancellationToken))
                while (await reader.ReadAsync(TestContext.Current.CancellationToken)) tables.Add(reader.GetString(0));
            foreach (var table in tables)
            {
                await using var read = new NpgsqlCommand($"select id::text, jsonb_strip_nulls(data)::text from {Schema}.{table}", connection);
                await using var reader = await read.ExecuteReaderAsync(TestContext.Current.CancellationToken);
                while (await reader.ReadAsync(TestContext.Current.CancellationToken)) all[$"{table}:{reader.GetString(0)}"] = reader.GetString(1);
            }

            return all;
        }
    }

    private static async Task<ClusterView> ViewAsync(HttpClient api) =>
        (await api.GetFromJsonAsync<ClusterView>("/api/maintenance/nodes", ClientCommands.Json, TestContext.Current.CancellationToken))!;

    /// <summary>Two nodes started together on a schema of their own, priced, with a payer; the second one's client carries the first one's token.</summary>
    private async Task<(AppProcess A, AppProcess B, HttpClient ApiA, HttpClient ApiB, World World)> TwoNodesAsync(string mode, string schema)
    {
        _schemas.Add(schema);
        var settings = Settings(mode);
        var a = new AppProcess(fixture.ConnectionString, schema, settings);
        var b = new AppProcess(fixture.ConnectionString, schema, settings);
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1));
        await a.AddUserAsync();
        // Together: one key ring (a token of either is good on both), one schema, one leader.
        await Task.WhenAll(a.StartAsync(), b.StartAsync());
        var apiA = await a.ClientAsync();
        var apiB = b.ClientWith(apiA.DefaultRequestHeaders.Authorization);
        var me = await apiB.GetAsync("/api/auth/me", TestContext.Current.CancellationToken);
        Assert.True(me.StatusCode == HttpStatusCode.OK, $"node B refused node A's token: {(int)me.StatusCode}\n{b.Errors()}");
        (await apiA.PutAsJsonAsync("/api/fee-schedule/96365", new KetamineBilling.Features.Fees.SetFeePrice("IV infusion", Price, today.AddYears(-1)), ClientCommands.Json)).EnsureSuccessStatusCode();
        (await apiB.PutAsJsonAsync("/api/providers/dr-nodes", new KetamineBilling.Features.Providers.SetProvider("Node Provider", "1234567893", "MD"), ClientCommands.Json)).EnsureSuccessStatusCode();
        var payer = (await ClientCommands.PostAsync<PayerCreated>(apiA, "/api/payers", new CreatePayer("Node Health", Payer, "commercial", "in-network"))).Id;
        // The nodes' clinic lives in the shared clinic database: that is where its events, read models and messages are.
        return (a, b, apiA, apiB, new World(fixture.ClinicConnectionString, schema, payer, "dr-nodes", today));
    }

    /// <summary>Waits until the nodes' own answers show every async read model running somewhere (the leader has assigned them).</summary>
    private static async Task<IReadOnlyList<ClusterView>> AssignedAsync(IReadOnlyList<HttpClient> apis, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var views = new List<ClusterView>();
            foreach (var api in apis) views.Add(await ViewAsync(api));
            var running = views.SelectMany(v => v.RunningHere).ToHashSet();
            if (running.IsSupersetOf(World.ClinicShards) || watch.Elapsed > within) return views;
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task two_nodes_share_the_work_and_the_survivor_takes_over_the_shards_and_messages_of_a_killed_node()
    {
        var schema = "nodes_" + Guid.NewGuid().ToString("N")[..8];
        var (a, b, apiA, apiB, world) = await TwoNodesAsync("Distributed", schema);
        await using var _a = a;
        await using var _b = b;
        HttpClient[] apis = [apiA, apiB];

        // Commands to both nodes.
        for (var i = 0; i < 8; i++) await world.PatientAsync(apis[i % 2], i);
        var views = await AssignedAsync(apis, TimeSpan.FromSeconds(60));
        Assert.Equal(2, views[0].Nodes.Count);
        Assert.All(views, v => Assert.Equal("Distributed", v.Mode));
        Assert.Single(views[0].Nodes, n => n.Leader);
        var before = await world.CheckAsync(views, [a, b]);
        Assert.True(before.Count(f => f.StartsWith("shards:", StringComparison.Ordinal)) == 0, string.Join("\n", before));

        // The node running the payer months dies with work of its own in flight: its sessions' cascaded messages may
        // still sit in its inbox when it is killed.
        var victim = views.Single(v => v.RunningHere.Contains(World.ClinicShards[1])).ThisNode == views[0].ThisNode ? 0 : 1;
        var (dying, survivor, survivorApi) = victim == 0 ? (a, b, apiB) : (b, a, apiA);
        for (var i = 8; i < 12; i++) await world.PatientAsync(apis[victim], i, sessions: 2);
        var killed = Stopwatch.StartNew();
        await dying.KillAsync();

        // The survivor takes over every shard (its own daemon's word).
        ClusterView after;
        do
        {
            after = await ViewAsync(survivorApi);
            Assert.True(killed.Elapsed < TimeSpan.FromSeconds(30), $"the survivor runs {string.Join(", ", after.RunningHere)} 30 s after the kill\n{survivor.Errors()}");
            if (!World.ClinicShards.All(after.RunningHere.Contains)) await Task.Delay(100, TestContext.Current.CancellationToken);
        } while (!World.ClinicShards.All(after.RunningHere.Contains));

        var takeover = killed.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"take-over after kill -9: {takeover.TotalSeconds:0.0} s");

        // Work goes on on the survivor; then everything settles.
        for (var i = 12; i < 14; i++) await world.PatientAsync(survivorApi, i);
        await world.SettledAsync(TimeSpan.FromSeconds(60));
        var failures = await world.CheckAsync([after], [a, b]);
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\n" + survivor.Errors());
        // The dead node's row goes once it has been silent for two heartbeats past the timeout (its messages released with it).
        for (var ejected = Stopwatch.StartNew(); (await ViewAsync(survivorApi)).Nodes.Count > 1; await Task.Delay(250, TestContext.Current.CancellationToken))
            Assert.True(ejected.Elapsed < TimeSpan.FromSeconds(30), "the killed node is still listed 30 s later");

        // The read models equal a rebuild from the events, run where the shards live (the survivor, now).
        var live = await world.DocumentsAsync();
        var asked = await survivorApi.PostAsync("/api/maintenance/projections/rebuild-all", null, TestContext.Current.CancellationToken);
        Assert.True(asked.StatusCode == HttpStatusCode.Accepted, $"rebuild-all answered {(int)asked.StatusCode}: {await asked.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        var job = (await asked.Content.ReadFromJsonAsync<RebuildJob>(ClientCommands.Json, TestContext.Current.CancellationToken))!;
        RebuildJob? done = null;
        for (var wait = Stopwatch.StartNew(); done is not { Finished: true } && wait.Elapsed < TimeSpan.FromMinutes(3);)
        {
            await Task.Delay(250, TestContext.Current.CancellationToken);
            done = await survivorApi.GetFromJsonAsync<RebuildJob>($"/api/maintenance/rebuilds/{job.Id}", ClientCommands.Json, TestContext.Current.CancellationToken);
        }

        Assert.True(done is { State: RebuildState.Succeeded }, $"the rebuild ended {done?.State}: {done?.Error}\n{survivor.Errors()}");
        // The rebuild's records are the platform's (the global store, in the master database).
        var shardsRebuilt = await new World(fixture.ConnectionString, schema, Guid.Empty, "", default).ScalarAsync<long>(
            $"select count(*) from {Persistence.SchemasBeside(schema).Global}.mt_doc_shardrebuild where data->>'JobId' = '{job.Id}' and data->>'State' in ('Succeeded', '2') and (data->>'Node')::int = {after.ThisNode}");
        Assert.Equal(World.ClinicShards.Length, shardsRebuilt);
        var rebuilt = await world.DocumentsAsync();
        Assert.Equal(live.Keys.Order(), rebuilt.Keys.Order());
        Assert.All(live, d => Assert.True(rebuilt[d.Key] == d.Value, $"{d.Key} differs after a rebuild"));
    }

    [Fact]
    public async Task the_negative_control_two_nodes_each_running_every_shard_fails_the_same_checks()
    {
        var schema = "nodes_" + Guid.NewGuid().ToString("N")[..8];
        var (a, b, apiA, apiB, world) = await TwoNodesAsync("Solo", schema);
        await using var _a = a;
        await using var _b = b;
        HttpClient[] apis = [apiA, apiB];
        for (var i = 0; i < 8; i++) await world.PatientAsync(apis[i % 2], i);
        await world.SettledAsync(TimeSpan.FromSeconds(20));
        var views = new[] { await ViewAsync(apiA), await ViewAsync(apiB) };

        var failures = await world.CheckAsync(views, [a, b]);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join("\n", failures));
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join("\n", a.Output.Concat(b.Output).Where(l => l.Contains("rogress", StringComparison.Ordinal) || l.Contains("xception", StringComparison.Ordinal)).Take(40)));
        Assert.Contains(failures, f => f.StartsWith("shards: PayerMonths runs on 2 nodes", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("shards: PatientDirectoryEntry runs on 2 nodes", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("events:", StringComparison.Ordinal));
    }
}
