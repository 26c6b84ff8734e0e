using System.Collections.Concurrent;
using System.Diagnostics;
using JasperFx.Events.Projections;
using Marten;
using Wolverine;
using Wolverine.Runtime;
using Wolverine.Runtime.Agents;

namespace KetamineBilling.Features.Maintenance;

/// <summary>
/// A rebuild job asks the node that runs an async read model's shard to rebuild it there (Distributed mode): the job's
/// node handles this first and forwards it to the shard's node when the shard runs elsewhere.
/// </summary>
/// <param name="Id">This attempt's id: the <see cref="ShardRebuild"/> document the shard's node writes.</param>
/// <param name="Clinic">The clinic whose shard of the read model is rebuilt (from its own events only).</param>
public sealed record RebuildShard(Guid Id, Guid JobId, string Projection, string By, string Clinic);

/// <summary>What the shard's node did with a <see cref="RebuildShard"/>: running, then succeeded or failed.</summary>
public sealed class ShardRebuild
{
    public Guid Id { get; set; }

    public Guid JobId { get; set; }

    public string Projection { get; set; } = "";

    /// <summary>The node that ran it (Wolverine's node number), 0 when none could.</summary>
    public int Node { get; set; }

    public RebuildState State { get; set; }

    public double Seconds { get; set; }

    /// <summary>The kinds of failure only (no exception message: it may quote event data).</summary>
    public string? Error { get; set; }

    public DateTimeOffset At { get; set; }
}

public static class RebuildShardHandler
{
    /// <summary>
    /// Runs the rebuild here when this node runs the shard, else forwards the command to the node that does (over the
    /// cluster's control queue): either way the handler returns at once, and the rebuild runs in that node's background.
    /// </summary>
    public static async Task Handle(RebuildShard command, IMessageContext context, IWolverineRuntime runtime, ShardRebuilds rebuilds, CancellationToken ct)
    {
        var family = runtime.Services.GetService<IEventSubscriptionAgentFamily>();
        var uri = family is null ? null : await family.FindAgentUriAsync($"{command.Projection}:All", command.Clinic, ct);
        if (uri is null)
        {
            await rebuilds.RecordAsync(command, RebuildState.Failed, 0, $"{command.Projection} has no distributed shard", node: 0);
            return;
        }

        var outcome = await context.InvokeOnAgentAsync<IEventSubscriptionAgent>(uri, agent =>
        {
            rebuilds.Start(command, agent);
            return Task.CompletedTask;
        }, ct);
        if (outcome is AgentInvocationOutcome.NoOwner or AgentInvocationOutcome.NotRunningLocally)
        {
            await rebuilds.RecordAsync(command, RebuildState.Failed, 0,
                $"no node runs {command.Projection} right now (the cluster is moving it after a node stopped); try again in a minute", node: 0);
        }
    }
}

