using Npgsql;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// Work that two nodes must not both do at once (creating the first Data Protection key, seeding the demo, one clinic's
/// clearinghouse exchange): a PostgreSQL advisory lock on a connection of the master database, held until disposed, so the
/// second node finds what the first one made. A node that dies lets go of it with its connection.
/// </summary>
public sealed class StartupLock : IAsyncDisposable
{
    /// <summary>"KBSTARTS": apart from the rebuild lock and Marten's and Wolverine's own small keys.</summary>
    public const long Key = 0x4B42_5354_4152_5453;

    private readonly NpgsqlConnection _connection;
    private readonly long _key;

    private StartupLock(NpgsqlConnection connection, long key) => (_connection, _key) = (connection, key);

    /// <summary>Taken in the master database (the global store's): one lock for the whole platform.</summary>
    public static async Task<StartupLock> TakeAsync(IGlobalStore store, CancellationToken ct) => (await TakeAsync(store, Key, wait: true, ct))!;

    /// <summary>
    /// Another advisory lock of the master database (one clinic's clearinghouse exchange): waited for, or with
    /// <paramref name="wait"/> false tried once (null when another node holds it).
    /// </summary>
    public static async Task<StartupLock?> TakeAsync(IGlobalStore store, long key, bool wait, CancellationToken ct)
    {
        var connection = await ((Weasel.Postgresql.PostgresqlDatabase)store.Storage.Database).DataSource.OpenConnectionAsync(ct);
        try
        {
            await using var take = new NpgsqlCommand(wait ? "select true from pg_advisory_lock($1)" : "select pg_try_advisory_lock($1)", connection)
            {
                Parameters = { new NpgsqlParameter { Value = key } }
            };
            if ((bool)(await take.ExecuteScalarAsync(ct))!) return new StartupLock(connection, key);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    /// <summary>Lets go of the lock, then gives the connection back (the pool's reset would let go of it too).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var release = new NpgsqlCommand("select pg_advisory_unlock($1)", _connection) { Parameters = { new NpgsqlParameter { Value = _key } } };
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }
}
