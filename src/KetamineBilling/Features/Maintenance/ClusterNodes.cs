using JasperFx;
using JasperFx.Events.Daemon;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;
using Wolverine.Runtime;

namespace KetamineBilling.Features.Maintenance;

/// <summary>A node of the cluster as the nodes' shared table records it.</summary>
/// <param name="Number">Wolverine's node number (never reused).</param>
/// <param name="Leader">The node that assigns the shards.</param>
/// <param name="Projections">The read models whose shard the leader assigned to it (with Marten's own daemon, the answering
/// node's own ones).</param>
public sealed record ClusterNode(int Number, string Host, DateTimeOffset Started, DateTimeOffset LastHeartbeat, bool Leader, IReadOnlyList<string> Projections);

/// <summary>
/// The cluster seen from the node that answers: how it runs the read models, which ones it runs itself right now, and
/// every live node with what it was given.
/// </summary>
/// <param name="Mode">Distributed, Solo, HotCold or Disabled (<see cref="ProjectionsMode"/>).</param>
/// <param name="RunningHere">The async read models whose shard runs on this node now (its own daemon's word; with Marten's own
/// daemon, a shard paused after an error counts too: it is retried here).</param>
public sealed record ClusterView(string Mode, int ThisNode, IReadOnlyList<string> RunningHere, IReadOnlyList<ClusterNode> Nodes);

public static class ClusterNodesEndpoint
{
    [WolverineGet("/api/maintenance/nodes"), Authorize(Policy = Policies.BillingAdmin), NotTenanted]
    [Tags("Maintenance")]
    public static async Task<ClusterView> Get(IWolverineRuntime runtime, IConfiguration configuration, Marten.IDocumentStore store, CancellationToken ct)
    {
        var mode = Cluster.ProjectionsMode(configuration);
        var names = ProjectionMaintenance.AllNames(store);
        // An agent's address ends with the shard's lower-cased "name/key" (event-subscriptions://marten/main/{db}/payermonth/all).
        string? NameOf(Uri uri) => uri.Scheme == "event-subscriptions"
            ? names.FirstOrDefault(n => uri.AbsolutePath.TrimEnd('/').EndsWith($"/{n.ToLowerInvariant()}/all", StringComparison.Ordinal))
            : null;

        IReadOnlyList<string> here;
        if (mode is ProjectionsMode.Distributed)
        {
            here = runtime.Agents.AllRunningAgentUris().Select(NameOf).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
        }
        else
        {
            here = [];
            try
            {
                // One daemon per clinic database: every shard they started, running or paused after an error (it retries).
                var daemons = runtime.Services.GetService<IProjectionCoordinator>() is { } coordinator ? await coordinator.AllDaemonsAsync() : [];
                here = daemons.Where(d => d.IsRunning).SelectMany(d => d.CurrentAgents())
                    .Where(a => a.Status is AgentStatus.Running or AgentStatus.Paused).Select(a => a.Name.Name)
                    .Where(n => names.Contains(n)).Distinct().Order(StringComparer.Ordinal).ToList();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // No daemon on this node.
            }
        }

        var nodes = (await runtime.Storage.Nodes.LoadAllNodesAsync(ct))
            .OrderBy(n => n.AssignedNodeNumber)
            .Select(n => new ClusterNode(n.AssignedNodeNumber, n.Description, n.Started, n.LastHealthCheck, n.IsLeader(),
                // Marten's own daemon (Solo, HotCold) is not assigned by the leader: this node says what it runs itself.
                mode is not ProjectionsMode.Distributed && n.AssignedNodeNumber == runtime.Options.Durability.AssignedNodeNumber
                    ? here
                    : n.ActiveAgents.Select(NameOf).OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList()))
            .ToList();
        return new ClusterView(mode.ToString(), runtime.Options.Durability.AssignedNodeNumber, here, nodes);
    }
}
