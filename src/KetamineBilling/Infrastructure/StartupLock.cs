using Npgsql;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// Work that two nodes starting together must not both do (creating the first Data Protection key, seeding the demo):
/// a PostgreSQL advisory lock on a connection of the store's, waited for and held until disposed, so the second node finds
/// what the first one made. A node that dies lets go of it with its connection.
/// </summary>
public sealed class StartupLock : IAsyncDisposable
{
    /// <summary>"KBSTARTS": apart from the rebuild lock and Marten's and Wolverine's own small keys.</summary>
    public const long Key = 0x4B42_5354_4152_5453;

    private readonly NpgsqlConnection _connection;

    private StartupLock(NpgsqlConnection connection) => _connection = connection;

    /// <summary>Taken in the master database (the global store's): one lock for the whole platform.</summary>
    public static async Task<StartupLock> TakeAsync(IGlobalStore store, CancellationToken ct)
    {
        var connection = await ((Weasel.Postgresql.PostgresqlDatabase)store.Storage.Database).DataSource.OpenConnectionAsync(ct);
        try
        {
            await using var take = new NpgsqlCommand("select pg_advisory_lock($1)", connection) { Parameters = { new NpgsqlParameter { Value = Key } } };
            await take.ExecuteNonQueryAsync(ct);
            return new StartupLock(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Lets go of the lock, then gives the connection back (the pool's reset would let go of it too).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var release = new NpgsqlCommand("select pg_advisory_unlock($1)", _connection) { Parameters = { new NpgsqlParameter { Value = Key } } };
            await release.ExecuteNonQueryAsync(CancellationToken.None);
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }
}
