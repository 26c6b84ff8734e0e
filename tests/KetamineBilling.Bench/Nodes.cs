using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using KetamineBilling.Features.Maintenance;

namespace KetamineBilling.Bench;

/// <summary>
/// An app node of the benchmark on a port of its own. The harness starts one with ops/bench-node.sh, the command
/// ops/bench.sh starts the first node with, so that every node (a restarted one too) runs with the same settings.
/// </summary>
public sealed class BenchNode
{
    private readonly JsonSerializerOptions _json;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private Process? _process;

    private BenchNode(Uri url, HttpClient api, JsonSerializerOptions json, Process? process, IReadOnlyDictionary<string, string>? environment = null)
    {
        Url = url;
        Api = api;
        _json = json;
        _process = process;
        _environment = environment ?? new Dictionary<string, string>();
    }

    public Uri Url { get; }

    /// <summary>A client of this node with the harness's token (one key ring in PostgreSQL: a token is good on every node).</summary>
    public HttpClient Api { get; }

    /// <summary>The node's process id, while it runs.</summary>
    public int Pid => _process is { HasExited: false } p ? p.Id : throw new InvalidOperationException($"the node on {Url} is not running");

    /// <summary>The node ops/bench.sh started (process <paramref name="pid"/>).</summary>
    public static BenchNode Running(Uri url, int pid, HttpClient api, JsonSerializerOptions json) => new(url, api, json, Process.GetProcessById(pid));

    /// <summary>
    /// A node the harness will start; <paramref name="environment"/>: settings of its own over the harness's environment
    /// (e.g. ConnectionStrings__Marten: a node of another installation).
    /// </summary>
    public static BenchNode NotStarted(Uri url, HttpClient api, JsonSerializerOptions json, IReadOnlyDictionary<string, string>? environment = null) =>
        new(url, api, json, null, environment);

