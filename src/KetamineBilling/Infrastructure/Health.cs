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

/// <summary>The master database and every clinic database answer.</summary>
public sealed class PostgresHealthCheck(IGlobalStore global, IDocumentStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using (var session = global.QuerySession())
            await using (var command = new NpgsqlCommand("select 1", session.Connection))
            {
                await command.ExecuteScalarAsync(ct);
            }

            var databases = await store.Storage.AllDatabases();
            foreach (var database in databases)
            {
                await using var command = ((Weasel.Postgresql.PostgresqlDatabase)database).DataSource.CreateCommand("select 1");
                await command.ExecuteScalarAsync(ct);
            }

            return HealthCheckResult.Healthy($"PostgreSQL answers (the master database and {databases.Count} clinic database(s))");
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
        IReadOnlyList<IProjectionDaemon> daemons;
        try
        {
            daemons = services.GetService<IProjectionCoordinator>() is { } coordinator ? await coordinator.AllDaemonsAsync() : [];
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            daemons = [];
        }

        data["runningHere"] = daemons.Any(d => d.IsRunning);
        var failed = daemons.Where(d => d.IsRunning)
            .SelectMany(d => d.CurrentAgents())
            .Where(a => a.Status is AgentStatus.Paused or AgentStatus.Stopped)
            .Select(a => a.Name.Identity)
            .ToList();
        if (failed.Count > 0)
        {
            data["stoppedShards"] = failed;
            return HealthCheckResult.Unhealthy($"projection shards stopped: {string.Join(", ", failed)}", data: data);
        }

        var asyncShards = store.Options.Events.Projections()
            .Where(p => p.Lifecycle == JasperFx.Events.Projections.ProjectionLifecycle.Async)
            .Select(p => p.Name)
            .ToHashSet();
        if (asyncShards.Count == 0)
        {
            return HealthCheckResult.Healthy("no asynchronous projections", data);
        }

        // Each clinic has its own event sequence and its own shards (tenant-partitioned events): a shard
        // "{projection}:All:{clinic}" or "HighWaterMark:{clinic}" is compared with its clinic's newest event.
        var schema = store.Options.Events.DatabaseSchemaName;
        var now = clock.GetUtcNow();
        var stalled = new List<string>();
        long newest = 0;
        foreach (var database in await store.Storage.AllDatabases())
        {
            var source = ((Weasel.Postgresql.PostgresqlDatabase)database).DataSource;
            var heads = new Dictionary<string, long>(StringComparer.Ordinal);
            await using (var command = source.CreateCommand($"select tenant_id, max(seq_id) from {schema}.mt_events group by tenant_id"))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) heads[reader.GetString(0)] = reader.GetInt64(1);
            }

            var progress = new List<(string Name, long Sequence, DateTimeOffset LastUpdated)>();
            await using (var command = source.CreateCommand($"select name, last_seq_id, last_updated from {schema}.mt_event_progression"))
            await using (var reader = await command.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    progress.Add((reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
                }
            }

            newest = Math.Max(newest, heads.Values.DefaultIfEmpty().Max());
            foreach (var shard in progress)
            {
                var parts = shard.Name.Split(':');
                var highWater = parts[0] == "HighWaterMark";
                if (!highWater && !asyncShards.Contains(parts[0])) continue;
                var clinic = parts.Length > 1 ? parts[^1] : "";
                var head = heads.GetValueOrDefault(clinic);
#pragma warning disable CS0618 // the pool's id of the database
                data[$"{database.Identifier}/{shard.Name}"] = shard.Sequence;
#pragma warning restore CS0618
                if (shard.Sequence < head && now - shard.LastUpdated > options.StallAfter)
                {
                    stalled.Add(shard.Name);
                }
            }

            foreach (var (clinic, head) in heads)
            {
                if (head > 0 && !progress.Any(p => p.Name == $"HighWaterMark:{clinic}") && now - Started > options.StallAfter)
                {
                    stalled.Add($"HighWaterMark:{clinic} (the daemon has not started)");
                }
            }
        }

        data["newestEvent"] = newest;

        return stalled.Count > 0
            ? HealthCheckResult.Unhealthy($"projections stalled: {string.Join(", ", stalled)}", data: data)
            : HealthCheckResult.Healthy("projections keep up", data);
    }

    private static readonly DateTimeOffset Started = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();
}
