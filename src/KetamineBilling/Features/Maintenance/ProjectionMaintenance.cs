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
public sealed record ProjectionState(string Name, string Lifecycle, long? Position, long NewestEvent, bool Rebuilding, RebuildResult? LastRebuild);

/// <summary>What a rebuild did: the projection, the events it read again, how long it took, who asked.</summary>
public sealed record RebuildResult(string Name, long Events, double Seconds, DateTimeOffset FinishedAt, string By);

/// <summary>A rebuild of every read model: each one's result, the events in the store, the time it all took.</summary>
public sealed record RebuildAllResult(IReadOnlyList<RebuildResult> Projections, long Events, double Seconds, double EventsPerSecond);

/// <summary>
/// Rebuilding a read model from the events, for a billing administrator (after a fix to a projection, or when a
/// document was lost). One rebuild at a time per node; the progress is the daemon's own progression record.
/// </summary>
public static class ProjectionMaintenance
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);
    private static readonly Dictionary<string, RebuildResult> LastRebuilds = new();
    private static readonly HashSet<string> Rebuilding = new(StringComparer.Ordinal);

    public static async Task<IReadOnlyList<ProjectionState>> StatesAsync(IDocumentStore store, CancellationToken ct)
    {
        var schema = store.Options.Events.DatabaseSchemaName;
        var head = await NewestEventAsync(store, ct);
        await using var session = store.QuerySession();
        var positions = new Dictionary<string, long>();
        await using (var command = new NpgsqlCommand($"select name, last_seq_id from {schema}.mt_event_progression", session.Connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) positions[reader.GetString(0).Split(':')[0]] = reader.GetInt64(1);
        }

        lock (LastRebuilds)
        {
            return store.Options.Events.Projections().Select(p => p.Name).Distinct().Order(StringComparer.Ordinal)
                .Select(name =>
                {
                    var projection = store.Options.Events.Projections().First(p => p.Name == name);
                    var rebuilding = Rebuilding.Contains(name);
                    long? position = projection.Lifecycle == ProjectionLifecycle.Async || rebuilding ? positions.GetValueOrDefault(name) : null;
                    return new ProjectionState(name, projection.Lifecycle.ToString().ToLowerInvariant(), position, head, rebuilding, LastRebuilds.GetValueOrDefault(name));
                })
                .ToList();
        }
    }

    /// <summary>The sequence of the newest event in the store.</summary>
    public static async Task<long> NewestEventAsync(IDocumentStore store, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        await using var command = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_events", session.Connection);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public static Task<IResult> RebuildAsync(string name, IDocumentStore store, IProjectionCoordinator coordinator, string by, ILogger logger, CancellationToken ct) =>
        store.Options.Events.Projections().All(p => p.Name != name)
            ? Task.FromResult(Problems.NotFound($"projection {name} does not exist"))
            : RebuildManyAsync([name], 1, store, coordinator, by, logger, ct);

    /// <summary>Every read model, two at a time (after an upgrade that changed projections, or to restore a database's read side).</summary>
    public static Task<IResult> RebuildAllAsync(IDocumentStore store, IProjectionCoordinator coordinator, string by, ILogger logger, CancellationToken ct) =>
        RebuildManyAsync(store.Options.Events.Projections().Select(p => p.Name).Distinct().Order(StringComparer.Ordinal).ToList(), 2, store, coordinator, by, logger, ct);

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

    /// <summary>The named read models, <paramref name="parallel"/> at a time.</summary>
    public static async Task<IResult> RebuildManyAsync(
        IReadOnlyList<string> names, int parallel, IDocumentStore store, IProjectionCoordinator coordinator, string by, ILogger logger, CancellationToken ct)
    {
        if (!await OneAtATime.WaitAsync(0, ct))
        {
            lock (LastRebuilds) return Problems.Conflict($"projection {string.Join(", ", Rebuilding)} is being rebuilt: one rebuild at a time");
        }

        try
        {
            var events = await NewestEventAsync(store, ct);
            var total = Stopwatch.StartNew();
            var daemon = coordinator.DaemonForMainDatabase();
            // A rebuild stops the projection's shards (and the daemon's high-water detection) and leaves them stopped:
            // what ran before runs again after, or the projection would silently stop following new events.
            var running = daemon.IsRunning
                ? daemon.CurrentAgents().Where(a => a.Status == AgentStatus.Running).Select(a => a.Name.Identity).ToList()
                : [];
            // The live shards of the read models about to be rebuilt stop now, not when their turn comes: catching up
            // on events their rebuild will read anyway would only take the cores from the rebuilds running meanwhile.
            foreach (var shard in running.Where(shard => names.Contains(shard.Split(':')[0])))
            {
                await daemon.StopAgentAsync(shard, null);
            }

            var results = new List<RebuildResult>();
            // Two at a time: one rebuild keeps this node and PostgreSQL about two-thirds busy on two cores.
            await using (MemoryCeiling.Watch(bracket: names.Count > 1))
            await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct }, async (name, token) =>
            {
                lock (LastRebuilds) Rebuilding.Add(name);
                logger.LogWarning("Rebuilding projection {Projection} from {Events} events, asked by {User}", name, events, by);
                var watch = Stopwatch.StartNew();
                try
                {
                    try
                    {
                        await daemon.RebuildProjectionAsync(name, TimeSpan.FromMinutes(10), token);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        // A rebuild starts with a teardown, so running it again is safe; a second failure is the answer.
                        logger.LogError(e, "Rebuilding projection {Projection} failed; trying once more", name);
                        await daemon.RebuildProjectionAsync(name, TimeSpan.FromMinutes(10), token);
                    }
                }
                finally
                {
                    lock (LastRebuilds) Rebuilding.Remove(name);
                }

                var result = new RebuildResult(name, events, Math.Round(watch.Elapsed.TotalSeconds, 2), DateTimeOffset.UtcNow, by);
                lock (LastRebuilds)
                {
                    LastRebuilds[name] = result;
                    results.Add(result);
                }

                logger.LogWarning("Rebuilt projection {Projection} in {Seconds} s", name, result.Seconds);
            });

            if (running.Count > 0)
            {
                await daemon.RestartHighWaterAgentAsync(ct);
                foreach (var shard in running.Where(n => !daemon.CurrentAgents().Any(a => a.Name.Identity == n && a.Status == AgentStatus.Running)))
                {
                    await daemon.StartAgentAsync(shard, ct);
                }
            }

            if (names.Count == 1) return Results.Ok(results[0]);
            var seconds = Math.Round(total.Elapsed.TotalSeconds, 2);
            return Results.Ok(new RebuildAllResult(results.OrderBy(r => r.Name, StringComparer.Ordinal).ToList(), events, seconds, Math.Round(events / Math.Max(seconds, 0.01))));
        }
        finally
        {
            OneAtATime.Release();
        }
    }
}

