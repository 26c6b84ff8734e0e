// The benchmark harness (ops/bench.sh starts PostgreSQL and the app, then runs this). It measures PostgreSQL's own
// limit here (the baseline), then the platform's real work over HTTP, and writes docs/benchmarks.md and a JSON file.
// Usage: KetamineBilling.Bench <app-url> <connection-string> <app-pid> <output-folder>
// KB_BENCH_ONLY=nodes also reads from ops/bench.sh: KB_BENCH_URL2 (the second node's address), KB_BENCH_NODE (the
// command that starts a node) and KB_BENCH_NODE_PIDS (where the nodes it starts are listed, for ops/bench.sh to stop).
// KB_BENCH_ONLY=clinics (ClinicsBench.cs) reads KB_BENCH_DBS_CONNECTION too (the second installation ops/bench.sh made).
// The connection string is the master database's (ADR 0016): the bench clinic's events and documents are in its own
// database, which the harness finds in Marten's clinic registry (Installation.cs).
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using KetamineBilling.Bench;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Maintenance;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Providers;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;
using NpgsqlTypes;
using Npgsql;

var baseUrl = args[0];
var connectionString = args[1];
var appPid = int.Parse(args[2], CultureInfo.InvariantCulture);
var output = args[3];
var seconds = int.Parse(Environment.GetEnvironmentVariable("KB_BENCH_SECONDS") ?? "10", CultureInfo.InvariantCulture);
var claimCount = int.Parse(Environment.GetEnvironmentVariable("KB_BENCH_CLAIMS") ?? "10000", CultureInfo.InvariantCulture);
var password = Environment.GetEnvironmentVariable("KB_USER_PASSWORD") ?? "Bench-pass-1";
// KB_BENCH_ONLY: "commands" runs the baseline and scenario 2 only; "memory" runs the work where the app's memory peaks
// (the 835 import, the bulk load, rebuild-all) and prints memory by phase. Neither writes the report: they compare settings.
// "nodes" runs the baseline's single-row commits and scenario 8 (two nodes) and writes docs/benchmarks-nodes.md;
// "clinics" the baseline's single-row commits and scenarios 9-11 (many clinics) and writes docs/benchmarks-clinics.md.
var only = Environment.GetEnvironmentVariable("KB_BENCH_ONLY");
// The clinic ops/bench.sh onboards and the harness's account acts for.
const string BenchClinic = "bench";
var figures = new List<Figure>();
void Add(Figure f)
{
    figures.Add(f);
    Console.WriteLine($"{f.Scenario,-28} {f.Name,-44} {Stats.F(f.Value, 2),12} {f.Unit}{(f.Goal is null ? "" : $"  (goal {f.Goal}: {(f.Met == true ? "met" : "missed")})")}");
}

var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
// The harness's own connections are named, so that the app's connections are counted apart from them.
await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "kb-bench" }.ConnectionString);
// The master database and the clinic databases (every node has a pool to each): the app's connections are counted over all.
await using var installation = await Installation.OpenAsync(connectionString);
var clinicDataSource = installation.ForClinic(BenchClinic);

// The clinics' run measures PostgreSQL's transactions at rest: the sampler's own queries would count.
await using var sampler = new Sampler(appPid, installation.AppConnectionsByDatabaseAsync) { Paused = only == "clinics" };
sampler.Start();

// 1. Baseline: PostgreSQL's own limit for event-sized jsonb rows, measured in this run.
const string EventJson = """{"patientId":"0195a1a0-0000-7000-8000-000000000101","sessionId":"0195a1a0-0001-7000-8000-000101000001","deliveredOn":"2026-11-02","lines":[{"code":"96365","units":1,"amount":450.00},{"code":"J3490","units":1,"amount":60.00}],"providerId":"dr-patel","funding":["insurance"],"chargedAt":"2026-11-02T15:00:00Z"}""";
await using (var c = await dataSource.OpenConnectionAsync())
{
    await using var cmd = new NpgsqlCommand("drop table if exists bench_baseline; create unlogged table if not exists bench_dummy(id int); drop table bench_dummy; create table bench_baseline(id bigserial primary key, stream uuid not null, data jsonb not null, at timestamptz not null default now())", c);
    await cmd.ExecuteNonQueryAsync();
}

async Task<double> SingleRows(int connections)
{
    var watch = Stopwatch.StartNew();
    var count = 0;
    await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
    {
        await using var c = await dataSource.OpenConnectionAsync();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            await using var tx = await c.BeginTransactionAsync();
            await using var cmd = new NpgsqlCommand("insert into bench_baseline(stream, data) values ($1, $2::jsonb)", c, tx);
            cmd.Parameters.AddWithValue(Guid.NewGuid());
            cmd.Parameters.AddWithValue(EventJson);
            await cmd.ExecuteNonQueryAsync();
            await tx.CommitAsync();
            Interlocked.Increment(ref count);
        }
    })));
    return count / watch.Elapsed.TotalSeconds;
}

var single1 = only == "memory" ? 1 : await SingleRows(1);
var single8 = only == "memory" ? 1 : await SingleRows(8);
Add(new Figure("1. Baseline (raw Npgsql)", "single-row INSERT+COMMIT, 1 connection", single1, "rows/s"));
Add(new Figure("1. Baseline (raw Npgsql)", "single-row INSERT+COMMIT, 8 connections", single8, "rows/s"));
// The nodes' report is held to the single-row figure only: no batches or COPY there (most of a gigabyte of WAL).
var bulkBaseline = only is not ("memory" or "nodes" or "clinics");
// Issue 17's ratios: the 835's claim payments over 100-row batches, a rebuild's events over COPY.
var batch100 = double.NaN;
var copyRows = double.NaN;
if (bulkBaseline)
{
    var watch = Stopwatch.StartNew();
    var rows = 0;
    await using var c = await dataSource.OpenConnectionAsync();
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        var sql = new StringBuilder("insert into bench_baseline(stream, data) values ");
        await using var tx = await c.BeginTransactionAsync();
        await using var cmd = new NpgsqlCommand { Connection = c, Transaction = tx };
        for (var i = 0; i < 100; i++)
        {
            sql.Append(i == 0 ? "" : ",").Append($"(${2 * i + 1}, ${2 * i + 2}::jsonb)");
            cmd.Parameters.AddWithValue(Guid.NewGuid());
            cmd.Parameters.AddWithValue(EventJson);
        }

        cmd.CommandText = sql.ToString();
        await cmd.ExecuteNonQueryAsync();
        await tx.CommitAsync();
        rows += 100;
    }

    batch100 = rows / watch.Elapsed.TotalSeconds;
    Add(new Figure("1. Baseline (raw Npgsql)", "100-row batches, 1 connection", batch100, "rows/s"));
}
if (bulkBaseline)
{
    var watch = Stopwatch.StartNew();
    var rows = 0;
    await using var c = await dataSource.OpenConnectionAsync();
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        await using var writer = await c.BeginBinaryImportAsync("copy bench_baseline(stream, data) from stdin (format binary)");
        for (var i = 0; i < 10_000; i++)
        {
            await writer.StartRowAsync();
            await writer.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid);
            await writer.WriteAsync(EventJson, NpgsqlDbType.Jsonb);
        }

        await writer.CompleteAsync();
        rows += 10_000;
    }

    copyRows = rows / watch.Elapsed.TotalSeconds;
    Add(new Figure("1. Baseline (raw Npgsql)", "COPY (binary), 1 connection", copyRows, "rows/s"));
}

