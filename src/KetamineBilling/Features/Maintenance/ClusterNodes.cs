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
/// <param name="RunningHere">The async read models' shards that run on this node now, a clinic's as "Projection:clinic" (its own
/// daemon's word; with Marten's own daemon, a shard paused after an error counts too: it is retried here).</param>
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
        // A shard's agent: .../{database}/{projection}/all/{clinic}, a clinic's shard (tenant-partitioned events), shown as
        // "Projection:clinic"; .../{database}/{projection}/all, a database's own, as "Projection (database)".
        string? NameOf(Uri uri)
        {
            if (uri.Scheme != "event-subscriptions") return null;
            var path = uri.AbsolutePath.Trim('/').Split('/');
            var all = Array.LastIndexOf(path, "all");
            if (all < 1 || names.FirstOrDefault(n => n.ToLowerInvariant() == path[all - 1]) is not { } name) return null;
            return all + 1 < path.Length ? $"{name}:{path[all + 1]}" : all >= 2 ? $"{name} ({path[all - 2]})" : name;
        }

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
                    .Where(a => a.Status is AgentStatus.Running or AgentStatus.Paused && names.Contains(a.Name.Name))
                    .Select(a => a.Name.TenantId is { } clinic ? $"{a.Name.Name}:{clinic}" : a.Name.Name)
                    .Distinct().Order(StringComparer.Ordinal).ToList();
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