public static class ProjectionMaintenanceEndpoints
{
    /// <summary>Every read model with its position in the event log and its last rebuild on this node.</summary>
    [WolverineGet("/api/maintenance/projections"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static Task<IReadOnlyList<ProjectionState>> List(IDocumentStore store, CancellationToken ct) => ProjectionMaintenance.StatesAsync(store, ct);

    /// <summary>Rebuilds one read model from the events (404 unknown, 409 while another rebuild runs); answers when done.</summary>
    [WolverinePost("/api/maintenance/projections/{name}/rebuild"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static Task<IResult> Rebuild(string name, IDocumentStore store, IProjectionCoordinator coordinator, ClaimsPrincipal user, ILogger<RebuildResult> logger, CancellationToken ct) =>
        ProjectionMaintenance.RebuildAsync(name, store, coordinator, user.FindFirst(UserClaims.Email)?.Value ?? "unknown", logger, ct);

    /// <summary>Rebuilds every read model from the events, two at a time (409 while another rebuild runs); answers when done.</summary>
    [WolverinePost("/api/maintenance/projections/rebuild-all"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static Task<IResult> RebuildAll(IDocumentStore store, IProjectionCoordinator coordinator, ClaimsPrincipal user, ILogger<RebuildResult> logger, CancellationToken ct) =>
        ProjectionMaintenance.RebuildAllAsync(store, coordinator, user.FindFirst(UserClaims.Email)?.Value ?? "unknown", logger, ct);
}