await using (var c = await dataSource.OpenConnectionAsync())
{
    await using var cmd = new NpgsqlCommand("drop table bench_baseline", c);
    await cmd.ExecuteNonQueryAsync();
}

// The PostgreSQL cluster's postmaster: its processes' CPU time is PostgreSQL's share of a command.
int postmaster;
await using (var c = await dataSource.OpenConnectionAsync()) postmaster = Cpu.Parent(c.ProcessID);

// The app, signed in as a billing administrator; prices, a provider and a payer to work with.
var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
var http = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromMinutes(5) };
// A token acts for one clinic (ADR 0016): the bench clinic.
var token = (await (await http.PostAsJsonAsync("/api/auth/token", new TokenRequest("bench@bench.local", password, Clinic: BenchClinic), json)).Content.ReadFromJsonAsync<TokenResponse>(json))!.AccessToken;
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

// 9-11. Many clinics (KB_BENCH_ONLY=clinics, a run of its own): ClinicsBench.cs writes docs/benchmarks-clinics.md.
if (only == "clinics")
{
    await new ClinicsBench(new ClinicsBench.Context(new Uri(baseUrl), appPid, output, seconds, password, single1, single8, Add, figures, json, handler, http, installation)).RunAsync();
    return;
}

async Task<HttpResponseMessage> Send(Func<Task<HttpResponseMessage>> call)
{
    for (var attempt = 0; ; attempt++)
    {
        var response = await call();
        if (response.StatusCode != System.Net.HttpStatusCode.Conflict || attempt == 10) return response;
        await Task.Delay(10 * (attempt + 1));
    }
}

// Until every async read model has read the newest event.
async Task CaughtUp()
{
    while (true)
    {
        var states = await http.GetFromJsonAsync<List<ProjectionState>>("/api/maintenance/projections", json);
        if (states!.Where(s => s.Lifecycle == "async").All(s => s.Position >= s.NewestEvent)) return;
        await Task.Delay(100);
    }
}

async Task<T> Post<T>(string url, object body)
{
    var response = await Send(() => http.PostAsJsonAsync(url, body, json));
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    return (await response.Content.ReadFromJsonAsync<T>(json))!;
}

var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
(await http.PutAsJsonAsync("/api/fee-schedule/96365", new SetFeePrice("IV infusion, initial hour", 450m, today.AddYears(-2)), json)).EnsureSuccessStatusCode();
(await http.PutAsJsonAsync("/api/fee-schedule/J3490", new SetFeePrice("Ketamine", 60m, today.AddYears(-2)), json)).EnsureSuccessStatusCode();
(await http.PutAsJsonAsync("/api/providers/dr-bench", new SetProvider("Bench Provider", "1234567893", "MD"), json)).EnsureSuccessStatusCode();
var payer = (await Post<PayerCreated>("/api/payers", new CreatePayer("Bench Health", "BENCH1", "commercial", "in-network"))).Id;

async Task<Guid[]> Patients(int count, int first)
{
    var ids = new Guid[count];
    await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) => ids[i] = await Patient(first + i));
    return ids;
}

async Task<Guid> Patient(int n) => (await Post<PatientCreated>("/api/patients", new RegisterPatient($"Bench{n}", "Patient", new DateOnly(1980, 1, 1).AddDays(n % 9000), null, null))).Id;

DeliverSession Session(DateOnly on, string funding, params string[] codes) =>
    new(Guid.NewGuid(), on, 45, "main-clinic", codes.Select(c => new SessionLineInput(c, 1)).ToList(), ["F33.2"], "dr-bench", [funding]);

sampler.Phase = "2. commands";
// Scenario 2's work: each client through patients of its own, a session delivered then a payment, and again. With
// several nodes, the clients are spread evenly over them (client i on node i mod n).
Func<int, int, Task<bool>> SessionsAndPayments(Guid[] patients, int perClient, IReadOnlyList<HttpClient> nodes) => async (client, n) =>
{
    var patient = patients[client * perClient + n / 2 % perClient];
    var node = nodes[client % nodes.Count];
    var response = n % 2 == 0
        ? await node.PostAsJsonAsync($"/api/patients/{patient}/sessions", Session(today, "self-pay", "96365"), json)
        : await node.PostAsJsonAsync($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "card", 25m, today, "bench"), json);
    return response.IsSuccessStatusCode;
};

