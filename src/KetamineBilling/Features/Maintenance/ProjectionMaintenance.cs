using System.Diagnostics;
using System.Security.Claims;
using JasperFx;
using JasperFx.Events.Daemon;
using JasperFx.Events.Projections;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Npgsql;
using Wolverine.Http;

namespace KetamineBilling.Features.Maintenance;

/// <summary>A read model and how far it has read the event log.</summary>
/// <param name="Position">The last event sequence it has applied (async and rebuilding projections); null for an inline one at rest.</param>
/// <param name="LastRebuild">Its newest rebuild on any node (from the rebuild jobs).</param>
public sealed record ProjectionState(string Name, string Lifecycle, long? Position, long NewestEvent, bool Rebuilding, RebuildResult? LastRebuild);

/// <summary>What a rebuild did: the projection, the events it read again, how long it took, who asked.</summary>
public sealed record RebuildResult(string Name, long Events, double Seconds, DateTimeOffset FinishedAt, string By);

/// <summary>A rebuild of every read model: each one's result, the events in the store, the time it all took.</summary>
public sealed record RebuildAllResult(IReadOnlyList<RebuildResult> Projections, long Events, double Seconds, double EventsPerSecond);

/// <summary>What a rebuild running right now has done so far (shared by its parallel rebuilds and the job's status updates).</summary>
public sealed class RebuildProgress
{
    private readonly object _gate = new();
    private readonly HashSet<string> _current = new(StringComparer.Ordinal);
    private readonly List<RebuildResult> _results = [];

    public IReadOnlyList<string> Current { get { lock (_gate) return _current.Order(StringComparer.Ordinal).ToList(); } }

    public IReadOnlyList<RebuildResult> Results { get { lock (_gate) return _results.OrderBy(r => r.Name, StringComparer.Ordinal).ToList(); } }

    public void Started(string name) { lock (_gate) _current.Add(name); }

    public void Stopped(string name) { lock (_gate) _current.Remove(name); }

    public void Finished(RebuildResult result) { lock (_gate) _results.Add(result); }
}

/// <summary>A rebuild's projection failed: which one, and the failure (its message stays in the node's log: it may quote event data).</summary>
public sealed class RebuildFailedException(string projection, Exception inner) : Exception($"rebuilding {projection} failed", inner)
{
    public string Projection { get; } = projection;

    /// <summary>For the job's status: the projection and the kinds of failure, never an exception's message.</summary>
    public string Describe()
    {
        if (InnerException is ShardRebuildFailedException shard) return shard.Message;
        var kinds = new List<string>();
        for (var e = InnerException; e is not null; e = e.InnerException) kinds.Add(e.GetType().Name);
        return $"{Projection} could not be rebuilt ({string.Join(" <- ", kinds.Distinct())}); the node's log has the details";
    }
}

/// <summary>
/// Rebuilding a read model from the events, for a billing administrator (after a fix to a projection, or when a
/// document was lost). It runs as a background job (<see cref="RebuildJobs"/>), one at a time across every node; the
/// progress is the daemon's own progression record.
/// </summary>
public static class ProjectionMaintenance
{
    public static async Task<IReadOnlyList<ProjectionState>> StatesAsync(IDocumentStore store, IGlobalStore global, string clinic, CancellationToken ct)
    {
        var head = await NewestEventAsync(store, clinic, ct);
        var positions = await PositionsAsync(store, clinic, ct);
        await using var session = global.QuerySession();
        var jobs = await session.Query<RebuildJob>().Where(j => j.Clinic == clinic).OrderByDescending(j => j.RequestedAt).Take(50).ToListAsync(ct);
        var rebuilding = jobs.Where(j => j.State == RebuildState.Running).SelectMany(j => j.Rebuilding).ToHashSet(StringComparer.Ordinal);
        return store.Options.Events.Projections().Select(p => p.Name).Distinct().Order(StringComparer.Ordinal)
            .Select(name =>
            {
                var projection = store.Options.Events.Projections().First(p => p.Name == name);
                var underway = rebuilding.Contains(name);
                long? position = projection.Lifecycle == ProjectionLifecycle.Async || underway ? positions.GetValueOrDefault(name) : null;
                var last = jobs.SelectMany(j => j.Results).Where(r => r.Name == name).MaxBy(r => r.FinishedAt);
                return new ProjectionState(name, projection.Lifecycle.ToString().ToLowerInvariant(), position, head, underway, last);
            })
            .ToList();
    }

    /// <summary>
    /// Each projection's last applied event sequence for the clinic, from the daemon's progression table of the clinic's
    /// database (a clinic's events have a sequence of their own: its shards are named <c>{projection}:All:{clinic}</c>).
    /// </summary>
    public static async Task<Dictionary<string, long>> PositionsAsync(IDocumentStore store, string clinic, CancellationToken ct)
    {
        await using var session = store.QuerySession(clinic);
        var positions = new Dictionary<string, long>();
        await using var command = new NpgsqlCommand(
            $"select name, last_seq_id from {store.Options.Events.DatabaseSchemaName}.mt_event_progression where name like '%:' || $1",
            session.Connection) { Parameters = { new NpgsqlParameter { Value = clinic } } };
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var parts = reader.GetString(0).Split(':');
            if (parts.Length >= 2 && parts[^1] == clinic) positions[parts[0]] = reader.GetInt64(1);
        }

