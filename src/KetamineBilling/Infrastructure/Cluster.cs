using Npgsql;
using Wolverine;

namespace KetamineBilling.Infrastructure;

/// <summary>Where a node runs the async projections (setting <c>Marten:DaemonMode</c>).</summary>
public enum ProjectionsMode
{
    /// <summary>
    /// The default: Wolverine's leader node assigns each async shard to exactly one live node, spreads them across the
    /// nodes, and moves a dead node's shards to the others (ADR 0015).
    /// </summary>
    Distributed,

    /// <summary>Every shard on this node, no coordination: one node only (tests, a single-node install).</summary>
    Solo,

    /// <summary>Marten's own hot-cold daemon: all shards on whichever node takes the lock first; no spreading.</summary>
    HotCold,

    /// <summary>A node that only serves requests.</summary>
    Disabled
}

/// <summary>
/// How the nodes of one database find each other, elect a leader and notice a dead one (section <c>Cluster</c>).
/// A node that has not written its heartbeat for <see cref="StaleNodeTimeout"/> is dead: its shards and its durable
/// messages go to the others. Measured: a killed node's shards ran on the survivor 11-15 s after a kill -9 with the
/// defaults (docs/benchmarks-nodes.md).
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>How often each node writes its heartbeat, and the leader re-checks the assignments.</summary>
    public TimeSpan HealthCheckPolling { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A node silent this long is dead (keep it at least 4 heartbeats: a long GC pause is not a death).</summary>
    public TimeSpan StaleNodeTimeout { get; set; } = TimeSpan.FromSeconds(12);

    /// <summary>How often the node holding the durable inbox's recovery looks for messages a dead node left.</summary>
    public TimeSpan RecoveryPolling { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The first heartbeat and recovery after a start.</summary>
    public TimeSpan FirstCheck { get; set; } = TimeSpan.FromSeconds(3);
}

public static class Cluster
{
    public static ProjectionsMode ProjectionsMode(IConfiguration configuration) =>
        configuration["Marten:DaemonMode"] is { Length: > 0 } mode
            ? Enum.TryParse<ProjectionsMode>(mode, ignoreCase: true, out var parsed)
                ? parsed
                : throw new InvalidOperationException($"Marten:DaemonMode is '{mode}': use Distributed (the default), Solo, HotCold or Disabled (docs/runbook.md).")
            : Infrastructure.ProjectionsMode.Distributed;

    public static ClusterOptions Options(IConfiguration configuration) =>
        configuration.GetSection("Cluster").Get<ClusterOptions>() ?? new ClusterOptions();

    /// <summary>TCP keepalives on every connection unless the connection string sets its own.</summary>
    public static string WithKeepalive(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.KeepAlive == 0) builder.KeepAlive = 30;
        builder.TcpKeepAlive = true;
        return builder.ConnectionString;
    }

    /// <summary>The heartbeat, leader election and recovery timings (Wolverine's durability agent, Balanced mode).</summary>
    public static void Configure(WolverineOptions opts, ClusterOptions cluster)
    {
        opts.Durability.Mode = DurabilityMode.Balanced;
        opts.Durability.HealthCheckPollingTime = cluster.HealthCheckPolling;
        opts.Durability.StaleNodeTimeout = cluster.StaleNodeTimeout;
        opts.Durability.FirstHealthCheckExecution = cluster.FirstCheck;
        opts.Durability.ScheduledJobFirstExecution = cluster.FirstCheck;
        opts.Durability.ScheduledJobPollingTime = cluster.RecoveryPolling;
        opts.Durability.OrphanedMessageSweepPollingTime = cluster.RecoveryPolling;
    }
}