// 8. Two nodes (KB_BENCH_ONLY=nodes, a run of its own): scenario 2's work at 16 clients on one node alone, then on two
// nodes of one database, the clients spread over both or all on one; the CPU a command costs the nodes and PostgreSQL;
// and how long after a kill -9 of the node running PayerMonths the survivor runs every async read model, with the
// production timings (no Cluster settings: a heartbeat every 3 s, a node silent for 12 s is dead).
if (only == "nodes")
{
    sampler.Phase = "8. two nodes";
    const string Scenario = "8. Two nodes";
    // Loads of 30 s (KB_BENCH_NODE_SECONDS): in loads of 10 s one node's two loads ran 256 and 437 commands/s in one run
    // and the ratio of two nodes to one swung from 0.77 to 1.01 between runs; over 30 s loads it was 0.93 and 0.94 in two
    // runs (ADR 0015).
    var loadSeconds = int.Parse(Environment.GetEnvironmentVariable("KB_BENCH_NODE_SECONDS") ?? "30", CultureInfo.InvariantCulture);
    // The bench clinic's shard of each async read model, as the nodes view names it (Projection:clinic, ADR 0016).
    var readModels = (await http.GetFromJsonAsync<List<ProjectionState>>("/api/maintenance/projections", json))!.Where(s => s.Lifecycle == "async")
        .Select(s => $"{s.Name}:{BenchClinic}").ToList();
    var secondUrl = new Uri(Environment.GetEnvironmentVariable("KB_BENCH_URL2") ?? "http://127.0.0.1:5098");
    var secondApi = new HttpClient(handler, disposeHandler: false) { BaseAddress = secondUrl, Timeout = http.Timeout };
    secondApi.DefaultRequestHeaders.Authorization = http.DefaultRequestHeaders.Authorization;
    BenchNode[] nodes = [BenchNode.Running(new Uri(baseUrl), appPid, http, json), BenchNode.NotStarted(secondUrl, secondApi, json)];
    // 16 clients spread over the serving nodes, after a 5 s warm-up on patients of their own (a node compiles its code in
    // its first seconds of work). The CPU of every running node is counted from the load's start, with the read models
    // caught up with what came before, to their catching up with the load: each command's share of the async
    // projections is its cost too.
    async Task<NodesLoad> Measured(IReadOnlyList<BenchNode> running, IReadOnlyList<BenchNode> serving, int firstPatient)
    {
        var apis = serving.Select(n => n.Api).ToList();
        await Load.RunAsync(16, TimeSpan.FromSeconds(5), SessionsAndPayments(await Patients(16 * 20, firstPatient), 20, apis));
        var patients = await Patients(16 * 150, firstPatient + 10_000);
        await CaughtUp();
        var nodeTicks = running.Select(n => Cpu.Ticks(n.Pid)).ToArray();
        var postgresTicks = Cpu.PostgresTicks(postmaster);
        var load = await Load.RunAsync(16, TimeSpan.FromSeconds(loadSeconds), SessionsAndPayments(patients, 150, apis));
        await CaughtUp();
        return new NodesLoad(load, running.Select((n, i) => Cpu.Ticks(n.Pid) - nodeTicks[i]).ToArray(), Cpu.PostgresTicks(postmaster) - postgresTicks);
    }

    // The cost of the cluster with no work: the CPU the nodes and PostgreSQL use in a second of a quiet KB_BENCH_SECONDS
    // (heartbeats, the leader's checks, the daemons' and the durability agent's polling, the harness's sampling), after
    // as long again for what a load leaves behind (a node works for some seconds after one: compiling, collecting).
    async Task<Figure> Idle(string nodesName, IReadOnlyList<BenchNode> running)
    {
        await Task.Delay(TimeSpan.FromSeconds(loadSeconds));
        var nodeTicks = running.Sum(n => Cpu.Ticks(n.Pid));
        var postgresTicks = Cpu.PostgresTicks(postmaster);
        var quiet = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(loadSeconds));
        double MsPerSecond(long ticks) => ticks / Cpu.TicksPerSecond * 1000 / quiet.Elapsed.TotalSeconds;
        return new Figure(Scenario, $"{nodesName}, idle: app CPU a second", MsPerSecond(running.Sum(n => Cpu.Ticks(n.Pid)) - nodeTicks), "ms/s",
            Note: $"PostgreSQL {Stats.F(MsPerSecond(Cpu.PostgresTicks(postmaster) - postgresTicks), 1)} ms/s");
    }

    Load AddLoads(string nodesName, IReadOnlyList<NodesLoad> loads, string placement)
    {
        var all = NodesLoad.Combined(loads);
        var load = all.Load;
        Add(new Figure(Scenario, $"{nodesName}: throughput", load.PerSecond, "commands/s", RatioToBaseline: load.PerSecond / single8,
            Note: $"{loads.Count} loads of {loadSeconds} s: {string.Join(" and ", loads.Select(l => Stats.F(l.Load.PerSecond, 0)))} commands/s; {placement}"));
        Add(new Figure(Scenario, $"{nodesName}: p99 latency", Stats.Percentile(load.LatenciesMs, 99), "ms",
            Note: $"p50 {Stats.F(Stats.Percentile(load.LatenciesMs, 50), 2)} ms"));
        Add(new Figure(Scenario, $"{nodesName}: errors", load.Errors, "requests"));
        var app = Cpu.MsPerCommand(all.NodeTicks.Sum(), load.Ok);
        var postgres = Cpu.MsPerCommand(all.PostgresTicks, load.Ok);
        Add(new Figure(Scenario, $"{nodesName}: app CPU a command", app, "ms",
            Note: all.NodeTicks.Length == 1 ? $"{load.Ok:N0} commands" : $"{load.Ok:N0} commands; by node: {string.Join(", ", all.NodeTicks.Select(t => $"{Stats.F(Cpu.MsPerCommand(t, load.Ok), 2)} ms"))}"));
        Add(new Figure(Scenario, $"{nodesName}: PostgreSQL CPU a command", postgres, "ms",
            Note: $"app and PostgreSQL together {Stats.F(app + postgres, 2)} ms a command: a core serves about {Stats.F(1000 / (app + postgres), 0)} commands/s"));
        return load;
    }

    // Three ways to serve the load: one node alone (the second not running: an idle node would still take a shard); two
    // nodes with the clients spread over both (what a load balancer does); two nodes with every client on the first,
    // the second running a read model only: the cluster's coordination without a second process serving requests on
    // the same cores. Measured in the order A B C C B A: on this machine scenario 2 gave from 250 to 466 commands/s in
    // runs minutes apart, and in this order a drift weighs on all alike. The leader spreads the read models first.
    var (views, settled) = await BenchNode.SettledAsync(nodes[..1], readModels, TimeSpan.FromSeconds(60));
    var onePlacement = BenchNode.Placement(views) + (settled ? "" : " (not settled after 60 s)");
    List<NodesLoad> one = [await Measured(nodes[..1], nodes[..1], 500_000)];
    var oneIdle = await Idle("one node", nodes[..1]);
    await nodes[1].StartAsync();
    (views, settled) = await BenchNode.SettledAsync(nodes, readModels, TimeSpan.FromSeconds(90));
    // The second node has just started: 15 s of the clients' work on it alone before the loads, as the first had work
    // before its own (registering every patient, its warm-up), so that both compare warm (a cold node compiles its code
    // as it serves: the first spread load ran 237 commands/s and the second 286 without this).
    await Load.RunAsync(16, TimeSpan.FromSeconds(15), SessionsAndPayments(await Patients(16 * 60, 510_000), 60, [nodes[1].Api]));
    var twoPlacement = BenchNode.Placement(views) + (settled ? "" : " (not settled after 90 s)");
    List<NodesLoad> spread = [await Measured(nodes, nodes, 520_000)];
    List<NodesLoad> front = [await Measured(nodes, nodes[..1], 540_000), await Measured(nodes, nodes[..1], 560_000)];
    spread.Add(await Measured(nodes, nodes, 580_000));
    var twoIdle = await Idle("two nodes", nodes);
    await nodes[1].StopAsync();
    (views, settled) = await BenchNode.SettledAsync(nodes[..1], readModels, TimeSpan.FromSeconds(90));
    if (!settled) onePlacement += $"; after the second node stopped: {BenchNode.Placement(views)} (not settled after 90 s)";
    one.Add(await Measured(nodes[..1], nodes[..1], 600_000));

    var onePerSecond = AddLoads("one node, 16 clients", one, onePlacement).PerSecond;
    Add(oneIdle);
    var spreadRatio = AddLoads("two nodes, 8 clients on each", spread, twoPlacement).PerSecond / onePerSecond;
    Add(twoIdle);
    Add(new Figure(Scenario, "two nodes, 8 clients on each, over one node: throughput", spreadRatio, "x", ">= 0.90", spreadRatio >= 0.90,
        Note: $"the same {Environment.ProcessorCount} cores serve both nodes and PostgreSQL: coordination and CPU contention together"));
    var frontRatio = AddLoads("two nodes, 16 clients on the first", front, twoPlacement + "; the second serves no request").PerSecond / onePerSecond;
    Add(new Figure(Scenario, "two nodes, 16 clients on the first, over one node: throughput", frontRatio, "x",
        Note: "the coordination of two nodes without the contention of a second serving process (and a read model's work moved off the serving node)"));

    // The take-over trials start from two nodes with the read models spread.
    await nodes[1].StartAsync();
    (views, _) = await BenchNode.SettledAsync(nodes, readModels, TimeSpan.FromSeconds(90));

    // Take-over, three times: kill -9 the node running PayerMonths, poll the survivor every 100 ms until it runs every
    // async read model itself; then restart the killed node and let the leader spread the read models again.
    var takeovers = new List<(double Seconds, string Victim)>();
    for (var trial = 1; trial <= 3; trial++)
    {
        var victimAt = Array.FindIndex(views.ToArray(), v => v.RunningHere.Contains($"PayerMonths:{BenchClinic}"));
        if (victimAt < 0) throw new InvalidOperationException($"no node runs PayerMonths: {BenchNode.Placement(views)}");
        var (victim, survivor) = (nodes[victimAt], nodes[1 - victimAt]);
        var led = views[victimAt].Nodes.Any(n => n.Number == views[victimAt].ThisNode && n.Leader);
        var killed = Stopwatch.StartNew();
        await victim.KillAsync();
        while (!readModels.All((await survivor.ViewAsync()).RunningHere.Contains) && killed.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(100);
        takeovers.Add((killed.Elapsed.TotalSeconds, led ? "the leader" : "not the leader"));
        Console.WriteLine($"take-over {trial}: {Stats.F(killed.Elapsed.TotalSeconds, 1)} s (the killed node was {takeovers[^1].Victim})");
        await victim.StartAsync();
        (views, _) = await BenchNode.SettledAsync(nodes, readModels, TimeSpan.FromSeconds(90));
    }

    var trials = takeovers.Select(t => t.Seconds).ToList();
    var median = Stats.Percentile(trials, 50);
    var most = trials.Max();
    var each = "trials: " + string.Join(", ", takeovers.Select(t => $"{Stats.F(t.Seconds, 1)} s (killed node {t.Victim})"));
    Add(new Figure(Scenario, $"take-over after kill -9, median of {trials.Count}", median, "s", "<= 30 s", median <= 30, Note: each));
    Add(new Figure(Scenario, $"take-over after kill -9, most of {trials.Count}", most, "s", "<= 30 s", most <= 30, Note: "a survivor not running every read model after 2 minutes counts as 120 s"));

    var report = new StringBuilder();
    report.AppendLine("# Benchmarks: two nodes").AppendLine();
    report.AppendLine($"Measured by `KB_BENCH_ONLY=nodes ops/bench.sh` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. Machine: {await Report.MachineAsync(dataSource)}.").AppendLine();
    report.AppendLine($"Scenario 2's work (16 clients, each through patients of its own, a session delivered then a payment, and again) ran in loads of {loadSeconds} s, " +
                      "each after a 5 s warm-up, served three ways: by one node alone; by two nodes with the clients spread evenly over both (one token, good on " +
                      "both: one key ring in PostgreSQL); by two nodes with every client on the first, the second running a read model only. The order was " +
                      "one, spread, first only, first only, spread, one (the second node stopped with SIGTERM for the last), so that a drift in the machine's " +
                      "speed during the run weighs on all alike. The nodes are Release builds on one database, as production runs them " +
                      "(`Marten:DaemonMode=Distributed`, the default: Wolverine's leader gives each async read model's shard to one live node). CPU a command is " +
                      "user + system time from `/proc/<pid>/stat` of the node processes and of the PostgreSQL cluster's processes (the postmaster, its children " +
                      "and its exited children: run it on a cluster that serves nothing else), from each load's start to the async read models caught up with " +
                      $"it, over the commands that succeeded; idle is the same CPU a second over {loadSeconds} s with no load, {loadSeconds} s after the loads on those " +
                      "nodes. The ratio to baseline is over scenario 1's single-row INSERT+COMMIT at 8 connections measured in the same run.").AppendLine();
    report.AppendLine("Take-over: with the production timings (a heartbeat every 3 s, a node silent for 12 s is dead), the node running PayerMonths " +
                      "(`runningHere` of `GET /api/maintenance/nodes`) is killed with SIGKILL and the survivor asked every 100 ms until it runs every async read " +
                      "model; the killed node is then restarted and the leader spreads the read models again before the next trial. A killed leader is " +
                      "replaced at the survivor's next heartbeat, which then finds the dead node stale like any other.").AppendLine();
    Report.Table(report, figures);
    report.AppendLine().AppendLine($"On {Environment.ProcessorCount} cores the nodes share the same cores with each other, with PostgreSQL and with the harness's " +
                                   "clients: a second node adds no CPU here, so the ratio of two nodes to one shows the cost of coordination (heartbeats, the leader's " +
                                   "checks, a second daemon and connection pool) plus the contention of two processes for the same cores, not the gain of a second " +
                                   "machine. The idle figures are the coordination at rest; the first-only loads are the coordination under load without a second " +
                                   "serving process. To size a deployment, use the CPU a command: a core serves about 1000 / (app ms) commands a second in the " +
                                   "nodes and 1000 / (PostgreSQL ms) in PostgreSQL.");
    Directory.CreateDirectory(output);
    await File.WriteAllTextAsync(Path.Combine(output, "benchmarks-nodes.md"), report.ToString());
    Console.WriteLine($"wrote {Path.Combine(output, "benchmarks-nodes.md")}");
    return;
}

