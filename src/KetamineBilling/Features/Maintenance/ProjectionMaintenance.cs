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

/// <summary>
/// Rebuilding a read model from the events, for a billing administrator (after a fix to a projection, or when a
/// document was lost). One rebuild at a time per node; the progress is the daemon's own progression record.
/// </summary>
public static class ProjectionMaintenance
{
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);
    private static readonly Dictionary<string, RebuildResult> LastRebuilds = new();
    private static string? _rebuilding;

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
                    var rebuilding = _rebuilding == name;
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

    public static async Task<IResult> RebuildAsync(string name, IDocumentStore store, IProjectionCoordinator coordinator, string by, ILogger logger, CancellationToken ct)
    {
        if (store.Options.Events.Projections().All(p => p.Name != name)) return Problems.NotFound($"projection {name} does not exist");
        if (!await OneAtATime.WaitAsync(0, ct)) return Problems.Conflict($"projection {_rebuilding} is being rebuilt: one rebuild at a time");
        try
        {
            lock (LastRebuilds) _rebuilding = name;
            var events = await NewestEventAsync(store, ct);
            logger.LogWarning("Rebuilding projection {Projection} from {Events} events, asked by {User}", name, events, by);
            var watch = Stopwatch.StartNew();
            var daemon = coordinator.DaemonForMainDatabase();
            // A rebuild stops the projection's shards (and the daemon's high-water detection) and leaves them stopped:
            // what ran before runs again after, or the projection would silently stop following new events.
            var running = daemon.IsRunning
                ? daemon.CurrentAgents().Where(a => a.Status == AgentStatus.Running).Select(a => a.Name.Identity).ToList()
                : [];
            await daemon.RebuildProjectionAsync(name, TimeSpan.FromMinutes(10), ct);
            if (running.Count > 0)
            {
                await daemon.RestartHighWaterAgentAsync(ct);
                foreach (var shard in running.Where(n => !daemon.CurrentAgents().Any(a => a.Name.Identity == n && a.Status == AgentStatus.Running)))
                {
                    await daemon.StartAgentAsync(shard, ct);
                }
            }

            var result = new RebuildResult(name, events, Math.Round(watch.Elapsed.TotalSeconds, 2), DateTimeOffset.UtcNow, by);
            lock (LastRebuilds) LastRebuilds[name] = result;
            logger.LogWarning("Rebuilt projection {Projection} in {Seconds} s", name, result.Seconds);
            return Results.Ok(result);
        }
        finally
        {
            lock (LastRebuilds) _rebuilding = null;
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
}
