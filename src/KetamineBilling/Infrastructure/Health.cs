using System.Text.Json;
using JasperFx;
using JasperFx.Events.Daemon;
using Marten;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace KetamineBilling.Infrastructure;

public static class Health
{
    public static void AddHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(builder.Configuration.GetSection("Health").Get<HealthOptions>() ?? new HealthOptions());
        builder.Services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"])
            // Not a readiness check: one stalled read model is the same on every node, and taking every node out of the
            // load balancer for it would stop the whole clinic's work. It is an alert of its own (/health/projections).
            .AddCheck<ProjectionDaemonHealthCheck>("projections", tags: ["projections"]);
    }

    public static void MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = Write })
            .AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = Write })
            .AllowAnonymous();
        app.MapHealthChecks("/health/projections", new HealthCheckOptions { Predicate = c => c.Tags.Contains("projections"), ResponseWriter = Write })
            .AllowAnonymous();
    }

    private static Task Write(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                data = e.Value.Data
            })
        }, JsonSerializerOptions.Web));
    }
}

public sealed class HealthOptions
{
    /// <summary>A shard that is behind and has not moved for this long is stalled.</summary>
    public TimeSpan StallAfter { get; set; } = TimeSpan.FromSeconds(60);
}

public sealed class PostgresHealthCheck(IDocumentStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var session = store.QuerySession();
            await using var command = new NpgsqlCommand("select 1", session.Connection);
            await command.ExecuteScalarAsync(ct);
            return HealthCheckResult.Healthy("PostgreSQL answers");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("PostgreSQL does not answer", ex);
        }
    }
}

/// <summary>
/// The projections alert (<c>/health/projections</c>): healthy while the async projections keep up: on this node no
/// shard it runs is stopped or paused by an error, and in the database no async projection (nor the high-water mark
/// itself) has sat behind the newest event for longer than <see cref="HealthOptions.StallAfter"/>. The database check
/// sees a stall wherever the shard runs, or if it runs on no node at all.
/// </summary>
public sealed class ProjectionDaemonHealthCheck(
    IDocumentStore store, IServiceProvider services, HealthOptions options, TimeProvider clock) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var data = new Dictionary<string, object>();
        // Distributed: a node that runs none of the shards has no daemon of its own (the coordinator says so by throwing).
        IProjectionDaemon? daemon;
        try
        {
            daemon = services.GetService<IProjectionCoordinator>()?.DaemonForMainDatabase();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            daemon = null;
        }

        data["runningHere"] = daemon?.IsRunning ?? false;
        if (daemon is { IsRunning: true })
        {
            var failed = daemon.CurrentAgents()
                .Where(a => a.Status is AgentStatus.Paused or AgentStatus.Stopped)
                .Select(a => a.Name.Identity)
                .ToList();
            if (failed.Count > 0)
            {
                data["stoppedShards"] = failed;
                return HealthCheckResult.Unhealthy($"projection shards stopped: {string.Join(", ", failed)}", data: data);
            }
        }

        var asyncShards = store.Options.Events.Projections()
            .Where(p => p.Lifecycle == JasperFx.Events.Projections.ProjectionLifecycle.Async)
            .Select(p => p.Name)
            .ToHashSet();
        if (asyncShards.Count == 0)
        {
            return HealthCheckResult.Healthy("no asynchronous projections", data);
        }

        await using var session = store.QuerySession();
        long head;
        await using (var command = new NpgsqlCommand($"select coalesce(max(seq_id), 0) from {store.Options.Events.DatabaseSchemaName}.mt_events", session.Connection))
        {
            head = (long)(await command.ExecuteScalarAsync(ct))!;
        }

        var progress = new List<(string Name, long Sequence, DateTimeOffset LastUpdated)>();
        await using (var command = new NpgsqlCommand(
                         $"select name, last_seq_id, last_updated from {store.Options.Events.DatabaseSchemaName}.mt_event_progression", session.Connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                progress.Add((reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
            }
        }

        data["newestEvent"] = head;

        var now = clock.GetUtcNow();
        var stalled = new List<string>();
        foreach (var shard in progress)
        {
            var projection = shard.Name.Split(':')[0];
            if (shard.Name != "HighWaterMark" && !asyncShards.Contains(projection)) continue;
            data[shard.Name] = shard.Sequence;
            if (shard.Sequence < head && now - shard.LastUpdated > options.StallAfter)
            {
                stalled.Add(shard.Name);
            }
        }

        var started = progress.Any(p => p.Name == "HighWaterMark");
        if (head > 0 && !started && now - Started > options.StallAfter)
        {
            stalled.Add("HighWaterMark (the daemon has not started)");
        }

        return stalled.Count > 0
            ? HealthCheckResult.Unhealthy($"projections stalled: {string.Join(", ", stalled)}", data: data)
            : HealthCheckResult.Healthy("projections keep up", data);
    }

    private static readonly DateTimeOffset Started = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();
}