// KB_BENCH_TRACE (a folder; ops/profile.sh sets it): the 16-client load is profiled while it runs, with dotnet-trace's
// thread-time samples of the app (commands.nettrace), dotnet-counters' runtime, ASP.NET Core and Npgsql counters
// (counters.csv) and perf's CPU samples of the whole machine (commands.perf.data), the tools found on the PATH.
var traceFolder = Environment.GetEnvironmentVariable("KB_BENCH_TRACE");
List<Process> StartProfilers(int pid, int forSeconds, string name = "commands")
{
    if (traceFolder is null) return [];
    Directory.CreateDirectory(traceFolder);
    var duration = TimeSpan.FromSeconds(forSeconds).ToString(@"dd\:hh\:mm\:ss", CultureInfo.InvariantCulture);
    string[][] commands =
    [
        ["dotnet-trace", "collect", "-p", $"{pid}", "--profile", "dotnet-sampled-thread-time", "--duration", duration, "-o", Path.Combine(traceFolder, $"{name}.nettrace")],
        ["dotnet-counters", "collect", "-p", $"{pid}", "--duration", duration, "--format", "csv", "-o", Path.Combine(traceFolder, $"{name}-counters.csv"),
            "--counters", "System.Runtime,Microsoft.AspNetCore.Hosting,Npgsql"],
        // CPU samples of every process (the app, PostgreSQL's backends, the harness): where the cores' time goes. The app
        // names its JIT-compiled methods for perf when it runs with DOTNET_PerfMapEnabled=1 (ops/profile.sh sets it).
        ["perf", "record", "-F", "499", "-a", "-g", "-o", Path.Combine(traceFolder, $"{name}.perf.data"), "--", "sleep", $"{forSeconds}"]
    ];
    return commands.Select(c => Process.Start(new ProcessStartInfo(c[0], c[1..]) { RedirectStandardOutput = true, RedirectStandardError = true })!).ToList();
}

