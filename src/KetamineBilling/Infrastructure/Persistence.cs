using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Daemon;
using JasperFx.MultiTenancy;
using Marten;
using Npgsql;
using Wolverine.Marten;

namespace KetamineBilling.Infrastructure;

public static class Persistence
{
    /// <summary>Events a projection's page reads at a time (Marten's default is 500): fewer round trips in a rebuild.</summary>
    public const int RebuildBatchSize = 2000;

    /// <summary>The events a self-aggregating document folds (its Create and Apply methods): what a read model of it follows.</summary>
    public static Type[] FoldedBy(Type document) => document
        .GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Static)
        .Where(m => m.Name is "Apply" or "Create" && m.GetParameters().Length == 1)
        .Select(m => m.GetParameters()[0].ParameterType).Distinct().ToArray();

    /// <summary>
    /// For the big snapshots (accounts, claims): pages of <see cref="RebuildBatchSize"/> events, and during a rebuild
    /// each document written once per 500 changed aggregates instead of once per page it appears in. The documents wait
    /// in memory: with 1,000 a rebuild of everything peaked at 511-557 MB, with 500 at 432-462 MB, in the same 41-42 s
    /// (ADR 0011).
    /// </summary>
    public static void RebuildInBulk(JasperFx.Events.Projections.AsyncOptions options)
    {
        options.BatchSize = RebuildBatchSize;
        options.RebuildFlushThreshold = 500;
    }

    public const string DefaultSchema = "billing";
    public const string DefaultMessagingSchema = "wolverine";

    /// <summary>
    /// The schemas beside the clinics' one (<c>Marten:Schema</c>): the global store's ("platform") and Marten's clinic
    /// registry ("tenancy") in the master database, the clinics' partition bookkeeping ("tenants") in each clinic database.
    /// A host with a schema of its own (a test's, a second installation in the same databases) gets its own of each:
    /// <c>{schema}_platform</c>, <c>{schema}_tenancy</c>, <c>{schema}_tenants</c>.
    /// </summary>
    public static (string Global, string Tenancy, string Partitions) SchemasBeside(string schema) =>
        schema == DefaultSchema ? ("platform", "tenancy", "tenants") : ($"{schema}_platform", $"{schema}_tenancy", $"{schema}_tenants");

    /// <summary>
    /// Npgsql's automatic preparation, unless the connection string sets it (0 turns it off): a statement a connection
    /// has run twice is prepared on it, so PostgreSQL stops parsing and planning Marten's and Wolverine's repeated SQL.
    /// Measured in scenario 2 (ADR 0017): PostgreSQL's CPU a command 1.68-1.90 ms instead of 2.41-2.55. Production only: a
    /// node of a development or test host changes its schema as it runs, and a prepared statement would outlive it.
    /// </summary>
    public static string WithAutoPrepare(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (given.ContainsKey("Max Auto Prepare") || given.ContainsKey("MaxAutoPrepare")) return connectionString;
        return new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 100 }.ConnectionString;
    }

    public static void AddPersistence(this WebApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Marten");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "ConnectionStrings:Marten is not set. ops/run.sh sets it (env ConnectionStrings__Marten); see docs/runbook.md.");
        }

        var schema = builder.Configuration["Marten:Schema"] ?? DefaultSchema;
        var messagingSchema = builder.Configuration["Wolverine:Schema"] ?? DefaultMessagingSchema;
        var evolveSchema = !builder.Environment.IsProduction();
        var projections = Cluster.ProjectionsMode(builder.Configuration);
        // TCP keepalives: a node whose host vanishes without closing its connections (a lost VM, a partition) lets go
        // of the cluster's leader lock within a minute instead of when the kernel gives up (ADR 0015).
        connectionString = Cluster.WithKeepalive(connectionString);
        // A Production node prepares the statements it repeats (ADR 0017): its schema is fixed before it starts.
        var production = builder.Environment.IsProduction();
        if (production) connectionString = WithAutoPrepare(connectionString);
        var databases = ClinicDatabases.FromConfiguration(builder.Configuration, connectionString, production);
        builder.Services.AddSingleton(databases);
        builder.Services.AddSingleton<Clinics>();
        builder.Services.AddSingleton<RedactingMartenLogger>();
        var marten = builder.Services.AddMarten(services =>
            {
                var opts = new StoreOptions();
                // Clinics are tenants (ADR 0016): Marten's sharded tenancy keeps the registry of pool databases and of
                // the clinic placed in each in the master database; every document and stream is the clinic's own
                // (conjoined, a LIST partition per clinic), many small clinics share a database, a clinic group can
                // have one of its own. Only an onboarded clinic exists: an unknown code never provisions anything.
                opts.MultiTenantedWithShardedDatabases(x =>
                {
                    x.ConnectionString = connectionString;
                    x.SchemaName = SchemasBeside(schema).Tenancy;
                    x.PartitionSchemaName = SchemasBeside(schema).Partitions;
                    // The registry's own tables, even in Production (where the clinics' schema is only checked).
                    x.AutoCreate = AutoCreate.CreateOrUpdate;
                    foreach (var (id, pooled) in databases.Pool) x.AddDatabase(id, pooled);
                    x.UseExplicitAssignment();
                });
                opts.TenantIdStyle = TenantIdStyle.ForceLowerCase;
                // One clinic's read models rebuild from that clinic's events alone (the events are partitioned by
                // clinic too, each with its own sequence and projection progress).
                opts.Events.UseTenantPartitionedEvents = true;
                opts.Logger(services.GetRequiredService<RedactingMartenLogger>());
                opts.DatabaseSchemaName = schema;
                // Outside Production the app evolves its own schema; in Production `resources setup` / `db-apply`
                // does it before the app starts, and the app only checks.
                opts.AutoCreateSchemaObjects = evolveSchema ? AutoCreate.CreateOrUpdate : AutoCreate.None;

                opts.Events.AppendMode = EventAppendMode.QuickWithServerTimestamps;
                // Async projections within a second of the ledger (ADR 0011): the daemon looks for new events every 100 ms
                // while they come and every 500 ms when it has caught up (Marten's 250 ms / 1 s made the lag p99 1.3 s);
                // two appends racing on one stream take turns, so the loser cannot leave a hole in the sequence that
                // would hold every async projection back until the hole is judged stale.
                opts.Events.UseExclusiveLockOnConcurrentAppends = true;
                opts.Projections.FastPollingTime = TimeSpan.FromMilliseconds(100);
                opts.Projections.SlowPollingTime = TimeSpan.FromMilliseconds(500);
                opts.Projections.StaleSequenceThreshold = TimeSpan.FromSeconds(1);
                // Who (user id), why (correlation / causation) on every event: the audit trail of a stream.
                opts.Events.MetadataConfig.EnableAll();

                // Money read models must never skip an event silently: a bad event stops its shard
                // and /health/ready says so.
                // A rebuild writes its documents with COPY where it only inserts (the snapshots flushed once per aggregate).
                opts.Projections.RebuildWithBulkCopy = true;
                opts.Projections.Errors.SkipApplyErrors = false;
                opts.Projections.Errors.SkipSerializationErrors = false;
                opts.Projections.Errors.SkipUnknownEvents = false;
                opts.Projections.RebuildErrors.SkipApplyErrors = false;
                opts.Projections.RebuildErrors.SkipSerializationErrors = false;
                opts.Projections.RebuildErrors.SkipUnknownEvents = false;
                return opts;
            })
            .UseLightweightSessions();
        // Distributed (the default): Wolverine's leader spreads the async shards across the live nodes, each on exactly
        // one, and moves a dead node's shards to the others (ADR 0015). Solo / HotCold: Marten's own daemon (one node, or
        // one node at a time). Disabled: a node that only serves requests.
        if (projections is not ProjectionsMode.Distributed)
        {
            marten.AddAsyncDaemon(projections switch
            {
                ProjectionsMode.Solo => DaemonMode.Solo,
                ProjectionsMode.HotCold => DaemonMode.HotCold,
                _ => DaemonMode.Disabled
            });
        }

        marten.IntegrateWithWolverine(w =>
        {
            // Wolverine's node and agent tables and its envelopes without a clinic live in the master database; a
            // clinic's outbox is written in its own database, in the transaction of its events.
            w.MainDatabaseConnectionString = connectionString;
            w.MessageStorageSchemaName = messagingSchema;
            w.UseWolverineManagedEventSubscriptionDistribution = projections is ProjectionsMode.Distributed;
        });

        var global = builder.Services.AddMartenStore<IGlobalStore>(services =>
        {
            var opts = new StoreOptions();
            opts.Connection(connectionString);
            opts.Logger(services.GetRequiredService<RedactingMartenLogger>());
            opts.DatabaseSchemaName = SchemasBeside(schema).Global;
            opts.AutoCreateSchemaObjects = evolveSchema ? AutoCreate.CreateOrUpdate : AutoCreate.None;
            opts.Schema.For<ClinicRecord>().Identity(c => c.Id);
            foreach (var configure in services.GetServices<GlobalStoreConfiguration>()) configure.Apply(opts);
            return opts;
        });
        if (evolveSchema)
        {
            marten.ApplyAllDatabaseChangesOnStartup();
            global.ApplyAllDatabaseChangesOnStartup();
        }
        else
        {
            // A schema that `resources setup` has not brought up to date stops the start, loudly.
            marten.AssertDatabaseMatchesConfigurationOnStartup();
        }
    }

    /// <summary>Registers documents (or schema objects) of the global store, like ConfigureMarten does for the clinics' store.</summary>
    public static IServiceCollection ConfigureGlobalStore(this IServiceCollection services, Action<StoreOptions> configure) =>
        services.AddSingleton(new GlobalStoreConfiguration(configure));
}

public sealed record GlobalStoreConfiguration(Action<StoreOptions> Apply);
