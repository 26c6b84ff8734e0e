using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;

namespace KetamineBilling.Bench;

/// <summary>One figure of the run: what, how much, the goal it is held to, and its ratio to PostgreSQL's own limit.</summary>
public sealed record Figure(string Scenario, string Name, double Value, string Unit, string? Goal = null, bool? Met = null, double? RatioToBaseline = null, string? Note = null);

public static class Stats
{
    /// <summary>The nearest-rank percentile of the samples.</summary>
    public static double Percentile(IReadOnlyList<double> samples, double p)
    {
        if (samples.Count == 0) return double.NaN;
        var sorted = samples.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100 * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }

    public static string F(double value, int decimals = 1) => value.ToString("N" + decimals, CultureInfo.InvariantCulture);
}

/// <summary>What the reports are made of: the machine they were measured on and the table of figures.</summary>
public static class Report
{
    public static async Task<string> MachineAsync(NpgsqlDataSource dataSource)
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "unknown CPU";
        var memory = File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        string postgres;
        await using (var c = await dataSource.OpenConnectionAsync()) postgres = c.PostgreSqlVersion.ToString();
        return $"{Environment.ProcessorCount} cores ({cpu}), {long.Parse(memory, CultureInfo.InvariantCulture) / 1024 / 1024} GiB, " +
               $"{System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}, PostgreSQL {postgres}";
    }

    public static void Table(StringBuilder md, IEnumerable<Figure> figures)
    {
        md.AppendLine("| Scenario | Figure | Value | Goal | Met | Ratio to baseline | Note |").AppendLine("|---|---|---:|---|---|---:|---|");
        foreach (var f in figures)
        {
            md.AppendLine($"| {f.Scenario} | {f.Name} | {Stats.F(f.Value, f.Unit is "ms" or "s" or "x" ? 2 : 0)} {f.Unit} | {f.Goal ?? ""} | {(f.Met is null ? "" : f.Met.Value ? "yes" : "**no**")} | " +
                          $"{(f.RatioToBaseline is { } r ? Stats.F(r, 3) : "")} | {f.Note ?? ""} |");
        }
    }
}

/// <summary>Samples the app's resident memory (from /proc) and PostgreSQL's connections to the database while the run goes on.</summary>
public sealed class Sampler(int appPid, Func<Task<IReadOnlyDictionary<string, long>>> connections) : IAsyncDisposable
{
    /// <summary>The app's connections by database when they were the most.</summary>
    public string MaxConnectionsByDatabase { get; private set; } = "";

    /// <summary>The app's process (a node the run restarted has another).</summary>
    public int AppPid { get; set; } = appPid;

    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public double MaxRssMb { get; private set; }
    public long MaxConnections { get; private set; }

    /// <summary>What the run is doing now: the most memory is also kept per phase, to say where the peak was.</summary>
    public string Phase { get; set; } = "start";

    public Dictionary<string, double> MaxRssMbByPhase { get; } = [];

    /// <summary>The most connections of the app, per phase.</summary>
    public Dictionary<string, long> MaxConnectionsByPhase { get; } = [];

    /// <summary>While paused it reads nothing: a measurement of PostgreSQL's transactions at rest must not count its queries.</summary>
    public bool Paused { get; set; }

    public void Start() => _loop = Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (Paused)
                {
                    await Task.Delay(500, _stop.Token);
                    continue;
                }

                var status = await File.ReadAllLinesAsync($"/proc/{AppPid}/status");
                var rss = status.FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
                if (rss is not null)
                {
                    var mb = double.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
                    MaxRssMb = Math.Max(MaxRssMb, mb);
                    lock (MaxRssMbByPhase) MaxRssMbByPhase[Phase] = Math.Max(MaxRssMbByPhase.GetValueOrDefault(Phase), mb);
                }

                var byDatabase = await connections();
                var now = byDatabase.Values.Sum();
                if (now > MaxConnections) MaxConnectionsByDatabase = string.Join(", ", byDatabase.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key} {d.Value}"));
                MaxConnections = Math.Max(MaxConnections, now);
                lock (MaxConnectionsByPhase) MaxConnectionsByPhase[Phase] = Math.Max(MaxConnectionsByPhase.GetValueOrDefault(Phase), now);
            }
            catch (Exception e) when (e is IOException or Npgsql.NpgsqlException or InvalidOperationException)
            {
            }
            catch (OperationCanceledException)
            {
                break;
            }

            try { await Task.Delay(500, _stop.Token); } catch (OperationCanceledException) { }
        }
    });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null) await _loop;
    }
}

/// <summary>Latencies of calls made by many clients at once for a while, and what they came to.</summary>
public sealed class Load
{
    public List<double> LatenciesMs { get; } = [];
    public int Ok { get; set; }
    public int Errors { get; set; }
    public double Seconds { get; set; }

    public double PerSecond => Ok / Seconds;

    /// <summary>Several loads as one: their calls together, over their durations added up.</summary>
    public static Load Combined(IEnumerable<Load> loads)
    {
        var all = new Load();
        foreach (var load in loads)
        {
            all.LatenciesMs.AddRange(load.LatenciesMs);
            all.Ok += load.Ok;
            all.Errors += load.Errors;
            all.Seconds += load.Seconds;
        }

        return all;
    }

    public static async Task<Load> RunAsync(int clients, TimeSpan duration, Func<int, int, Task<bool>> call, double? perSecondLimit = null)
    {
        var load = new Load();
        var watch = Stopwatch.StartNew();
        var gate = new object();
        var delayPerCall = perSecondLimit is { } limit ? TimeSpan.FromSeconds(clients / limit) : TimeSpan.Zero;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            for (var n = 0; watch.Elapsed < duration; n++)
            {
                var started = Stopwatch.GetTimestamp();
                bool ok;
                try { ok = await call(client, n); }
                catch (HttpRequestException) { ok = false; }
                catch (TaskCanceledException) { ok = false; }
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (gate)
                {
                    load.LatenciesMs.Add(ms);
                    if (ok) load.Ok++; else load.Errors++;
                }

                if (delayPerCall > TimeSpan.Zero && delayPerCall.TotalMilliseconds > ms) await Task.Delay(delayPerCall - TimeSpan.FromMilliseconds(ms));
            }
        })));
        load.Seconds = watch.Elapsed.TotalSeconds;
        return load;
    }
}