async Task StopProfilers(List<Process> profilers)
{
    foreach (var profiler in profilers)
    {
        var (output, error) = (profiler.StandardOutput.ReadToEndAsync(), profiler.StandardError.ReadToEndAsync());
        await profiler.WaitForExitAsync();
        if (profiler.ExitCode != 0) Console.WriteLine($"{profiler.StartInfo.FileName} exited {profiler.ExitCode}: {await output} {await error}");
        profiler.Dispose();
    }
}

// 2. Commands over HTTP on distinct patients: a session delivered, then a payment, and again. On a warm node, as a
// production node is after its first minutes: a profile of the 16-client load right after 10 s of one client found the
// JIT's tiered compilation still at work, 30% of the app's CPU (ADR 0017); KB_BENCH_WARMUP_SECONDS (20) of 16 clients
// on patients of their own come first.
var warmUp = int.Parse(Environment.GetEnvironmentVariable("KB_BENCH_WARMUP_SECONDS") ?? "20", CultureInfo.InvariantCulture);
if (only != "memory" && warmUp > 0)
{
    sampler.Phase = "2. warm-up";
    await Load.RunAsync(16, TimeSpan.FromSeconds(warmUp), SessionsAndPayments(await Patients(16 * 150, 50_000), 150, [http]));
    sampler.Phase = "2. commands";
}

var loads = new Dictionary<int, Load>();
foreach (var clients in only == "memory" ? [] : new[] { 1, 16, 64 })
{
    // Each client works through patients of its own, a session and a payment each, 12 visits a patient at most: an
    // account the size real ones reach (an account with hundreds of sessions would measure its own growing snapshot).
    var perClient = Math.Max(8, 2400 / clients);
    var patients = await Patients(clients * perClient, clients * 100_000);
    // The CPU a command costs the app and PostgreSQL (issue 17): from the load's start, with the async read models caught
    // up with what came before, to their catching up with it (each command's share of the projections is its cost too).
    var goal = clients == 16;
    if (goal) await CaughtUp();
    var profilers = goal ? StartProfilers(appPid, seconds) : [];
    if (profilers.Count > 0) await Task.Delay(1000);
    var (appTicks, postgresTicks) = (Cpu.Ticks(appPid), Cpu.PostgresTicks(postmaster));
    var load = await Load.RunAsync(clients, TimeSpan.FromSeconds(seconds), SessionsAndPayments(patients, perClient, [http]));
    await StopProfilers(profilers);
    loads[clients] = load;
    var p99 = Stats.Percentile(load.LatenciesMs, 99);
    var ratio = load.PerSecond / single8;
    Add(new Figure("2. Commands over HTTP", $"{clients} clients: throughput", load.PerSecond, "commands/s", goal ? ">= 0.20 of single-row commits at 8 connections" : null,
        goal ? ratio >= 0.20 : null, ratio));
    if (goal)
    {
        await CaughtUp();
        var app = Cpu.MsPerCommand(Cpu.Ticks(appPid) - appTicks, load.Ok);
        var postgres = Cpu.MsPerCommand(Cpu.PostgresTicks(postmaster) - postgresTicks, load.Ok);
        Add(new Figure("2. Commands over HTTP", $"{clients} clients: app CPU a command", app, "ms", Note: $"{load.Ok:N0} commands, the async read models' work on them included"));
        Add(new Figure("2. Commands over HTTP", $"{clients} clients: PostgreSQL CPU a command", postgres, "ms",
            Note: $"app and PostgreSQL together {Stats.F(app + postgres, 2)} ms: {Environment.ProcessorCount} cores serve at most about {Stats.F(Environment.ProcessorCount * 1000 / (app + postgres), 0)} commands/s " +
                  $"(a single-row commit costs PostgreSQL {Stats.F(Environment.ProcessorCount * 1000 / single8, 2)} ms of the cores at 8 connections)"));
    }

    Add(new Figure("2. Commands over HTTP", $"{clients} clients: p50 / p95 latency", Stats.Percentile(load.LatenciesMs, 50), "ms",
        Note: $"p95 {Stats.F(Stats.Percentile(load.LatenciesMs, 95))} ms"));
    Add(new Figure("2. Commands over HTTP", $"{clients} clients: p99 latency", p99, "ms", goal ? "<= 50 ms" : null, goal ? p99 <= 50 : null));
    Add(new Figure("2. Commands over HTTP", $"{clients} clients: errors", load.Errors, "requests", goal ? "0" : null, goal ? load.Errors == 0 : null));
}

// A/B trials of a setting: KB_BENCH_ONLY=commands stops here, without writing the report.
if (only == "commands")
{
    Console.WriteLine($"app memory (RSS), most: {Stats.F(sampler.MaxRssMb, 0)} MB");
    return;
}

sampler.Phase = "4. lag";
// 4. Async projection lag under half of the 16-client maximum, sampled four times a second.
if (only != "memory")
{
    var patients = await Patients(16 * 150, 900_000);
    var samples = new List<(double At, long Head, long Slowest)>();
    var watch = Stopwatch.StartNew();
    using var stop = new CancellationTokenSource();
    var sampling = Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            var states = await http.GetFromJsonAsync<List<ProjectionState>>("/api/maintenance/projections", json);
            var async = states!.Where(s => s.Lifecycle == "async").ToList();
            if (async.Count > 0) samples.Add((watch.Elapsed.TotalSeconds, states![0].NewestEvent, async.Min(s => s.Position ?? 0)));
            try { await Task.Delay(250, stop.Token); } catch (OperationCanceledException) { }
        }
    });
    var lagSeconds = Math.Max(seconds * 3, 30);
    await Load.RunAsync(16, TimeSpan.FromSeconds(lagSeconds), SessionsAndPayments(patients, 150, [http]), perSecondLimit: loads[16].PerSecond / 2);
    await Task.Delay(2000);
    await stop.CancelAsync();
    await sampling;
    // The lag of a sample: how long until the slowest async projection had read the events that existed then.
    var lags = samples.Select(s => samples.FirstOrDefault(later => later.At >= s.At && later.Slowest >= s.Head) is { At: > 0 } caught ? caught.At - s.At : double.NaN)
        .Where(l => !double.IsNaN(l)).ToList();
    var firstHalf = lags.Take(lags.Count / 2).DefaultIfEmpty(0).Average();
    var secondHalf = lags.Skip(lags.Count / 2).DefaultIfEmpty(0).Average();
    var p99 = Stats.Percentile(lags, 99);
    Add(new Figure("4. Async projection lag", $"p99 lag at {Stats.F(loads[16].PerSecond / 2, 0)} commands/s for {lagSeconds} s", p99, "s", "<= 1 s", p99 <= 1,
        Note: $"{lags.Count} samples, 0.25 s resolution; mean lag first half {Stats.F(firstHalf, 2)} s, second half {Stats.F(secondHalf, 2)} s (never growing: {(secondHalf <= firstHalf + 0.25 ? "yes" : "no")})"));
}