        return positions;
    }

    /// <summary>The sequence of the clinic's newest event.</summary>
    public static async Task<long> NewestEventAsync(IDocumentStore store, string clinic, CancellationToken ct)
    {
        await using var session = store.QuerySession(clinic);
        await using var command = new NpgsqlCommand(
            $"select coalesce(max(seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_events where tenant_id = $1", session.Connection)
            { Parameters = { new NpgsqlParameter { Value = clinic } } };
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// Waits until the session's clinic's shard of the async read model <paramref name="projection"/> has read every event
    /// committed before this call, so that a command deciding from it sees what was recorded a moment ago. False when it
    /// has not within <paramref name="within"/> (the daemon is down or far behind).
    /// </summary>
    public static async Task<bool> CaughtUpAsync(IQuerySession session, string projection, TimeSpan within, CancellationToken ct)
    {
        var schema = session.DocumentStore.Options.Events.DatabaseSchemaName;
        var head = (await session.QueryAsync<long>($"select coalesce(max(seq_id), 0) from {schema}.mt_events where tenant_id = ?", ct, session.TenantId)).Single();
        var shard = ShardOf(projection, session.TenantId);
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(50, ct))
        {
            var read = (await session.QueryAsync<long>($"select coalesce(max(last_seq_id), 0) from {schema}.mt_event_progression where name = ?", ct, shard)).Single();
            if (read >= head) return true;
            if (waited.Elapsed > within) return false;
        }
    }

    /// <summary>The shard of one clinic's async read model (tenant-partitioned events: one per clinic).</summary>
    public static string ShardOf(string projection, string clinic) => $"{projection}:All:{clinic}";

    /// <summary>
    /// Read models that read other read models' documents besides events, with the ones they read: a rebuild that
    /// includes a source includes its readers, and runs them after every other read model it rebuilds (ADR 0017).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> Readers = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [Analytics.AgingProjection.Name] = ["PatientAccount"],
        [Analytics.KpiProjection.Name] = ["PatientAccount", "Claim"],
        [Reconciliation.ExceptionsProjection.Name] = Reconciliation.ExceptionsProjection.Reads,
        // The journal folds the accounts itself; a deposit's day is read from its inline document.
        [GeneralLedger.JournalProjection.Name] = ["BankDeposit"]
    };

    /// <summary>The names and the readers of any of them (<see cref="Readers"/>), in order.</summary>
    public static IReadOnlyList<string> WithReaders(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Concat(Readers.Where(r => r.Value.Any(list.Contains)).Select(r => r.Key)).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Every read model's name, in order.</summary>
    public static IReadOnlyList<string> AllNames(IDocumentStore store) =>
        store.Options.Events.Projections().Select(p => p.Name).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// A rebuild reads and writes every document of its read model at some 400 MB/s of short-lived objects, and the
    /// server GC lets them pile up (a rebuild of everything peaked at 460-557 MB, the node's budget is 500 MB). While a
    /// rebuild runs, this gives the memory back whenever the node passes <see cref="Ceiling"/> (and has grown by 64 MB
    /// since it last did, so a larger live set is never collected in a loop); a rebuild of everything also starts and ends
    /// with one (ADR 0011). Each is a blocking collection of a few hundred milliseconds for the whole node.
    /// </summary>
    private sealed class MemoryCeiling : IAsyncDisposable
    {
        public const long Ceiling = 400L * 1024 * 1024;
        private const long Growth = 64L * 1024 * 1024;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _watching;
        private readonly bool _bracket;

        private MemoryCeiling(bool bracket)
        {
            _bracket = bracket;
            if (bracket) Compact();
            _watching = WatchAsync(_stop.Token);
        }

        /// <param name="bracket">Collect once before and once after too (a rebuild of many read models).</param>
        public static MemoryCeiling Watch(bool bracket) => new(bracket);

        private static async Task WatchAsync(CancellationToken ct)
        {
            var floor = Environment.WorkingSet;
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
            try
            {
                while (await timer.WaitForNextTickAsync(ct))
                {
                    if (Environment.WorkingSet > Math.Max(Ceiling, floor + Growth))
                    {
                        Compact();
                        floor = Environment.WorkingSet;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        /// <summary>A full, compacting collection that returns the free memory to the system (a pause of a few hundred ms).</summary>
        private static void Compact()
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _watching;
            _stop.Dispose();
            if (_bracket) Compact();
        }
    }

    /// <summary>
    /// The named read models, <paramref name="parallel"/> at a time. <paramref name="cancel"/> stops it between read
    /// models: the ones under way finish (a half-rebuilt inline read model, the accounts say, would be wrong until rebuilt
    /// again), the others are not started. <paramref name="stopping"/> (the node shutting down) interrupts everything.
    /// Whatever happens, the live shards stopped for it run again afterwards.
    /// </summary>
    public static async Task<RebuildAllResult> RebuildManyAsync(
        string clinic, IReadOnlyList<string> names, int parallel, IDocumentStore store, IProjectionCoordinator coordinator, string by, ILogger logger,
        RebuildProgress progress, CancellationToken cancel, CancellationToken stopping)
    {
        var events = await NewestEventAsync(store, clinic, stopping);
        var total = Stopwatch.StartNew();
        var database = await store.Storage.FindOrCreateDatabase(clinic);
#pragma warning disable CS0618 // the daemon is looked up by the database's identifier (its pool id)
        var daemon = await coordinator.DaemonForDatabase(database.Identifier);
#pragma warning restore CS0618
        // A rebuild stops the projection's shards (and the daemon's high-water detection) and leaves them stopped:
        // what ran before runs again after, or the projection would silently stop following new events.
        var running = daemon.IsRunning
            ? daemon.CurrentAgents().Where(a => a.Status == AgentStatus.Running && a.Name.Identity.EndsWith(":" + clinic, StringComparison.Ordinal))
                .Select(a => a.Name.Identity).ToList()
            : [];
        try
        {
            // The live shards of the read models about to be rebuilt stop now, not when their turn comes: catching up
            // on events their rebuild will read anyway would only take the cores from the rebuilds running meanwhile.
            foreach (var shard in running.Where(shard => names.Contains(shard.Split(':')[0])))
            {
                await daemon.StopAgentAsync(shard, null);
            }

            await EachAsync(names, parallel, events, by, logger, progress,
                (name, ct) => daemon.RebuildProjectionAsync(name, clinic, TimeSpan.FromMinutes(10), ct), cancel, stopping);
        }
        finally
        {
            // Even after a failure or a cancel: a read model left without its live shard would silently stop following.
            // And every async read model rebuilt to the end follows new events from there, even one whose shard had
            // not started yet (a daemon still starting when the rebuild was asked) or had stopped on an error the
            // rebuild got past.
            var rebuiltAsync = progress.Results.Select(r => r.Name)
                .Where(n => store.Options.Events.Projections().Any(p => p.Name == n && p.Lifecycle == ProjectionLifecycle.Async))
                .Select(n => ShardOf(n, clinic));
            running = running.Union(rebuiltAsync, StringComparer.Ordinal).ToList();
            if (running.Count > 0)
            {
                try
                {
                    await daemon.RestartHighWaterAgentAsync(CancellationToken.None);
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Restarting the high-water detection after a rebuild failed");
                }

                // One by one: a shard that cannot start (it fails on an event) does not keep the others stopped.
                foreach (var shard in running.Where(n => !daemon.CurrentAgents().Any(a => a.Name.Identity == n && a.Status == AgentStatus.Running)))
                {
                    try
                    {
                        await daemon.StartAgentAsync(shard, CancellationToken.None);
                    }
                    catch (Exception e)
                    {
                        logger.LogError(e, "Restarting shard {Shard} after a rebuild failed: /health/ready reports it", shard);
                    }
                }
            }
        }

        var seconds = Math.Round(total.Elapsed.TotalSeconds, 2);
        return new RebuildAllResult(progress.Results, events, seconds, Math.Round(events / Math.Max(seconds, 0.01)));
    }

    /// <summary>
    /// Rebuilds the named read models <paramref name="parallel"/> at a time with <paramref name="rebuild"/> (tried a
    /// second time after a failure: a rebuild starts with a teardown, so running it again is safe), recording each in
    /// <paramref name="progress"/>. <paramref name="cancel"/> stops it between read models; <paramref name="stopping"/>
    /// interrupts everything.
    /// </summary>
    public static async Task EachAsync(
        IReadOnlyList<string> names, int parallel, long events, string by, ILogger logger, RebuildProgress progress,
        Func<string, CancellationToken, Task> rebuild, CancellationToken cancel, CancellationToken stopping)
    {
        // Two at a time: one rebuild keeps this node and PostgreSQL about two-thirds busy on two cores. The readers of
        // other read models come last, once what they read is whole again.
        var readers = names.Where(n => Readers.TryGetValue(n, out var sources) && sources.Any(names.Contains)).ToList();
        await using (MemoryCeiling.Watch(bracket: names.Count > 1))
        foreach (var wave in new[] { names.Except(readers).ToList(), readers }.Where(w => w.Count > 0))
        await Parallel.ForEachAsync(wave, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancel }, async (name, _) =>
        {
            progress.Started(name);
            logger.LogWarning("Rebuilding projection {Projection} from {Events} events, asked by {User}", name, events, by);
            var watch = Stopwatch.StartNew();
            try
            {
                try
                {
                    await rebuild(name, stopping);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Rebuilding projection {Projection} failed; trying once more", name);
                    await rebuild(name, stopping);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new RebuildFailedException(name, e);
            }
            finally
            {
                progress.Stopped(name);
            }

            progress.Finished(new RebuildResult(name, events, Math.Round(watch.Elapsed.TotalSeconds, 2), DateTimeOffset.UtcNow, by));
            logger.LogWarning("Rebuilt projection {Projection} in {Seconds} s", name, Math.Round(watch.Elapsed.TotalSeconds, 2));
        });
    }
}
