using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Maintenance;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Providers;
using Npgsql;

namespace KetamineBilling.Bench;

/// <summary>
/// Issue 16's many clinics (KB_BENCH_ONLY=clinics, docs/benchmarks-clinics.md), after scenario 1's single-row baseline:
/// 9. the cost of clinics at rest (1 clinic; KB_BENCH_CLINICS in the shared database; KB_BENCH_CLINIC_DBS databases of a
/// second installation, one clinic each), 10. each clinic's async projection lag while KB_BENCH_LOAD_CLINICS clinics
/// work at once, 11. rebuilding one clinic with N events beside one with 10 x N.
/// </summary>
public sealed class ClinicsBench(ClinicsBench.Context x)
{
    public sealed record Context(
        Uri BaseUrl, int AppPid, string Output, int Seconds, string Password, double Single1, double Single8, Action<Figure> Add,
        IReadOnlyList<Figure> Figures, JsonSerializerOptions Json, SocketsHttpHandler Handler, HttpClient Http, Installation Installation);

    private const string Idle = "9. Clinics at rest";
    private const string Lag = "10. Lag per clinic";
    private const string Rebuild = "11. Rebuild one clinic";

    private static int Setting(string name, int fallback) =>
        int.Parse(Environment.GetEnvironmentVariable(name) ?? fallback.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private readonly int _clinics = Setting("KB_BENCH_CLINICS", 200);
    private readonly int _clinicDatabases = Setting("KB_BENCH_CLINIC_DBS", 20);
    private readonly int _idleSeconds = Setting("KB_BENCH_IDLE_SECONDS", 30);
    private readonly int _settleSeconds = Setting("KB_BENCH_SETTLE_SECONDS", 15);
    private readonly int _loadClinics = Setting("KB_BENCH_LOAD_CLINICS", 10);
    private readonly int _clientsPerClinic = Setting("KB_BENCH_CLIENTS_PER_CLINIC", 2);
    private readonly int _smallEvents = Setting("KB_BENCH_CLINIC_EVENTS", 20_000);
    private readonly int _lagSeconds = Setting("KB_BENCH_LAG_SECONDS", Math.Max(x.Seconds * 3, 30));
    private readonly Stopwatch _run = Stopwatch.StartNew();
    private int _postmaster;

    private void Log(string what) => Console.WriteLine($"[{_run.Elapsed:mm\\:ss}] {what}");

    public async Task RunAsync()
    {
        if (_clinics < 4) throw new InvalidOperationException("KB_BENCH_CLINICS: 4 clinics at least (the bench clinic, some to load, two to rebuild)");
        var dbsConnection = Environment.GetEnvironmentVariable("KB_BENCH_DBS_CONNECTION")
                            ?? throw new InvalidOperationException("KB_BENCH_DBS_CONNECTION (the second installation) is not set: run KB_BENCH_ONLY=clinics ops/bench.sh");
        await using (var c = await x.Installation.MasterSource.OpenConnectionAsync()) _postmaster = Cpu.Parent(c.ProcessID);
        var a = x.Installation;
        var node = BenchNode.Running(x.BaseUrl, x.AppPid, x.Http, x.Json);

        // 9. At rest: each layout on a node started on it, as after a deployment.
        Log("restarting the node: 1 clinic");
        var one = await IdleAsync("1 clinic", a, node, await RestartAsync(node));

        var codes = Enumerable.Range(1, _clinics - 1).Select(i => $"c{i:D3}").ToList();
        var onboarding = new List<double>();
        Log($"onboarding {codes.Count} clinics into the shared database (POST /api/clinics)");
        foreach (var code in codes)
        {
            var watch = Stopwatch.StartNew();
            var response = await x.Http.PostAsJsonAsync("/api/clinics", new { code, name = $"Bench Clinic {code}" }, x.Json);
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST /api/clinics {code}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            onboarding.Add(watch.Elapsed.TotalSeconds);
        }

        await a.RefreshAsync();
        Log($"onboarded in {onboarding.Sum():N0} s; restarting the node: {_clinics} clinics");
        var many = await IdleAsync($"{_clinics} clinics in the shared database", a, node, await RestartAsync(node));

        // The second installation ops/bench.sh made: the same node's settings on another master database.
        Log($"stopping the node; a node of the second installation ({Plural(_clinicDatabases, "clinic database")})");
        await node.StopAsync();
        await using var b = await Installation.OpenAsync(dbsConnection);
        var other = BenchNode.NotStarted(x.BaseUrl, x.Http, x.Json, new Dictionary<string, string> { ["ConnectionStrings__Marten"] = dbsConnection });
        var started = Stopwatch.StartNew();
        await other.StartAsync();
        var dbs = await IdleAsync($"{Plural(b.Clinics.Count, "clinic")}, a database each", b, other, started.Elapsed.TotalSeconds);
        await other.StopAsync();
        Log("back to the first installation");
        await node.StartAsync();

        AddIdle(one, one);
        AddIdle(many, one);
        AddIdle(dbs, one);
        var each = onboarding.Order().ToList();
        var tenth = Math.Max(1, Math.Min(10, onboarding.Count / 2));
        var firstOnes = onboarding.Take(tenth).Average();
        var lastOnes = onboarding.TakeLast(tenth).Average();
        x.Add(new Figure(Idle, "onboarding a clinic into the shared database (POST /api/clinics), median", Stats.Percentile(each, 50), "s",
            Note: $"{codes.Count} one after another in {Stats.F(onboarding.Sum(), 0)} s: the first {tenth} {Stats.F(firstOnes, 2)} s each, the last {tenth} {Stats.F(lastOnes, 2)} s each " +
                  $"(with {_clinics - tenth} clinics there already); p99 {Stats.F(Stats.Percentile(each, 99), 2)} s"));
        if (double.TryParse(Environment.GetEnvironmentVariable("KB_BENCH_DBS_ONBOARD_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var dbsSeconds))
        {
            x.Add(new Figure(Idle, "onboarding a clinic with a database of its own (add-clinic --database --connection), each", dbsSeconds / Math.Max(1, _clinicDatabases), "s",
                Note: $"{_clinicDatabases} one after another in {Stats.F(dbsSeconds, 0)} s by ops/bench.sh, each a process of its own (its start included): the database added to the pool, given its schema, the clinic placed"));
        }

        // 10 and 11 on the first installation: the load's clinics first, the two to rebuild last.
        var loadClinics = codes.Take(Math.Min(_loadClinics, codes.Count - 2)).ToList();
        await LagAsync(a, loadClinics);
        await RebuildAsync(a, codes[^2], codes[^1]);
        await WriteReportAsync(loadClinics.Count, codes[^2], codes[^1]);
    }

    // ---- 9. At rest -------------------------------------------------------------------------------------------------

    private sealed record IdleResult(string Layout, int Clinics, int Databases, double NodeStartSeconds, int Agents, double Transactions,
        double MasterTransactions, double ClusterTransactions, double AppMs, double PostgresMs, long Connections, double RssMb, double Seconds);

    /// <summary>Stops the node (SIGTERM) and starts it again on the same settings: seconds from the start to ready.</summary>
    private static async Task<double> RestartAsync(BenchNode node)
    {
        await node.StopAsync();
        var started = Stopwatch.StartNew();
        await node.StartAsync();
        return started.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// A node with no traffic: once the leader has handed out every projection agent (the count of assignments unchanged
    /// for 6 s) and KB_BENCH_SETTLE_SECONDS more, PostgreSQL's transactions in the installation's databases and the CPU of
    /// the node and of the cluster over KB_BENCH_IDLE_SECONDS.
    /// </summary>
    private async Task<IdleResult> IdleAsync(string layout, Installation installation, BenchNode node, double startSeconds)
    {
        var agents = await SettledAgentsAsync(installation);
        Log($"{layout}: node ready after {startSeconds:N1} s, {agents} projection agents; settling {_settleSeconds} s, then {_idleSeconds} s at rest");
        await Task.Delay(TimeSpan.FromSeconds(_settleSeconds));
        var names = installation.DatabaseNames;
        var before = await TransactionsAsync(installation);
        var nodeTicks = Cpu.Ticks(node.Pid);
        var postgresTicks = Cpu.PostgresTicks(_postmaster);
        var watch = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(_idleSeconds));
        var after = await TransactionsAsync(installation);
        var app = Cpu.Ticks(node.Pid) - nodeTicks;
        var postgres = Cpu.PostgresTicks(_postmaster) - postgresTicks;
        var seconds = watch.Elapsed.TotalSeconds;
        double Rate(Func<string, bool> which) => after.Where(p => which(p.Key)).Sum(p => p.Value - before.GetValueOrDefault(p.Key)) / seconds;
        var master = names[0];
        var result = new IdleResult(layout, installation.Clinics.Count, installation.Pool.Count, startSeconds, agents,
            Rate(names.Contains), Rate(n => n == master), Rate(_ => true),
            app / Cpu.TicksPerSecond * 1000 / seconds, postgres / Cpu.TicksPerSecond * 1000 / seconds,
            await installation.AppConnectionsAsync(), RssMb(node.Pid), seconds);
        Log($"{layout}: {result.Transactions:N1} transactions/s (master {result.MasterTransactions:N1}), app {result.AppMs:N1} ms/s, PostgreSQL {result.PostgresMs:N1} ms/s, {result.Connections} connections, {result.RssMb:N0} MB");
        return result;
    }

    private void AddIdle(IdleResult r, IdleResult one)
    {
        var versus = ReferenceEquals(r, one) ? "" : $"; {Stats.F(r.Transactions / one.Transactions, 1)}x the 1-clinic layout";
        var perDatabase = r.Databases == 0 ? 0 : (r.Transactions - r.MasterTransactions) / r.Databases;
        x.Add(new Figure(Idle, $"{r.Layout}: PostgreSQL transactions a second at rest", r.Transactions, "transactions/s", RatioToBaseline: r.Transactions / x.Single8,
            Note: $"{Plural(r.Clinics, "clinic")} in {Plural(r.Databases, "clinic database")}: master {Stats.F(r.MasterTransactions, 1)}/s, clinic databases {Stats.F(perDatabase, 1)}/s each; " +
                  $"{r.Agents} projection agents on the node, {r.Connections} app connections; the whole cluster {Stats.F(r.ClusterTransactions, 1)}/s{versus}"));
        var appVersus = ReferenceEquals(r, one) ? "" : $"; {Stats.F(r.AppMs / Math.Max(one.AppMs, 0.1), 1)}x the 1-clinic layout";
        x.Add(new Figure(Idle, $"{r.Layout}: app CPU a second at rest", r.AppMs, "ms/s",
            Note: $"PostgreSQL {Stats.F(r.PostgresMs, 1)} ms/s; node RSS {Stats.F(r.RssMb, 0)} MB; ready {Stats.F(r.NodeStartSeconds, 1)} s after its start{appVersus}"));
        x.Add(new Figure(Idle, $"{r.Layout}: PostgreSQL CPU a second at rest", r.PostgresMs, "ms/s",
            Note: ReferenceEquals(r, one) ? "every process of the cluster" : $"{Stats.F(r.PostgresMs / Math.Max(one.PostgresMs, 0.1), 1)}x the 1-clinic layout"));
    }

    private static string Plural(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";

    /// <summary>The projection agents the leader has assigned, once their count has not changed for 6 s (3 minutes at most).</summary>
    private static async Task<int> SettledAgentsAsync(Installation installation)
    {
        var counts = new List<int>();
        for (var waited = Stopwatch.StartNew(); waited.Elapsed < TimeSpan.FromMinutes(3); await Task.Delay(2000))
        {
            await using var c = await installation.MasterSource.OpenConnectionAsync();
            await using var cmd = new NpgsqlCommand("select count(*) from wolverine.wolverine_node_assignments where id like 'event-subscriptions:%'", c);
            counts.Add((int)(long)(await cmd.ExecuteScalarAsync())!);
            if (counts.Count >= 4 && counts[^1] > 0 && counts.TakeLast(4).Distinct().Count() == 1) break;
        }

        return counts[^1];
    }

    /// <summary>xact_commit + xact_rollback of every database of the cluster (pg_stat_database).</summary>
    private static async Task<Dictionary<string, long>> TransactionsAsync(Installation installation)
    {
        await using var c = await installation.MasterSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("select datname, xact_commit + xact_rollback from pg_stat_database where datname is not null", c);
        await using var reader = await cmd.ExecuteReaderAsync();
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync()) result[reader.GetString(0)] = reader.GetInt64(1);
        return result;
    }

    private static double RssMb(int pid)
    {
        var rss = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return rss is null ? double.NaN : double.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    // ---- 10. Lag per clinic -----------------------------------------------------------------------------------------

    /// <summary>A client of the app acting for one clinic (a token of the bench account for it).</summary>
    private async Task<HttpClient> ClientForAsync(string clinic)
    {
        var response = await x.Http.PostAsJsonAsync("/api/auth/token", new TokenRequest("bench@bench.local", x.Password, Clinic: clinic), x.Json);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"token for {clinic}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var token = (await response.Content.ReadFromJsonAsync<TokenResponse>(x.Json))!.AccessToken;
        var client = new HttpClient(x.Handler, disposeHandler: false) { BaseAddress = x.BaseUrl, Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private async Task<T> PostAsync<T>(HttpClient client, string url, object body)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await client.PostAsJsonAsync(url, body, x.Json);
            if (response.StatusCode == System.Net.HttpStatusCode.Conflict && attempt < 10)
            {
                await Task.Delay(10 * (attempt + 1));
                continue;
            }

            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return (await response.Content.ReadFromJsonAsync<T>(x.Json))!;
        }
    }

    /// <summary>A clinic's prices and provider, as scenario 2 has them in the bench clinic.</summary>
    private async Task SetUpAsync(HttpClient client, DateOnly today)
    {
        (await client.PutAsJsonAsync("/api/fee-schedule/96365", new SetFeePrice("IV infusion, initial hour", 450m, today.AddYears(-2)), x.Json)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/api/fee-schedule/J3490", new SetFeePrice("Ketamine", 60m, today.AddYears(-2)), x.Json)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/api/providers/dr-bench", new SetProvider("Bench Provider", "1234567893", "MD"), x.Json)).EnsureSuccessStatusCode();
    }

    private async Task<IReadOnlyList<string>> AsyncProjectionsAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<List<ProjectionState>>("/api/maintenance/projections", x.Json))!.Where(s => s.Lifecycle == "async").Select(s => s.Name).ToList();

    private async Task LagAsync(Installation installation, IReadOnlyList<string> clinics)
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
        var clients = clinics.Count * _clientsPerClinic;
        // Each client works through patients of its own in its clinic; a session delivered, then a payment, and again.
        const int perClient = 60;
        Log($"lag: setting up {clinics.Count} clinics, {clients} clients with {perClient} patients each");
        var apis = new Dictionary<string, HttpClient>(StringComparer.Ordinal);
        foreach (var clinic in clinics) apis[clinic] = await ClientForAsync(clinic);
        await Parallel.ForEachAsync(clinics, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (clinic, _) => await SetUpAsync(apis[clinic], today));
        var patients = new Guid[clients * perClient];
        await Parallel.ForEachAsync(Enumerable.Range(0, patients.Length), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var clinic = clinics[i / perClient % clinics.Count];
            patients[i] = (await PostAsync<PatientCreated>(apis[clinic], "/api/patients",
                new RegisterPatient($"Bench{i}", "Patient", new DateOnly(1980, 1, 1).AddDays(i % 9000), null, null))).Id;
        });
        var projections = await AsyncProjectionsAsync(apis[clinics[0]]);
        var sampler = new LagSampler(installation, clinics, projections);
        await sampler.CaughtUpAsync(TimeSpan.FromMinutes(5));

        // Client i works for clinic i mod n, through the patients registered for it (patients[i * perClient ..]).
        var okByClinic = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        Func<int, int, Task<bool>> work = async (client, n) =>
        {
            var clinic = clinics[client % clinics.Count];
            var patient = patients[client * perClient + n / 2 % perClient];
            var api = apis[clinic];
            var response = n % 2 == 0
                ? await api.PostAsJsonAsync($"/api/patients/{patient}/sessions",
                    new DeliverSession(Guid.NewGuid(), today, 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-bench", ["self-pay"]), x.Json)
                : await api.PostAsJsonAsync($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "card", 25m, today, "bench"), x.Json);
            if (response.IsSuccessStatusCode) okByClinic.AddOrUpdate(clinic, 1, (_, v) => v + 1);
            return response.IsSuccessStatusCode;
        };

        // As much as the clients can, then half of that (scenario 4's way: lag is measured where the node keeps up).
        Log($"lag: {clients} clients over {clinics.Count} clinics, as fast as they can for {x.Seconds} s");
        var (full, fullLags) = await sampler.DuringAsync(() => Load.RunAsync(clients, TimeSpan.FromSeconds(x.Seconds), work));
        var perClinicFull = clinics.Select(c => okByClinic.GetValueOrDefault(c) / full.Seconds).ToList();
        okByClinic.Clear();
        var lagSeconds = _lagSeconds;
        var rate = full.PerSecond / 2;
        Log($"lag: {full.PerSecond:N0} commands/s; now {rate:N0} commands/s for {lagSeconds} s");
        var (half, halfLags) = await sampler.DuringAsync(() => Load.RunAsync(clients, TimeSpan.FromSeconds(lagSeconds), work, perSecondLimit: rate));

        var shape = $"{clinics.Count} clinics, {_clientsPerClinic} clients each";
        x.Add(new Figure(Lag, $"{shape}: throughput", full.PerSecond, "commands/s", RatioToBaseline: full.PerSecond / x.Single8,
            Note: $"{x.Seconds} s; per clinic {Stats.F(perClinicFull.Min(), 0)} to {Stats.F(perClinicFull.Max(), 0)} commands/s; {installation.Clinics.Count} clinics in the database"));
        x.Add(new Figure(Lag, $"{shape}: p99 latency", Stats.Percentile(full.LatenciesMs, 99), "ms",
            Note: $"p50 {Stats.F(Stats.Percentile(full.LatenciesMs, 50), 2)} ms; {full.Errors} errors"));
        AddLags($"{shape}, as fast as they can", fullLags, null);
        AddLags($"{shape} at {Stats.F(rate, 0)} commands/s for {lagSeconds} s", halfLags, half);
    }

    private void AddLags(string name, IReadOnlyDictionary<string, List<double>> lags, Load? load)
    {
        var all = lags.Values.SelectMany(l => l).ToList();
        var p99s = lags.ToDictionary(p => p.Key, p => Stats.Percentile(p.Value, 99));
        var worst = p99s.MaxBy(p => p.Value);
        var best = p99s.MinBy(p => p.Value);
        var p99 = Stats.Percentile(all, 99);
        var goal = load is not null;
        x.Add(new Figure(Lag, $"{name}: lag p99 over every clinic", p99, "s", goal ? "<= 1 s" : null, goal ? p99 <= 1 : null,
            Note: $"p50 {Stats.F(Stats.Percentile(all, 50), 2)} s, most {Stats.F(all.DefaultIfEmpty(double.NaN).Max(), 2)} s; {all.Count} samples of {lags.Count} clinics, 0.25 s resolution" +
                  (load is null ? "" : $"; {Stats.F(load.PerSecond, 0)} commands/s, {load.Errors} errors")));
        x.Add(new Figure(Lag, $"{name}: the worst clinic's lag p99", worst.Value, "s", goal ? "<= 1 s" : null, goal ? worst.Value <= 1 : null,
            Note: $"{worst.Key}; the best clinic's p99 {Stats.F(best.Value, 2)} s ({best.Key}); per clinic: " +
                  string.Join(", ", p99s.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => Stats.F(p.Value, 2)))));
    }

    /// <summary>
    /// Four times a second, each clinic's newest event and the slowest of its async projections' positions
    /// (<c>{projection}:All:{clinic}</c> in its database's mt_event_progression); a sample's lag is how long until the
    /// slowest position had reached the newest event of the sample.
    /// </summary>
    private sealed class LagSampler(Installation installation, IReadOnlyList<string> clinics, IReadOnlyList<string> projections)
    {
        private readonly List<(string Database, string[] Clinics, string[] Shards)> _databases = clinics.GroupBy(installation.Clinics.GetValueOrDefault)
            .Select(g => (g.Key!, g.ToArray(), g.SelectMany(c => projections.Select(p => ProjectionMaintenance.ShardOf(p, c))).ToArray())).ToList();

        /// <summary>Each clinic's (newest event, slowest async projection) now.</summary>
        public async Task<Dictionary<string, (long Head, long Slowest)>> ReadAsync()
        {
            var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
            foreach (var (database, inDatabase, shards) in _databases)
            {
                await using var c = await installation.ForDatabase(database).OpenConnectionAsync();
                await using var batch = new NpgsqlBatch(c)
                {
                    BatchCommands =
                    {
                        new NpgsqlBatchCommand($"select c, coalesce((select max(seq_id) from {Installation.Schema}.mt_events e where e.tenant_id = c), 0) from unnest($1::text[]) c")
                            { Parameters = { new NpgsqlParameter { Value = inDatabase } } },
                        new NpgsqlBatchCommand($"select name, last_seq_id from {Installation.Schema}.mt_event_progression where name = any($1)")
                            { Parameters = { new NpgsqlParameter { Value = shards } } }
                    }
                };
                await using var reader = await batch.ExecuteReaderAsync();
                var heads = new Dictionary<string, long>(StringComparer.Ordinal);
                while (await reader.ReadAsync()) heads[reader.GetString(0)] = reader.GetInt64(1);
                await reader.NextResultAsync();
                var positions = new Dictionary<string, long>(StringComparer.Ordinal);
                while (await reader.ReadAsync()) positions[reader.GetString(0)] = reader.IsDBNull(1) ? 0 : reader.GetInt64(1);
                foreach (var clinic in inDatabase)
                {
                    result[clinic] = (heads.GetValueOrDefault(clinic), projections.Min(p => positions.GetValueOrDefault(ProjectionMaintenance.ShardOf(p, clinic))));
                }
            }

            return result;
        }

        public async Task CaughtUpAsync(TimeSpan within)
        {
            for (var waited = Stopwatch.StartNew(); ; await Task.Delay(250))
            {
                var now = await ReadAsync();
                if (now.Values.All(v => v.Slowest >= v.Head)) return;
                if (waited.Elapsed > within)
                    throw new TimeoutException($"the async projections did not catch up within {within}: " + string.Join(", ", now.Where(v => v.Value.Slowest < v.Value.Head).Select(v => $"{v.Key} {v.Value.Slowest}/{v.Value.Head}")));
            }
        }

        /// <summary>Samples while <paramref name="load"/> runs and until every clinic has caught up after it: each clinic's lags.</summary>
        public async Task<(Load Load, Dictionary<string, List<double>> Lags)> DuringAsync(Func<Task<Load>> load)
        {
            var samples = new List<(double At, Dictionary<string, (long Head, long Slowest)> State)>();
            var watch = Stopwatch.StartNew();
            using var stop = new CancellationTokenSource();
            var sampling = Task.Run(async () =>
            {
                while (true)
                {
                    var at = watch.Elapsed.TotalSeconds;
                    var state = await ReadAsync();
                    samples.Add((at, state));
                    if (stop.IsCancellationRequested && state.Values.All(v => v.Slowest >= v.Head)) return;
                    if (watch.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("the async projections did not catch up within 10 minutes of the load");
                    try { await Task.Delay(250, stop.Token); } catch (OperationCanceledException) { await Task.Delay(250); }
                }
            });
            var result = await load();
            await stop.CancelAsync();
            await sampling;
            var lags = clinics.ToDictionary(c => c, c => samples
                .Select((s, i) => samples.Skip(i).FirstOrDefault(later => later.State[c].Slowest >= s.State[c].Head) is { State: not null } caught ? caught.At - s.At : double.NaN)
                .Where(l => !double.IsNaN(l)).ToList(), StringComparer.Ordinal);
            return (result, lags);
        }
    }

    // ---- 11. Rebuild one clinic -------------------------------------------------------------------------------------

    private sealed record Rebuilt(double Seconds, long Events, RebuildJob Job);

    private async Task<Rebuilt> RebuildAllAsync(Installation installation, HttpClient api, string clinic)
    {
        var events = await BulkLoad.CountAsync(installation.ForClinic(clinic), clinic);
        var response = await api.PostAsync("/api/maintenance/projections/rebuild-all", null);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"rebuild-all of {clinic}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var job = (await response.Content.ReadFromJsonAsync<RebuildJob>(x.Json))!;
        while (!job.Finished)
        {
            await Task.Delay(250);
            job = (await api.GetFromJsonAsync<RebuildJob>($"/api/maintenance/rebuilds/{job.Id}", x.Json))!;
        }

        if (job.State != RebuildState.Succeeded) throw new InvalidOperationException($"rebuild-all of {clinic}: {job.State} {job.Error}");
        Log($"rebuilt {clinic}: {events:N0} events in {job.Seconds:N1} s");
        return new Rebuilt(job.Seconds, events, job);
    }

    private async Task RebuildAsync(Installation installation, string small, string big)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("America/Chicago");
        Log($"rebuild: bulk-loading {_smallEvents:N0} events into {small} and {_smallEvents * 10L:N0} into {big}");
        var loadedSmall = await BulkLoad.RunAsync(installation, small, _smallEvents, zone);
        var loadedBig = await BulkLoad.RunAsync(installation, big, _smallEvents * 10L, zone);
        var written = loadedSmall.EventsWritten + loadedBig.EventsWritten;
        x.Add(new Figure(Rebuild, $"bulk load: {loadedSmall.EventsInStore:N0} events into {small}, {loadedBig.EventsInStore:N0} into {big}", written / (loadedSmall.Seconds + loadedBig.Seconds), "events/s",
            Note: $"{Stats.F(loadedSmall.Seconds + loadedBig.Seconds)} s through Marten sessions opened for each clinic, with no projection (4 writers); the node's async projections then caught up"));
        // The node's live async projections catch up with the loaded events before anything is rebuilt.
        var apis = new Dictionary<string, HttpClient> { [small] = await ClientForAsync(small), [big] = await ClientForAsync(big) };
        await new LagSampler(installation, [small, big], await AsyncProjectionsAsync(apis[small])).CaughtUpAsync(TimeSpan.FromMinutes(10));
        var database = installation.Clinics[small];
        var inDatabase = await BulkLoad.CountAllAsync(installation.ForClinic(small));
        Log($"rebuild: caught up; {inDatabase:N0} events in database {database}");

        // Small, big, small: the small clinic's figure is the mean of its two (before and after the big one).
        var first = await RebuildAllAsync(installation, apis[small], small);
        var large = await RebuildAllAsync(installation, apis[big], big);
        var second = await RebuildAllAsync(installation, apis[small], small);
        var smallSeconds = (first.Seconds + second.Seconds) / 2;
        string Slowest(RebuildJob job) => string.Join(", ", job.Results.OrderByDescending(r => r.Seconds).Take(4).Select(r => $"{r.Name} {Stats.F(r.Seconds)} s"));
        var smallRate = first.Events / smallSeconds;
        var bigRate = large.Events / large.Seconds;
        x.Add(new Figure(Rebuild, $"{small}: every projection ({first.Job.Results.Count}) from its {first.Events:N0} events", smallRate, "events/s", RatioToBaseline: smallRate / x.Single8,
            Note: $"{Stats.F(smallSeconds, 2)} s, the mean of two rebuilds ({Stats.F(first.Seconds, 2)} s before the big clinic's, {Stats.F(second.Seconds, 2)} s after); " +
                  $"{inDatabase:N0} events of {installation.Clinics.Values.Count(d => d == database)} clinics in its database; slowest: {Slowest(second.Job)}"));
        x.Add(new Figure(Rebuild, $"{big}: every projection ({large.Job.Results.Count}) from its {large.Events:N0} events", bigRate, "events/s", RatioToBaseline: bigRate / x.Single8,
            Note: $"{Stats.F(large.Seconds, 2)} s; slowest: {Slowest(large.Job)}"));
        var eventsRatio = (double)large.Events / first.Events;
        var timeRatio = large.Seconds / smallSeconds;
        // Two points on t = fixed + events / rate: what a rebuild costs whatever the clinic's size, and each event's share.
        var perEvent = (large.Seconds - smallSeconds) / Math.Max(1, large.Events - first.Events);
        var fixedSeconds = smallSeconds - perEvent * first.Events;
        var fits = perEvent > 0 && fixedSeconds >= 0;
        x.Add(new Figure(Rebuild, $"{big} over {small}: rebuild time", timeRatio, "x", $"proportional to own events: {Stats.F(eventsRatio, 1)}x", timeRatio >= eventsRatio / 2,
            Note: $"{Stats.F(eventsRatio, 1)}x the events; a rebuild reading every event of the database ({inDatabase:N0}) would take as long for both (1x)" +
                  (fits ? $". Fitted on the two: {Stats.F(fixedSeconds, 1)} s a rebuild whatever the clinic's size, then {Stats.F(1 / perEvent, 0)} events/s" : "")));
        if (fits)
        {
            x.Add(new Figure(Rebuild, "a clinic's rebuild: time whatever its size", fixedSeconds, "s",
                Note: $"the fit's intercept: starting and finishing {first.Job.Results.Count} read models two at a time; beyond it {Stats.F(1 / perEvent, 0)} events/s " +
                      $"({Stats.F(1 / perEvent / x.Single8, 3)} of the baseline)"));
        }
    }

    // ---- The report -------------------------------------------------------------------------------------------------

    private async Task WriteReportAsync(int loadClinics, string small, string big)
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmarks: many clinics").AppendLine();
        md.AppendLine($"Measured by `KB_BENCH_ONLY=clinics ops/bench.sh` on {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. Machine: {await Report.MachineAsync(x.Installation.MasterSource)}. " +
                      $"The run took {Stats.F(_run.Elapsed.TotalMinutes, 1)} minutes in the harness.").AppendLine();
        md.AppendLine("Clinics are tenants (ADR 0016): Marten's sharded tenancy, every document and stream LIST-partitioned per clinic, each clinic with its own " +
                      "event sequence and its own shard of each async read model (`{projection}:All:{clinic}`). The node is a Release build in the Production " +
                      "environment (`Marten:DaemonMode=Distributed`: Wolverine's leader hands each shard, as an agent, to a live node; one node here). The ratio " +
                      "to baseline is over scenario 1's single-row INSERT+COMMIT at 8 connections, measured in the same run.").AppendLine();
        md.AppendLine($"**9. At rest.** Three layouts, each on a node started on it (SIGTERM, then started again, as after a deployment) and left with no " +
                      $"traffic: 1 clinic (the bench clinic in the shared database); {_clinics} clinics in the shared database (the other {_clinics - 1} " +
                      "onboarded one after another with `POST /api/clinics`); and a second installation (its own master database) with " +
                      $"{_clinicDatabases} clinic databases, one clinic each, onboarded by `add-clinic CODE NAME --database ID --connection CS`. Once the " +
                      "leader has handed out every projection agent (the count of `event-subscriptions` rows in `wolverine_node_assignments` unchanged for 6 s) " +
                      $"and {_settleSeconds} s more, the node is measured for {_idleSeconds} s: PostgreSQL's transactions are the change of `xact_commit + " +
                      "xact_rollback` in `pg_stat_database` summed over the installation's databases (the master and every clinic database; the whole " +
                      "cluster's in the note). pg_stat_statements is not loaded on this cluster, so transactions stand for queries: the daemon's and " +
                      "Wolverine's polls are one statement each. CPU is user + system time from `/proc/<pid>/stat` of the node and of the PostgreSQL " +
                      "cluster's processes (the postmaster, its children and its exited children: the cluster's other work counts too, so run it on a " +
                      "cluster that serves nothing else). The harness reads nothing else meanwhile.").AppendLine();
        md.AppendLine($"**10. Lag per clinic.** {loadClinics} of the {_clinics} clinics work at once, {_clientsPerClinic} clients each (scenario 2's work: " +
                      "each client through patients of its own in its clinic, a session delivered then a payment, and again), every clinic through a token " +
                      $"acting for it: first as fast as the clients can for {x.Seconds} s, then at half that rate (scenario 4's way). Four times a second the " +
                      "harness reads, in the clinics' database, each clinic's newest event (`max(seq_id)` of its events) and the slowest of its async read " +
                      "models' positions (`last_seq_id` of `{projection}:All:{clinic}` in `mt_event_progression`); a sample's lag is how long until that " +
                      "clinic's slowest position had reached the newest event of the sample, sampled until every clinic has caught up after the load. The goal " +
                      "is scenario 4's, a lag p99 within 1 s at half the maximum, held for every clinic.").AppendLine();
        md.AppendLine($"**11. Rebuild one clinic.** {small} gets {_smallEvents:N0} events and {big} ten times as many, bulk-loaded (the demo practice's year, " +
                      "as scenario 5) through Marten sessions opened for each clinic, beside the other clinics' events in the same database; once the node's " +
                      $"async read models have caught up, `POST /api/maintenance/projections/rebuild-all` with a token acting for {small}, then for {big}, " +
                      $"then for {small} again, each job polled until it finishes (its own clock; the small clinic's figure is the mean of its two). If a " +
                      "clinic's rebuild reads only its own events, the big clinic's takes about ten times the small one's, less by what every rebuild costs " +
                      "whatever its size (starting and finishing each read model: the fit of the two points in the note); if it read every event of the " +
                      "database, both would take about as long (1x). The goal is met when the ratio of the times is at least half the ratio of the events.").AppendLine();
        Report.Table(md, x.Figures);
        md.AppendLine().AppendLine($"On {Environment.ProcessorCount} cores the node, PostgreSQL and the harness's clients share the same cores. Settings: " +
                                   $"KB_BENCH_CLINICS={_clinics}, KB_BENCH_CLINIC_DBS={_clinicDatabases}, KB_BENCH_IDLE_SECONDS={_idleSeconds}, " +
                                   $"KB_BENCH_SETTLE_SECONDS={_settleSeconds}, KB_BENCH_LOAD_CLINICS={_loadClinics}, KB_BENCH_CLIENTS_PER_CLINIC={_clientsPerClinic}, " +
                                   $"KB_BENCH_SECONDS={x.Seconds}, KB_BENCH_LAG_SECONDS={_lagSeconds}, KB_BENCH_CLINIC_EVENTS={_smallEvents}.");
        Directory.CreateDirectory(x.Output);
        var path = Path.Combine(x.Output, "benchmarks-clinics.md");
        await File.WriteAllTextAsync(path, md.ToString());
        Console.WriteLine($"wrote {path}");
    }
}
