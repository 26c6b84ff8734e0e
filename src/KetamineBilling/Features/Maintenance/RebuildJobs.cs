using JasperFx.Events.Daemon;
using Marten;
using KetamineBilling.Infrastructure;
using Npgsql;

namespace KetamineBilling.Features.Maintenance;

public enum RebuildState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled
}

/// <summary>
/// A rebuild of one read model or of all, run in the background (a Marten document, so every node sees it): who asked,
/// when, which read models, its state and progress, what each rebuilt read model took, and why it failed (the kinds of
/// failure only: no exception message, which may quote event data).
/// </summary>
public sealed class RebuildJob
{
    public Guid Id { get; set; }

    /// <summary>The clinic whose read models it rebuilds (from its own events only).</summary>
    public string Clinic { get; set; } = "";

    public List<string> Projections { get; set; } = [];

    public string RequestedBy { get; set; } = "";

    public DateTimeOffset RequestedAt { get; set; }

    /// <summary>The node that runs it (its machine name).</summary>
    public string Node { get; set; } = "";

    public RebuildState State { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Percent of the work done: finished read models, and the ones under way by their position in the event log.</summary>
    public double Progress { get; set; }

    /// <summary>The read models being rebuilt right now.</summary>
    public List<string> Rebuilding { get; set; } = [];

    /// <summary>Each read model rebuilt so far (a cancelled or failed job keeps the ones it finished).</summary>
    public List<RebuildResult> Results { get; set; } = [];

    /// <summary>The newest event's sequence when it started.</summary>
    public long Events { get; set; }

    public double Seconds { get; set; }

    public double EventsPerSecond { get; set; }

    public string? Error { get; set; }

    public string? CancelledBy { get; set; }

    public bool Finished => State is RebuildState.Succeeded or RebuildState.Failed or RebuildState.Cancelled;
}

/// <summary>A request to cancel a job (its own document: the job's runner, on whatever node, sees it within half a second).</summary>
public sealed class RebuildCancel
{
    public Guid Id { get; set; }

    public string By { get; set; } = "";

    public DateTimeOffset At { get; set; }
}

/// <summary>
/// Runs rebuilds in the background of the node that was asked, one at a time across every node: a PostgreSQL advisory
/// lock (<see cref="LockKey"/>), taken on a connection of its own before the job is written and held until it has ended,
/// so a second request on any node finds it taken (409 naming the running job), and a node that dies lets go of it with
/// its connection. The job never depends on the request that started it: the client may leave. Live shards are
/// restarted whatever the outcome (<see cref="ProjectionMaintenance.RebuildManyAsync"/>). On shutdown the job is
/// interrupted and recorded as cancelled.
/// </summary>
public sealed class RebuildJobs(
    IDocumentStore store, IGlobalStore global, IServiceProvider services, IConfiguration configuration, TimeProvider clock, ILogger<RebuildJobs> logger)
    : IHostedService, IAsyncDisposable
{
    // A node started with Marten:DaemonMode=Disabled only serves requests: it has no daemon to rebuild with.
    private readonly IProjectionCoordinator? _coordinator = services.GetService<IProjectionCoordinator>();

    private readonly bool _distributed = Cluster.ProjectionsMode(configuration) is ProjectionsMode.Distributed;

    /// <summary>Whether this node can run a rebuild: it runs a projection daemon, or its cluster's nodes do (Distributed).</summary>
    public bool RunsProjections => _distributed || _coordinator is not null;

    /// <summary>The advisory lock's first key ("KBRB"), the second the clinic's hash: one rebuild at a time per clinic.</summary>
    public const int LockKey = 0x4B42_5242;

    /// <summary>The clinic's half of the lock key (FNV-1a: the same on every node, unlike string.GetHashCode).</summary>
    public static int LockKeyOf(string clinic)
    {
        var hash = 2166136261u;
        foreach (var c in clinic) hash = (hash ^ c) * 16777619u;
        return unchecked((int)hash);
    }

    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);

    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;
    private readonly object _gate = new();
    private (Guid Id, CancellationTokenSource Cancel, Task Run)? _current;

    /// <summary>The job this node runs now, if any (tests wait on it).</summary>
    public Task? Running
    {
        get
        {
            lock (_gate) return _current?.Run;
        }
    }