sampler.Phase = "3. 835 set-up and import";
// 3. An 835 with claim payments for many existing claims: posted, balances and claim states updated, projections caught up.
{
    var setup = Stopwatch.StartNew();
    var perPatient = 10;
    var served = today.AddDays(-30);
    var claims = new List<(string ControlNumber, DateOnly Served)>();
    var gate = new object();
    var patientsNeeded = (claimCount + perPatient - 1) / perPatient;
    await Parallel.ForEachAsync(Enumerable.Range(0, patientsNeeded), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (p, _) =>
    {
        var patient = await Patient(200_000 + p);
        await Post<CoverageRecorded>($"/api/patients/{patient}/coverages", new RecordCoverage(null, payer, $"BEN{p:D8}", "primary", "GRP-B", ActiveFrom: today.AddYears(-1)));
        for (var s = 0; s < perPatient && p * perPatient + s < claimCount; s++)
        {
            var charge = await Post<SessionCharge>($"/api/patients/{patient}/sessions", Session(served, "insurance", "96365"));
            var claim = await Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [charge.SessionId]));
            lock (gate) claims.Add((claim.ControlNumber, served));
        }
    });
    Add(new Figure("3. Remittance import", $"set-up: {claims.Count:N0} insured sessions filed as claims over HTTP", claims.Count * 2 / setup.Elapsed.TotalSeconds, "commands/s",
        Note: $"{Stats.F(setup.Elapsed.TotalSeconds)} s, 16 clients"));

    var file = Remittance835Builder.Build($"BENCH{DateTime.UtcNow:HHmmss}", "BENCH HEALTH", "BENCH1", claims.Count * 300m, today,
        claims.Select(c => new Remittance835Builder.Clp(c.ControlNumber, "1", 450m, 300m, 0m, new Remittance835Builder.Svc("96365", 450m, 300m, c.Served, null, ("CO", "45", 150m)))));
    var import = Stopwatch.StartNew();
    var response = await http.PostAsync("/api/remittances", new StringContent(file, Encoding.UTF8, "text/plain"));
    var posted = await response.Content.ReadFromJsonAsync<RemittanceUpload>(json);
    var answered = import.Elapsed.TotalSeconds;
    await CaughtUp();

    var total = import.Elapsed.TotalSeconds;
    var all = posted?.ClaimsPosted == claims.Count;
    Add(new Figure("3. Remittance import", $"{posted?.ClaimsPosted ?? 0:N0} claim payments: end to end", total, "s", "<= 10 s", total <= 10 && all,
        Note: $"HTTP answer after {Stats.F(answered, 2)} s ({(int)response.StatusCode}), {Stats.F(file.Length / 1024.0 / 1024.0, 1)} MB, read models caught up"));
    var perSecond = (posted?.ClaimsPosted ?? 0) / total;
    Add(new Figure("3. Remittance import", "claim payments a second, end to end", perSecond, "claims/s", ">= 0.04 of 100-row batch rows/s", all && perSecond / batch100 >= 0.04,
        perSecond / batch100, Note: "ratio over scenario 1's 100-row batches (1 connection)"));
}

sampler.Phase = "employer set-up";
// An employer's month (statements are read in scenario 6): 40 employees, 4 employer-funded sessions each this month.
var employer = Guid.NewGuid();
{
    if (only != "memory") await Post<EmployerCreated>("/api/employers", new CreateEmployer("Bench Logistics", "hr@bench.test", 300m, null, ["96365", "J3490"], null, null, false, 30, employer));
    // Enrolments one after another (they all write the employer's stream), then the sessions from 8 clients.
    var employees = new List<Guid>();
    for (var i = 0; i < (only == "memory" ? 0 : 40); i++)
    {
        var patient = await Patient(300_000 + i);
        (await Send(() => http.PostAsJsonAsync($"/api/employers/{employer}/enrollments", new EnrollEmployee(patient, $"EMP{i:D5}", today.Year), json))).EnsureSuccessStatusCode();
        employees.Add(patient);
    }

    await Parallel.ForEachAsync(employees, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (patient, _) =>
    {
        for (var s = 0; s < 4; s++) await Post<SessionCharge>($"/api/patients/{patient}/sessions", Session(today.AddDays(-s), "employer", "96365", "J3490"));
    });
}

sampler.Phase = "5. bulk load";
// 5. A store of a million events, bulk-loaded with no projection, then every projection rebuilt from it.
var targetEvents = long.Parse(Environment.GetEnvironmentVariable("KB_BENCH_EVENTS") ?? "1000000", CultureInfo.InvariantCulture);
// The bulk loader writes through connections made from the registry's connection strings, not named as the harness's:
// the app is idle meanwhile, and the sampler does not count them.
sampler.Paused = true;
var loaded = await BulkLoad.RunAsync(installation, BenchClinic, targetEvents, TimeZoneInfo.FindSystemTimeZoneById("America/Chicago"));
sampler.Paused = false;
Add(new Figure("5. Rebuild", $"bulk load: {loaded.Patients:N0} patients' year of practice, {loaded.EventsWritten:N0} events", loaded.EventsWritten / loaded.Seconds, "events/s",
    Note: $"{Stats.F(loaded.Seconds)} s through Marten with no projection (4 writers), after {Stats.F(loaded.BuildSeconds)} s making the year with the demo's decisions; {loaded.EventsInStore:N0} events in the store"));
{
    sampler.Phase = "5. rebuild-all";
    // Under ops/profile.sh with KB_BENCH_ONLY=memory: the rebuild's first minute profiled.
    var profilers = only == "memory" ? StartProfilers(appPid, 60, "rebuild") : [];
    var response = await http.PostAsync("/api/maintenance/projections/rebuild-all", null);
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"rebuild-all: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    // A background job (202 and the job): polled until it is finished; its own clock says how long it took.
    var all = (await response.Content.ReadFromJsonAsync<KetamineBilling.Features.Maintenance.RebuildJob>(json))!;
    while (!all.Finished)
    {
        await Task.Delay(250);
        all = (await http.GetFromJsonAsync<KetamineBilling.Features.Maintenance.RebuildJob>($"/api/maintenance/rebuilds/{all.Id}", json))!;
    }

    await StopProfilers(profilers);
    if (all.State != KetamineBilling.Features.Maintenance.RebuildState.Succeeded) throw new InvalidOperationException($"rebuild-all: {all.State} {all.Error}");
    var rate = loaded.EventsInStore / all.Seconds;
    Add(new Figure("5. Rebuild", $"every projection ({all.Results.Count}) from {loaded.EventsInStore:N0} events", rate, "events/s", ">= 0.25 of COPY rows/s", rate / copyRows >= 0.25, rate / copyRows,
        Note: $"ratio over scenario 1's COPY; {Stats.F(all.Seconds)} s in all (POST /api/maintenance/projections/rebuild-all, two at a time): " +
              string.Join(", ", all.Results.OrderByDescending(p => p.Seconds).Select(p => $"{p.Name} {Stats.F(p.Seconds)} s"))));
}