    /// <summary>Starts the node and waits until it is ready.</summary>
    public async Task StartAsync()
    {
        var script = Environment.GetEnvironmentVariable("KB_BENCH_NODE") ?? throw new InvalidOperationException("KB_BENCH_NODE (ops/bench-node.sh) is not set: run the harness from ops/bench.sh");
        var start = new ProcessStartInfo(script, [Url.Port.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false };
        foreach (var (name, value) in _environment) start.Environment[name] = value;
        _process = Process.Start(start)!;
        // ops/bench.sh stops every node listed there when the run ends, however the harness ends.
        if (Environment.GetEnvironmentVariable("KB_BENCH_NODE_PIDS") is { } pids) await File.AppendAllTextAsync(pids, $"{_process.Id}\n");
        for (var waited = Stopwatch.StartNew(); ; await Task.Delay(500))
        {
            if (_process.HasExited) throw new InvalidOperationException($"the node on {Url} exited ({_process.ExitCode}): see .data/bench-app-{Url.Port}.log");
            try
            {
                if ((await Api.GetAsync("/health/ready")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            // A node of hundreds of clinics checks every clinic database's schema as it starts.
            if (waited.Elapsed > TimeSpan.FromMinutes(4)) throw new TimeoutException($"the node on {Url} was not ready after 4 minutes: see .data/bench-app-{Url.Port}.log");
        }
    }

    /// <summary>kill -9: the node gets no chance to let go of its shards or say goodbye to the others.</summary>
    public async Task KillAsync()
    {
        var process = _process ?? throw new InvalidOperationException($"the node on {Url} was never started");
        process.Kill();
        await process.WaitForExitAsync();
    }

    /// <summary>Stops the node as an orchestrator does (SIGTERM): it leaves the cluster and lets go of its read models.</summary>
    public async Task StopAsync()
    {
        var process = _process ?? throw new InvalidOperationException($"the node on {Url} was never started");
        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the node on {Url} did not stop within 30 s of SIGTERM: see .data/bench-app-{Url.Port}.log");
        }
    }

    /// <summary>The cluster as this node sees it (GET /api/maintenance/nodes).</summary>
    public async Task<ClusterView> ViewAsync() => (await Api.GetFromJsonAsync<ClusterView>("/api/maintenance/nodes", _json))!;

    /// <summary>
    /// Waits until every node lists exactly these nodes and each async read model runs on exactly one of them, spread
    /// (each node runs one at least, while there are as many read models as nodes), or until <paramref name="within"/>
    /// has passed. Returns the last answers, one a node, and whether they were settled.
    /// </summary>
    public static async Task<(IReadOnlyList<ClusterView> Views, bool Settled)> SettledAsync(IReadOnlyList<BenchNode> nodes, IReadOnlyCollection<string> readModels, TimeSpan within)
    {
        IReadOnlyList<ClusterView> views = [];
        for (var waited = Stopwatch.StartNew(); ; await Task.Delay(250))
        {
            try
            {
                views = await Task.WhenAll(nodes.Select(n => n.ViewAsync()));
            }
            catch (HttpRequestException) when (waited.Elapsed < within)
            {
                // A node just started may not answer every endpoint yet: asked again.
                continue;
            }

            var settled = views.All(v => v.Nodes.Count == nodes.Count)
                          && readModels.All(m => views.Count(v => v.RunningHere.Contains(m)) == 1)
                          && (readModels.Count < nodes.Count || views.All(v => v.RunningHere.Count > 0));
            if (settled || waited.Elapsed > within) return (views, settled);
        }
    }

    /// <summary>Where each read model runs, for a note: "PayerMonths on node 3 (leader)".</summary>
    public static string Placement(IReadOnlyList<ClusterView> views) =>
        string.Join(", ", views.SelectMany(v => v.RunningHere.Select(m => (Model: m, View: v))).OrderBy(p => p.Model, StringComparer.Ordinal)
            .Select(p => $"{p.Model} on node {p.View.ThisNode}{(p.View.Nodes.Any(n => n.Number == p.View.ThisNode && n.Leader) ? " (leader)" : "")}"));
}

/// <summary>A load of scenario 8 on one or more nodes, with the CPU time (ticks) each node and PostgreSQL used for it.</summary>
public sealed record NodesLoad(Load Load, long[] NodeTicks, long PostgresTicks)
{
    /// <summary>Loads on the same nodes as one: calls together, CPU added up node by node.</summary>
    public static NodesLoad Combined(IReadOnlyList<NodesLoad> loads) =>
        new(Load.Combined(loads.Select(l => l.Load)),
            loads.Select(l => l.NodeTicks).Aggregate((sum, ticks) => sum.Zip(ticks, (a, b) => a + b).ToArray()),
            loads.Sum(l => l.PostgresTicks));
}

/// <summary>CPU time used by processes, read from /proc in clock ticks (user + system), to put a CPU cost on each command.</summary>
public static class Cpu
{
    /// <summary>Clock ticks a second (<c>getconf CLK_TCK</c>: 100 on Linux as a rule).</summary>
    public static double TicksPerSecond { get; } = ClockTicks();

    /// <summary>The CPU time a process has used, in ticks; with <paramref name="reapedChildren"/>, also its children that have exited.</summary>
    public static long Ticks(int pid, bool reapedChildren = false)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // After the command name, which is in parentheses and may hold spaces: field 3 (state) on, so utime (14) and
        // stime (15) are at 11 and 12, cutime (16) and cstime (17) at 13 and 14.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
        return Field(11) + Field(12) + (reapedChildren ? Field(13) + Field(14) : 0);
    }

    /// <summary>
    /// The CPU time of a PostgreSQL cluster: its <paramref name="postmaster"/> and every process the postmaster started
    /// (backends, WAL writer, checkpointer, autovacuum), not another cluster on the machine. The postmaster's reaped
    /// children count too: a backend that exits during a measurement leaves its time there.
    /// </summary>
    public static long PostgresTicks(int postmaster)
    {
        var ticks = Ticks(postmaster, reapedChildren: true);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (Parent(pid) == postmaster) ticks += Ticks(pid);
            }
            catch (IOException)
            {
                // The process ended between the listing and the read: its time is in the postmaster's reaped children.
            }
        }

        return ticks;
    }

    /// <summary>The parent of a process: the postmaster of a backend (<c>pg_backend_pid()</c>).</summary>
    public static int Parent(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
    }

    /// <summary>Milliseconds of CPU a command, from a difference of ticks.</summary>
    public static double MsPerCommand(long ticks, int commands) => ticks / TicksPerSecond * 1000 / commands;

    private static double ClockTicks()
    {
        using var getconf = Process.Start(new ProcessStartInfo("getconf", ["CLK_TCK"]) { RedirectStandardOutput = true })!;
        var answer = getconf.StandardOutput.ReadToEnd().Trim();
        getconf.WaitForExit();
        return double.Parse(answer, CultureInfo.InvariantCulture);
    }
}