    /// <summary>
    /// Takes the lock and starts the job, or answers which job holds it (null when another node holds the lock and its
    /// job is not written yet).
    /// </summary>
    public async Task<(RebuildJob? Started, RebuildJob? Running)> StartAsync(
        string clinic, IReadOnlyList<string> names, int parallel, string by, CancellationToken ct)
    {
        if (!RunsProjections) throw new InvalidOperationException("This node runs no projection daemon (Marten:DaemonMode is Disabled): it cannot rebuild.");
        // Its own physical connection (no pooling): closing it always lets go of the lock, even if the unlock failed.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Marten")) { Pooling = false }.ConnectionString);
        RebuildJob job;
        try
        {
            await connection.OpenAsync(ct);
            await using (var take = new NpgsqlCommand("select pg_try_advisory_lock($1, $2)", connection)
                         { Parameters = { new NpgsqlParameter { Value = LockKey }, new NpgsqlParameter { Value = LockKeyOf(clinic) } } })
            {
                if (!(bool)(await take.ExecuteScalarAsync(ct))!)
                {
                    await connection.DisposeAsync();
                    return (null, await ActiveAsync(clinic, ct));
                }
            }

            var now = clock.GetUtcNow();
            await using var session = global.LightweightSession();
            // A job still queued or running while the lock was free was left by a node that stopped (its lock went with it).
            foreach (var orphan in await session.Query<RebuildJob>()
                         .Where(j => j.Clinic == clinic && (j.State == RebuildState.Queued || j.State == RebuildState.Running)).ToListAsync(ct))
            {
                orphan.State = RebuildState.Failed;
                orphan.Error = "the node running it stopped before it finished";
                orphan.FinishedAt = now;
                orphan.Rebuilding = [];
                session.Store(orphan);
            }

            job = new RebuildJob
            {
                Id = Guid.CreateVersion7(), Clinic = clinic, Projections = [.. ProjectionMaintenance.WithReaders(names)], RequestedBy = by, RequestedAt = now, Node = Environment.MachineName, State = RebuildState.Queued
            };
            session.Store(job);
            await session.SaveChangesAsync(ct);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task run;
        // The job must not carry the request's context (its HttpContext, its log scope) into the background.
        using (ExecutionContext.SuppressFlow())
        {
            run = Task.Run(async () =>
            {
                await go.Task;
                await RunAsync(job, parallel, connection, cancel);
            }, CancellationToken.None);
        }

        lock (_gate) _current = (job.Id, cancel, run);
        go.SetResult();
        return (job, null);
    }

    /// <summary>The clinic's newest job still queued or running.</summary>
    public async Task<RebuildJob?> ActiveAsync(string clinic, CancellationToken ct)
    {
        await using var session = global.QuerySession();
        return await session.Query<RebuildJob>().Where(j => j.Clinic == clinic && (j.State == RebuildState.Queued || j.State == RebuildState.Running))
            .OrderByDescending(j => j.RequestedAt).FirstOrDefaultAsync(ct);
    }

    /// <summary>Asks the clinic's job to stop between read models; null when there is no such job. A finished job is returned as it is.</summary>
    public async Task<RebuildJob?> CancelAsync(string clinic, Guid id, string by, CancellationToken ct)
    {
        await using var session = global.LightweightSession();
        var job = await session.LoadAsync<RebuildJob>(id, ct);
        if (job is null || job.Clinic != clinic) return null;
        if (job.Finished) return job;
        session.Store(new RebuildCancel { Id = id, By = by, At = clock.GetUtcNow() });
        await session.SaveChangesAsync(ct);
        lock (_gate)
        {
            if (_current is { } current && current.Id == id) current.Cancel.Cancel();
        }

        logger.LogWarning("Rebuild {JobId} cancel asked by {User}", id, by);
        job.CancelledBy = by;
        return job;
    }

    private async Task RunAsync(RebuildJob job, int parallel, NpgsqlConnection lockConnection, CancellationTokenSource cancel)
    {
        var progress = new RebuildProgress();
        using var ticking = new CancellationTokenSource();
        Task? ticker = null;
        // The outcome is written only once the status updates have stopped: a poller never sees "succeeded" half-filled.
        var state = RebuildState.Failed;
        string? error = null;
        RebuildAllResult? result = null;
        try
        {
            job.State = RebuildState.Running;
            job.StartedAt = clock.GetUtcNow();
            await SaveAsync(job);
            ticker = TickAsync(job, progress, cancel, ticking.Token);
            logger.LogWarning("Rebuild {JobId} of {Count} read model(s) started, asked by {User}", job.Id, job.Projections.Count, job.RequestedBy);
            result = _distributed
                ? await RebuildWhereTheShardsRunAsync(job, parallel, progress, cancel.Token)
                : await ProjectionMaintenance.RebuildManyAsync(job.Clinic, job.Projections, parallel, store, _coordinator!, job.RequestedBy, logger, progress,
                    cancel.Token, _stopping.Token);
            state = RebuildState.Succeeded;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            state = RebuildState.Cancelled;
            if (_stopping.IsCancellationRequested) error = "the node stopped while it ran";
        }
        catch (RebuildFailedException e)
        {
            logger.LogError(e, "Rebuild {JobId} failed on {Projection}", job.Id, e.Projection);
            error = e.Describe();
        }
        catch (Exception e)
        {
            logger.LogError(e, "Rebuild {JobId} failed", job.Id);
            error = $"the rebuild failed ({e.GetType().Name}); the node's log has the details";
        }
        finally
        {
            await ticking.CancelAsync();
            if (ticker is not null) await ticker;
            job.State = state;
            job.Error = error;
            if (result is not null)
            {
                job.Progress = 100;
                job.Events = result.Events;
                job.Seconds = result.Seconds;
                job.EventsPerSecond = result.EventsPerSecond;
            }

            job.Results = [.. progress.Results];
            job.Rebuilding = [];
            job.FinishedAt = clock.GetUtcNow();
            if (job.Events == 0) job.Events = job.Results.Select(r => r.Events).DefaultIfEmpty().Max();
            if (job.Seconds == 0 && job.StartedAt is { } started) job.Seconds = Math.Round((job.FinishedAt.Value - started).TotalSeconds, 2);
            try
            {
                await using (var session = global.LightweightSession())
                {
                    job.CancelledBy ??= (await session.LoadAsync<RebuildCancel>(job.Id, CancellationToken.None))?.By;
                }

                await SaveAsync(job);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Recording the end of rebuild {JobId} failed", job.Id);
            }

            logger.LogWarning("Rebuild {JobId} {State} after {Seconds} s", job.Id, job.State, job.Seconds);
            // Let go of the lock only once the job's end is written: a request that finds the lock free finds the job ended.
            try
            {
                await using var release = new NpgsqlCommand("select pg_advisory_unlock($1, $2)", lockConnection)
                    { Parameters = { new NpgsqlParameter { Value = LockKey }, new NpgsqlParameter { Value = LockKeyOf(job.Clinic) } } };
                await release.ExecuteScalarAsync(CancellationToken.None);
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Releasing the rebuild lock failed; closing its connection releases it");
            }

            await lockConnection.DisposeAsync();
            lock (_gate) _current = null;
            cancel.Dispose();
        }
    }

    /// <summary>
    /// Distributed mode: each async read model is rebuilt by the node that runs its shard (no second writer, and the
    /// shard resumes where it lives); an inline one here. The job's node waits for each and records its progress.
    /// </summary>
    private async Task<RebuildAllResult> RebuildWhereTheShardsRunAsync(RebuildJob job, int parallel, RebuildProgress progress, CancellationToken cancel)
    {
        var events = await ProjectionMaintenance.NewestEventAsync(store, job.Clinic, _stopping.Token);
        var total = System.Diagnostics.Stopwatch.StartNew();
        var shards = services.GetRequiredService<ShardRebuilds>();
        await ProjectionMaintenance.EachAsync(job.Projections, parallel, events, job.RequestedBy, logger, progress,
            (name, ct) => shards.RebuildOnItsNodeAsync(job.Id, job.Clinic, name, job.RequestedBy, ct), cancel, _stopping.Token);
        var seconds = Math.Round(total.Elapsed.TotalSeconds, 2);
        return new RebuildAllResult(progress.Results, events, seconds, Math.Round(events / Math.Max(seconds, 0.01)));
    }

    /// <summary>Writes the job's progress twice a second, and notices a cancel asked on another node.</summary>
    private async Task TickAsync(RebuildJob job, RebuildProgress progress, CancellationTokenSource cancel, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    var positions = await ProjectionMaintenance.PositionsAsync(store, job.Clinic, ct);
                    var head = await ProjectionMaintenance.NewestEventAsync(store, job.Clinic, ct);
                    var current = progress.Current;
                    var results = progress.Results;
                    var partial = current.Sum(name => head == 0 ? 0 : Math.Clamp((double)positions.GetValueOrDefault(name) / head, 0, 1));
                    job.Rebuilding = [.. current];
                    job.Results = [.. results];
                    job.Progress = Math.Round(100 * (results.Count + partial) / Math.Max(job.Projections.Count, 1), 1);
                    await using (var session = global.QuerySession())
                    {
                        if (!cancel.IsCancellationRequested && await session.LoadAsync<RebuildCancel>(job.Id, ct) is { } asked)
                        {
                            job.CancelledBy = asked.By;
                            await cancel.CancelAsync();
                        }
                    }

                    await SaveAsync(job);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Recording the progress of rebuild {JobId} failed", job.Id);
                }

                await Task.Delay(Tick, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SaveAsync(RebuildJob job)
    {
        await using var session = global.LightweightSession();
        session.Store(job);
        await session.SaveChangesAsync(CancellationToken.None);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The node is stopping: the job is interrupted (recorded as cancelled) and its end written before the store goes.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (Running is { } run)
        {
            await Task.WhenAny(run, Task.Delay(Timeout.Infinite, cancellationToken));
        }
    }

    /// <summary>Disposed twice (as the singleton and as the hosted service): the second time does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stopping.CancelAsync();
    }
}