if (only == "memory")
{
    await sampler.DisposeAsync();
    Console.WriteLine($"app memory (RSS), most: {Stats.F(sampler.MaxRssMb, 0)} MB; by phase: " +
                      string.Join(", ", sampler.MaxRssMbByPhase.Select(p => $"{p.Key} {Stats.F(p.Value, 0)} MB")));
    return;
}

// 6. The reads a user waits for, each by its readers for KB_BENCH_SECONDS after a second's warm-up: on the store of a
// million events, and again on the store of ten million (scenario 12). Returns each read's p99.
async Task<Dictionary<string, double>> Reads(string scenario, string store, IReadOnlyDictionary<string, double>? smaller, bool warmUpOnly = false)
{
    await CaughtUp();
    var p99s = new Dictionary<string, double>(StringComparer.Ordinal);
    var patient = loaded.SamplePatient;
    long claimsInStore;
    await using (var c = await clinicDataSource.OpenConnectionAsync())
    await using (var cmd = new NpgsqlCommand("select count(*) from billing.mt_doc_claim where tenant_id = $1", c) { Parameters = { new NpgsqlParameter { Value = BenchClinic } } })
        claimsInStore = (long)(await cmd.ExecuteScalarAsync())!;
    // The patient search looks for the first three letters of the sample patient's last name, as a front desk types them.
    using var sample = JsonDocument.Parse(await http.GetStringAsync($"/api/patients/{patient}"));
    var term = sample.RootElement.GetProperty("lastName").GetString()![..3].ToLowerInvariant();
    var from = $"{today.AddMonths(-23):yyyy-MM}";
    var to = $"{today:yyyy-MM}";
    var year = $"{today.AddMonths(-11):yyyy-MM}";
    foreach (var (name, url, goal, readers) in new (string, string, double, int)[]
             {
                 ("patient balance", $"/api/patients/{patient}/balance", 10, 4),
                 ($"patient search (\"{term}\", a page of 25)", $"/api/patients?search={term}&pageSize=25", 100, 2),
                 ($"payer trends, 24 months ({claimsInStore:N0} claims)", $"/api/analytics/payers?from={from}&to={to}", 100, 2),
                 ("employer statement (40 employees, 160 sessions in the month)", $"/api/employers/{employer}/statements/{today:yyyy-MM}", 50, 2),
                 ("A/R aging", "/api/analytics/aging", 100, 2), ("KPIs, 12 months", $"/api/analytics/kpis?from={year}&to={to}", 100, 2),
                 ("worklist summary", "/api/reconciliation/exceptions/summary", 50, 2), ("worklist, a page of 50", "/api/reconciliation/exceptions?page=1&pageSize=50", 100, 2),
                 ("worklist, page 3 of one type", "/api/reconciliation/exceptions?type=unbilled-session&page=3&pageSize=50", 100, 2),
                 ("worklist, a text search (\"claim\")", "/api/reconciliation/exceptions?search=claim&pageSize=50", 100, 2),
                 ("deposits workspace", "/api/deposits/workspace", 100, 2)
             })
    {
        var bytes = 0L;
        Func<int, int, Task<bool>> call = async (_, _) =>
        {
            using var response = await http.GetAsync(url);
            Interlocked.Exchange(ref bytes, (await response.Content.ReadAsByteArrayAsync()).LongLength);
            return response.IsSuccessStatusCode;
        };
        await Load.RunAsync(readers, TimeSpan.FromSeconds(1), call);
        if (warmUpOnly) continue;
        var read = await Load.RunAsync(readers, TimeSpan.FromSeconds(seconds), call);
        var r99 = Stats.Percentile(read.LatenciesMs, 99);
        p99s[name] = r99;
        var growth = smaller is not null && smaller.TryGetValue(name, out var before) ? r99 / before : (double?)null;
        var note = $"p50 {Stats.F(Stats.Percentile(read.LatenciesMs, 50), 1)} ms, {read.Ok} reads, {readers} readers, {read.Errors} errors, {bytes:N0} bytes an answer";
        Add(growth is { } g
            ? new Figure(scenario, $"{name} p99, {store}", r99, "ms", $"<= {goal:0} ms; <= 1.5x of the 1M store", r99 <= goal && g <= 1.5 && read.Errors == 0,
                Note: $"growth from the 1M store {Stats.F(g, 2)}x (p99 {Stats.F(smaller![name], 2)} ms there); {note}")
            : new Figure(scenario, $"{name} p99, {store}", r99, "ms", $"<= {goal:0} ms", r99 <= goal && read.Errors == 0, Note: note));
    }

    return p99s;
}

// 7. Growth: scenario 2's 16 clients again, on a grown store.
async Task Commands(string scenario, string store, int firstPatient, bool warmUpOnly = false)
{
    var perClient = 150;
    var patients = await Patients(16 * perClient, firstPatient);
    var load = await Load.RunAsync(16, TimeSpan.FromSeconds(seconds), SessionsAndPayments(patients, perClient, [http]));
    if (warmUpOnly) return;
    var empty99 = Stats.Percentile(loads[16].LatenciesMs, 99);
    var full99 = Stats.Percentile(load.LatenciesMs, 99);
    Add(new Figure(scenario, $"command p99 at 16 clients, {store} vs the near-empty store", full99 / empty99, "x", "<= 1.5x",
        full99 / empty99 <= 1.5 && load.Errors == 0,
        Note: $"p99 {Stats.F(full99, 2)} ms vs {Stats.F(empty99, 2)} ms; {Stats.F(load.PerSecond, 0)} commands/s, {load.Errors} errors"));
}

sampler.Phase = "6. reads";
// The reads on a settled store, as after a restore: VACUUM (ANALYZE), or autovacuum works through the new rows while
// they are measured (at 10M it vacuumed the copied partitions through the whole of scenario 12's reads), then a
// checkpoint of the WAL the load, rebuild and vacuum wrote (ops/postgres.sh checkpoint, as the superuser).
async Task Settle()
{
    await LargeStore.VacuumAsync(clinicDataSource);
    var root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Environment.GetEnvironmentVariable("KB_BENCH_NODE")!)!, ".."));
    using var checkpoint = Process.Start(new ProcessStartInfo(Path.Combine(root, "ops", "postgres.sh"), ["checkpoint"]) { Environment = { ["KB_PG_MODE"] = "local" } })!;
    await checkpoint.WaitForExitAsync();
    if (checkpoint.ExitCode != 0) throw new InvalidOperationException($"ops/postgres.sh checkpoint exited {checkpoint.ExitCode}");
}

