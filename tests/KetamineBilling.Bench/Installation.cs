using JasperFx;
using JasperFx.Events;
using JasperFx.MultiTenancy;
using KetamineBilling.Infrastructure;
using Marten;
using Npgsql;

namespace KetamineBilling.Bench;

/// <summary>
/// The databases of an installation (ADR 0016): the master (Marten's clinic registry, the global store, Wolverine's
/// nodes) and the pool databases the clinics live in, each clinic in one of them. The harness's raw SQL on a clinic's
/// events, documents and projection progress goes to the clinic's database, through a connection of its own (named
/// kb-bench, so that the app's connections are counted apart).
/// </summary>
public sealed class Installation : IAsyncDisposable
{
    public const string Schema = Persistence.DefaultSchema;

    private readonly Dictionary<string, NpgsqlDataSource> _sources = new(StringComparer.Ordinal);
    private Dictionary<string, string> _pool = new(StringComparer.Ordinal);
    private Dictionary<string, string> _clinics = new(StringComparer.Ordinal);

    private Installation(string master)
    {
        Master = master;
        MasterSource = Named(master);
    }

    /// <summary>The master database's connection string (the app's ConnectionStrings:Marten).</summary>
    public string Master { get; }

    public NpgsqlDataSource MasterSource { get; }

    /// <summary>Pool database id → its connection string, as Marten's registry has it.</summary>
    public IReadOnlyDictionary<string, string> Pool => _pool;

    /// <summary>Clinic code → the pool database id it is placed in.</summary>
    public IReadOnlyDictionary<string, string> Clinics => _clinics;

    /// <summary>The PostgreSQL database names of the installation: the master's and every pool database's.</summary>
    public IReadOnlyList<string> DatabaseNames =>
        new[] { new NpgsqlConnectionStringBuilder(Master).Database! }.Concat(_pool.Values.Select(c => new NpgsqlConnectionStringBuilder(c).Database!))
            .Distinct(StringComparer.Ordinal).ToList();

    public static async Task<Installation> OpenAsync(string master)
    {
        var installation = new Installation(master);
        await installation.RefreshAsync();
        return installation;
    }

    /// <summary>Reads the registry again (after clinics or databases were added).</summary>
    public async Task RefreshAsync()
    {
        var tenancy = Persistence.SchemasBeside(Schema).Tenancy;
        await using var c = await MasterSource.OpenConnectionAsync();
        var pool = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand($"select database_id, connection_string from {tenancy}.mt_database_pool", c))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) pool[reader.GetString(0)] = reader.GetString(1);
        }

        var clinics = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand($"select tenant_id, database_id from {tenancy}.mt_tenant_assignments", c))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) clinics[reader.GetString(0)] = reader.GetString(1);
        }

        _pool = pool;
        _clinics = clinics;
    }

    /// <summary>The harness's connections to a pool database.</summary>
    public NpgsqlDataSource ForDatabase(string databaseId)
    {
        lock (_sources)
        {
            if (!_sources.TryGetValue(databaseId, out var source))
            {
                var connection = _pool.TryGetValue(databaseId, out var c) ? c : throw new InvalidOperationException($"no pool database '{databaseId}'");
                _sources[databaseId] = source = Named(connection);
            }

            return source;
        }
    }

    /// <summary>The harness's connections to the database a clinic lives in.</summary>
    public NpgsqlDataSource ForClinic(string clinic) =>
        ForDatabase(_clinics.TryGetValue(clinic, out var database) ? database : throw new InvalidOperationException($"clinic '{clinic}' is not placed in any database"));

    /// <summary>The app's connections to each of the installation's databases, now (the harness's own not counted).</summary>
    public async Task<IReadOnlyDictionary<string, long>> AppConnectionsByDatabaseAsync()
    {
        await using var c = await MasterSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("select datname, count(*) from pg_stat_activity where datname = any($1) and application_name <> 'kb-bench' and usename = current_user group by datname", c)
            { Parameters = { new NpgsqlParameter { Value = DatabaseNames.ToArray() } } };
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) counts[reader.GetString(0)] = reader.GetInt64(1);
        return counts;
    }

    /// <summary>The app's connections to the installation's databases, now (the harness's own not counted).</summary>
    public async Task<long> AppConnectionsAsync()
    {
        await using var c = await MasterSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("select count(*) from pg_stat_activity where datname = any($1) and application_name <> 'kb-bench' and usename = current_user", c)
            { Parameters = { new NpgsqlParameter { Value = DatabaseNames.ToArray() } } };
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// A store for writing a clinic's events as the app would (sessions opened for the clinic: its own partition and
    /// sequence), with no projection and no schema work: the clinics' store configured as the app configures it
    /// (Persistence.AddPersistence), the registry read from the master database.
    /// </summary>
    public DocumentStore ClinicStore() => DocumentStore.For(opts =>
    {
        var schemas = Persistence.SchemasBeside(Schema);
        opts.MultiTenantedWithShardedDatabases(x =>
        {
            x.ConnectionString = Master;
            x.SchemaName = schemas.Tenancy;
            x.PartitionSchemaName = schemas.Partitions;
            x.AutoCreate = AutoCreate.None;
            x.UseExplicitAssignment();
        });
        opts.TenantIdStyle = TenantIdStyle.ForceLowerCase;
        opts.Events.UseTenantPartitionedEvents = true;
        opts.DatabaseSchemaName = Schema;
        opts.AutoCreateSchemaObjects = AutoCreate.None;
        opts.Events.AppendMode = EventAppendMode.QuickWithServerTimestamps;
        opts.Events.MetadataConfig.EnableAll();
    });

    private static NpgsqlDataSource Named(string connection) =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connection) { ApplicationName = "kb-bench" }.ConnectionString);

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _sources.Values) await source.DisposeAsync();
        await MasterSource.DisposeAsync();
    }
}