/// <summary>The shard rebuilds this node runs for rebuild jobs (of any node), in its background; stopped with the node.</summary>
public sealed class ShardRebuilds(IDocumentStore store, KetamineBilling.Infrastructure.IGlobalStore global, IWolverineRuntime runtime, ILogger<ShardRebuilds> logger)
    : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Guid, Task> _running = new();
    private int _disposed;

    private int Node => runtime.Options.Durability.AssignedNodeNumber;

    /// <summary>Starts the shard's rebuild in the background; a second delivery of the same command does nothing.</summary>
    public void Start(RebuildShard command, IEventSubscriptionAgent agent)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task run;
        using (ExecutionContext.SuppressFlow())
        {
            run = Task.Run(async () =>
            {
                await started.Task;
                await RunAsync(command, agent);
            });
        }

        if (_running.TryAdd(command.Id, run)) started.SetResult();
        else started.SetCanceled();
    }

    private async Task RunAsync(RebuildShard command, IEventSubscriptionAgent agent)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await RecordAsync(command, RebuildState.Running, 0, null);
            logger.LogWarning("Rebuilding shard {Projection} on node {Node} for rebuild {JobId}, asked by {User}", command.Projection, Node, command.JobId, command.By);
            await agent.RebuildAsync(_stopping.Token);
            await RecordAsync(command, RebuildState.Succeeded, watch.Elapsed.TotalSeconds, null);
            logger.LogWarning("Rebuilt shard {Projection} on node {Node} in {Seconds} s", command.Projection, Node, Math.Round(watch.Elapsed.TotalSeconds, 2));
        }
        catch (Exception e)
        {
            logger.LogError(e, "Rebuilding shard {Projection} on node {Node} failed", command.Projection, Node);
            var kinds = new List<string>();
            for (var inner = e; inner is not null; inner = inner.InnerException) kinds.Add(inner.GetType().Name);
            var error = _stopping.IsCancellationRequested
                ? $"node {Node} stopped while it rebuilt {command.Projection}"
                : $"{command.Projection} could not be rebuilt on node {Node} ({string.Join(" <- ", kinds.Distinct())}); that node's log has the details";
            await RecordAsync(command, RebuildState.Failed, watch.Elapsed.TotalSeconds, error);
        }
        finally
        {
            _running.TryRemove(command.Id, out _);
        }
    }

    /// <summary>Records what became of the command (<paramref name="node"/>: 0 when no node took it).</summary>
    public async Task RecordAsync(RebuildShard command, RebuildState state, double seconds, string? error, int? node = null)
    {
        try
        {
            await using var session = global.LightweightSession();
            session.Store(new ShardRebuild
            {
                Id = command.Id, JobId = command.JobId, Projection = command.Projection, Node = node ?? Node,
                State = state, Seconds = Math.Round(seconds, 2), Error = error, At = DateTimeOffset.UtcNow
            });
            await session.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Recording shard rebuild {Id} ({State}) failed", command.Id, state);
        }
    }

    /// <summary>
    /// Asks the node that runs <paramref name="projection"/>'s shard to rebuild it and waits for its answer; an inline
    /// read model (no shard) is rebuilt here. Throws when the rebuild failed or the node running it stopped.
    /// </summary>
    public async Task RebuildOnItsNodeAsync(Guid jobId, string clinic, string projection, string by, CancellationToken ct)
    {
        var lifecycle = store.Options.Events.Projections().First(p => p.Name == projection).Lifecycle;
        var family = runtime.Services.GetRequiredService<IEventSubscriptionAgentFamily>();
        if (lifecycle != ProjectionLifecycle.Async)
        {
            if (!await family.TryRebuildRegisteredProjectionAsync($"{projection}:All", clinic, ct))
                throw new InvalidOperationException($"{projection} is not a registered projection");
            return;
        }

        var command = new RebuildShard(Guid.CreateVersion7(), jobId, projection, by, clinic);
        await using (var scope = runtime.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IMessageBus>().InvokeAsync(command, ct);
        }

        var checkedNodes = Stopwatch.StartNew();
        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
            ShardRebuild? shard;
            await using (var session = global.QuerySession())
            {
                shard = await session.LoadAsync<ShardRebuild>(command.Id, ct);
            }

            switch (shard?.State)
            {
                case RebuildState.Succeeded:
                    return;
                case RebuildState.Failed:
                    throw new ShardRebuildFailedException(shard.Error ?? "failed");
            }

            // The node that took it may die: its shard moves, the rebuild does not.
            if (checkedNodes.Elapsed > TimeSpan.FromSeconds(5))
            {
                checkedNodes.Restart();
                var nodes = await runtime.Storage.Nodes.LoadAllNodesAsync(ct);
                if (shard is { State: RebuildState.Running } running && nodes.All(n => n.AssignedNodeNumber != running.Node))
                    throw new ShardRebuildFailedException($"node {running.Node} stopped while it rebuilt {projection}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stopping.CancelAsync();
        await Task.WhenAll(_running.Values).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { });
    }
}

/// <summary>The shard's node answered that its rebuild failed (the kinds of failure only).</summary>
public sealed class ShardRebuildFailedException(string error) : Exception(error);