await Settle();
var millionStore = $"{await BulkLoad.CountAsync(clinicDataSource, BenchClinic):N0} events";
var millionReads = await Reads("6. Reads", millionStore, null);
sampler.Phase = "7. commands on 1M";
await Commands("7. Growth", $"{await BulkLoad.CountAsync(clinicDataSource, BenchClinic):N0} events", 400_000);

// 12. Ten million events across many clinics (KB_BENCH_LARGE_EVENTS, 10,000,000; 0 skips it): the node stopped, the
// bench clinic's store copied to as many more clinics of its database as it takes (LargeStore.cs), the node started
// again; then scenario 6's reads and scenario 7's commands on it, for the same clinic.
var largeTarget = long.Parse(Environment.GetEnvironmentVariable("KB_BENCH_LARGE_EVENTS") ?? "10000000", CultureInfo.InvariantCulture);
var benchEvents = await BulkLoad.CountAsync(clinicDataSource, BenchClinic);
if (largeTarget > benchEvents)
{
    sampler.Phase = "12. copies";
    const string Scenario = "12. Ten million events";
    var copies = Enumerable.Range(1, (int)Math.Ceiling((largeTarget - benchEvents) / (double)benchEvents)).Select(i => $"copy{i:D2}").ToList();
    var node = BenchNode.Running(new Uri(baseUrl), appPid, http, json);
    await node.StopAsync();
    var appDir = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Environment.GetEnvironmentVariable("KB_BENCH_NODE")!)!, "..", "src", "KetamineBilling", "bin", "Release", "net10.0"));
    foreach (var copy in copies)
    {
        // Onboarded as any clinic is (its partitions and event sequence), in the database the bench clinic is placed in.
        using var onboard = Process.Start(new ProcessStartInfo("dotnet", ["KetamineBilling.dll", "add-clinic", copy, $"Copy {copy}", "--database", installation.Clinics[BenchClinic]])
            { WorkingDirectory = appDir, RedirectStandardOutput = true })!;
        await onboard.StandardOutput.ReadToEndAsync();
        await onboard.WaitForExitAsync();
        if (onboard.ExitCode != 0) throw new InvalidOperationException($"add-clinic {copy} exited {onboard.ExitCode}");
    }

    await installation.RefreshAsync();
    var copySeconds = await LargeStore.CopyAsync(clinicDataSource, BenchClinic, copies);
    await Settle();

    await node.StartAsync();
    appPid = node.Pid;
    sampler.AppPid = appPid;
    // A node just started compiles its code as it serves (tiered JIT) and fills its caches: the commands and every read
    // once, unmeasured, before the measured ones, as the node of scenario 6 had served the whole run before them.
    sampler.Phase = "12. warm-up";
    await Commands(Scenario, "", 650_000, warmUpOnly: true);
    for (var round = 0; round < 3; round++) await Reads(Scenario, "", null, warmUpOnly: true);
    sampler.Phase = "12. reads on 10M";
    var inDatabase = await BulkLoad.CountAllAsync(clinicDataSource);
    Add(new Figure(Scenario, $"the store: {inDatabase:N0} events of {copies.Count + 1} clinics in one database", inDatabase, "events",
        Note: $"the bench clinic's {benchEvents:N0} events, streams, read models and projection positions copied in SQL to {copies.Count} clinics onboarded by add-clinic ({Stats.F(copySeconds, 0)} s), the node stopped meanwhile and started again"));
    await Reads(Scenario, $"{inDatabase:N0} events", millionReads);
    sampler.Phase = "12. commands on 10M";
    await Commands(Scenario, $"{inDatabase:N0} events in the database", 700_000);
}

await sampler.DisposeAsync();
Add(new Figure("7. Growth", "app memory (RSS), most during the run", sampler.MaxRssMb, "MB", "<= 500 MB", sampler.MaxRssMb <= 500,
    Note: "most by phase: " + string.Join(", ", sampler.MaxRssMbByPhase.Select(p => $"{p.Key} {Stats.F(p.Value, 0)} MB"))));
Add(new Figure("7. Growth", "PostgreSQL connections of the app, most", sampler.MaxConnections, "connections", "<= 30", sampler.MaxConnections <= 30,
    Note: $"at the most: {sampler.MaxConnectionsByDatabase}; most by phase: " + string.Join(", ", sampler.MaxConnectionsByPhase.Select(p => $"{p.Key} {p.Value}")) + $"; the bulk load's own (the harness's, through the registry's connection strings) not counted; to the master database and the {installation.Pool.Count} clinic databases together (a pool to each); the app's connection string sets Maximum Pool Size (ops/bench.sh: 24); the harness's own connections are not counted"));

// The report.
var machine = await Report.MachineAsync(dataSource);
Directory.CreateDirectory(output);
var md = new StringBuilder();
md.AppendLine("# Benchmarks").AppendLine();
md.AppendLine($"Measured by `ops/bench.sh` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. Machine: {machine}.").AppendLine();
md.AppendLine($"Each load level ran {seconds} s; the app is a Release build on the same machine as PostgreSQL, reached over loopback HTTP. " +
              "The ratio is each throughput over the baseline's single-row INSERT+COMMIT at 8 connections measured in the same run " +
              "(a command writes one or more events and updates the account's document in one transaction).").AppendLine();
Report.Table(md, figures);
md.AppendLine().AppendLine("Scenarios 5-7 run on the store after the bulk load: the demo practice's year (same plan and decisions as the demo data) for as many " +
                           "patients as it takes to reach the target, appended by Marten with no projection, then every projection rebuilt through the Maintenance API. " +
                           "Scenario 12 copies that clinic's store (events, streams, read models, projection positions) in SQL to as many more clinics of the same database " +
                           "as it takes to hold ten million events, restarts the node, and runs scenarios 6 and 7 again for the same clinic: each read's growth is " +
                           "its p99 there over its p99 in scenario 6. Throughput goals are ratios to PostgreSQL's own figures in scenario 1, as the ratio column " +
                           "shows: commands over single-row commits at 8 connections, the 835's claim payments over 100-row batches, a rebuild's events over COPY. " +
                           "Goals marked **no** are missed on this machine: the figure is what it is, the reason is in the note and in docs/decisions (ADR 0017).");
await File.WriteAllTextAsync(Path.Combine(output, "benchmarks.md"), md.ToString());
await File.WriteAllTextAsync(Path.Combine(output, "benchmarks.json"), JsonSerializer.Serialize(new { machine, date = DateTime.UtcNow, seconds, figures }, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"wrote {Path.Combine(output, "benchmarks.md")}");
