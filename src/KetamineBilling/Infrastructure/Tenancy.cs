using System.Text.RegularExpressions;
using JasperFx;
using Marten;
using Marten.Storage;
using Npgsql;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// The platform's own documents, shared by every clinic: accounts with their clinic memberships, the Data Protection
/// key ring, the clinic registry, the sign-in throttle and the background jobs. A single-tenant Marten store on the
/// master database, beside the clinics' sharded store (ADR 0016).
/// </summary>
public interface IGlobalStore : IDocumentStore;

/// <summary>A clinic (a tenant): its code is the tenant id of everything it owns; its database is where that lives.</summary>
public sealed class ClinicRecord
{
    /// <summary>The clinic's code: the tenant id, <c>[a-z0-9_]</c>, 2 to 40 characters, fixed for good.</summary>
    public string Id { get; set; } = "";

    public string Name { get; set; } = "";

    /// <summary>The pool database that holds it (Marten's tenant assignment says the same).</summary>
    public string Database { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public string? CreatedBy { get; set; }
}

/// <summary>Where the clinics' data lives: the master database and the pool databases clinics are placed in.</summary>
public sealed class ClinicDatabases
{
    /// <summary>The database a new clinic goes to unless it is placed elsewhere.</summary>
    public const string Shared = "shared";

    /// <summary>The local set-up's and the tests' second database: a clinic group of its own.</summary>
    public const string Group = "group";

    public required string Master { get; init; }

    /// <summary>Database id → connection string, seeded into Marten's pool on first use.</summary>
    public required IReadOnlyDictionary<string, string> Pool { get; init; }

    public string DefaultDatabase { get; init; } = Shared;

    private static readonly Regex CodeRule = new("^[a-z0-9_]{2,40}$", RegexOptions.Compiled);

    public static bool IsValidCode(string? code) => code is not null && CodeRule.IsMatch(code);

    /// <summary>
    /// <c>Clinics:Databases:{id}</c> names the pool databases; without any, two beside the master database by name:
    /// <c>{master}_shared</c> (every clinic by default) and <c>{master}_group</c> (a clinic group's own). ops/postgres.sh
    /// creates all three.
    /// </summary>
    public static ClinicDatabases FromConfiguration(IConfiguration configuration, string master, bool autoPrepare = false)
    {
        // With TCP keepalives, as the master's (ADR 0015): a vanished server is noticed within a minute; in Production
        // with the master's automatic preparation (ADR 0017).
        var pool = configuration.GetSection("Clinics:Databases").GetChildren()
            .Where(c => !string.IsNullOrWhiteSpace(c.Value))
            .ToDictionary(c => c.Key.ToLowerInvariant(), c => autoPrepare ? Persistence.WithAutoPrepare(Cluster.WithKeepalive(c.Value!)) : Cluster.WithKeepalive(c.Value!),
                StringComparer.Ordinal);
        if (pool.Count == 0)
        {
            pool[Shared] = Beside(master, "shared");
            pool[Group] = Beside(master, "group");
        }

        foreach (var id in pool.Keys.Where(id => !IsValidCode(id)))
        {
            throw new InvalidOperationException($"Clinics:Databases:{id}: a database id must match [a-z0-9_]{{2,40}}");
        }

        var preferred = configuration["Clinics:DefaultDatabase"] ?? (pool.ContainsKey(Shared) ? Shared : pool.Keys.First());
        if (!pool.ContainsKey(preferred))
        {
            throw new InvalidOperationException($"Clinics:DefaultDatabase '{preferred}' is not one of Clinics:Databases");
        }

        return new ClinicDatabases { Master = master, Pool = pool, DefaultDatabase = preferred };
    }

    /// <summary>The connection string of a database named <c>{master's database}_{suffix}</c> on the same server.</summary>
    public static string Beside(string master, string suffix)
    {
        var builder = new NpgsqlConnectionStringBuilder(master);
        builder.Database = $"{builder.Database}_{suffix}";
        return builder.ConnectionString;
    }
}

/// <summary>The clinics: the registry (global store) and Marten's placement of each in a database (sharded tenancy).</summary>
public sealed class Clinics(IDocumentStore store, IGlobalStore global, ClinicDatabases databases)
{
    private ShardedTenancy Tenancy => (ShardedTenancy)store.Options.Tenancy;

    public async Task<IReadOnlyList<ClinicRecord>> ListAsync(CancellationToken ct)
    {
        await using var session = global.QuerySession();
        return await session.Query<ClinicRecord>().OrderBy(c => c.Name).ToListAsync(ct);
    }

    public async Task<ClinicRecord?> FindAsync(string code, CancellationToken ct)
    {
        await using var session = global.QuerySession();
        return await session.LoadAsync<ClinicRecord>(code, ct);
    }

    /// <summary>The pool's databases, with how many clinics each holds.</summary>
    public async Task<IReadOnlyList<Weasel.Core.MultiTenancy.PooledDatabase>> DatabasesAsync(CancellationToken ct) =>
        await Tenancy.ListDatabasesAsync(ct);

    /// <summary>
    /// Adds a database to the pool (a clinic group's own, possibly on another server) and brings its schema up to date, so
    /// clinics can be placed in it at once, on every node, with no restart.
    /// </summary>
    public async Task AddDatabaseAsync(string databaseId, string connectionString, CancellationToken ct)
    {
        await store.Advanced.AddDatabaseToPoolAsync(databaseId, connectionString, ct);
        await PrepareAsync(databaseId, ct);
    }

    /// <summary>The database's schema (tables, functions, the clinics' partitions' parents), applied before a clinic goes in.</summary>
    public async Task PrepareAsync(string databaseId, CancellationToken ct)
    {
        var database = await store.Storage.FindOrCreateDatabase(databaseId);
        await database.ApplyAllConfiguredChangesToDatabaseAsync(AutoCreate.CreateOrUpdate);
    }

    /// <summary>
    /// Onboards a clinic: places it in <paramref name="databaseId"/> (its partitions are created there), then records it
    /// in the registry. A replay changes nothing (a registered clinic stays where it is; the same code elsewhere is refused by
    /// the caller). Marten's placement goes first: a clinic in the registry always has its partitions.
    /// </summary>
    public async Task<ClinicRecord> AddAsync(string code, string name, string databaseId, string? by, DateTimeOffset now, CancellationToken ct)
    {
        var existing = await FindAsync(code, ct);
        databaseId = existing?.Database ?? databaseId;
        // Again for a registered clinic too: placing it is idempotent, and repairs partitions a cleanup took away.
        await PrepareAsync(databaseId, ct);
        await store.Advanced.AddTenantToShardAsync(code, databaseId, ct);
        if (existing is not null) return existing;
        var record = new ClinicRecord { Id = code, Name = name.Trim(), Database = databaseId, CreatedAt = now, CreatedBy = by };
        await using var session = global.LightweightSession();
        session.Insert(record);
        await session.SaveChangesAsync(ct);
        return record;
    }

    public ClinicDatabases Databases => databases;
}
