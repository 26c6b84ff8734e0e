using Npgsql;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// A lock held by a connection of the test's own, in an open transaction: a writer of the app that needs it stops
/// there, at a known point, whatever the machine's speed (PostgreSQL's own locking; no hook in the app).
/// </summary>
public sealed class HeldLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private bool _released;

    private HeldLock(NpgsqlConnection connection, NpgsqlTransaction transaction) => (_connection, _transaction) = (connection, transaction);

    /// <summary>A stream's row in mt_streams, FOR UPDATE: appends to that stream wait.</summary>
    public static Task<HeldLock> StreamAsync(string connectionString, string schema, Guid streamId) =>
        TakeAsync(connectionString, $"select 1 from {schema}.mt_streams where id = $1 for update", streamId);

    /// <summary>A whole table in the given lock mode (e.g. "access exclusive", or "exclusive": reads go on, writes wait).</summary>
    public static Task<HeldLock> TableAsync(string connectionString, string table, string mode) =>
        TakeAsync(connectionString, $"lock table {table} in {mode} mode", null);

    /// <summary>An advisory lock's key, as a node's own work takes it: that work waits (or, trying, goes without).</summary>
    public static Task<HeldLock> AdvisoryAsync(string connectionString, long key) =>
        TakeAsync(connectionString, "select pg_advisory_xact_lock($1)", key);

    private static async Task<HeldLock> TakeAsync(string connectionString, string sql, object? parameter)
    {
        var ct = TestContext.Current.CancellationToken;
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        var transaction = await connection.BeginTransactionAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        if (parameter is { } value) command.Parameters.Add(new NpgsqlParameter { Value = value });
        var rows = await command.ExecuteScalarAsync(ct);
        if (parameter is Guid && rows is not 1) throw new InvalidOperationException($"no row to hold for {parameter}");
        return new HeldLock(connection, transaction);
    }

    /// <summary>
    /// Waits until <paramref name="count"/> backends wait behind this lock, directly or behind one that does (a
    /// stream's appends take turns); fails if <paramref name="meanwhile"/> ends first or after <paramref name="within"/>.
    /// </summary>
    public async Task WaitersAsync(int count, Task meanwhile, string what, TimeSpan? within = null)
    {
        var ct = TestContext.Current.CancellationToken;
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        await using var waiting = new NpgsqlCommand("""
            with recursive behind(pid) as (
                select pid from pg_stat_activity where pg_backend_pid() = any(pg_blocking_pids(pid))
                union
                select a.pid from pg_stat_activity a join behind b on b.pid = any(pg_blocking_pids(a.pid)))
            select count(*) from behind
            """, _connection, _transaction);
        while ((long)(await waiting.ExecuteScalarAsync(ct))! < count)
        {
            Assert.False(meanwhile.IsCompleted, $"{what}: it finished without waiting on the held lock");
            Assert.True(DateTime.UtcNow < deadline, $"{what}: never waited on the held lock");
            await Task.Delay(20, ct);
        }
    }

    /// <summary>Lets go (the transaction rolls back, it changed nothing).</summary>
    public async Task ReleaseAsync()
    {
        if (_released) return;
        _released = true;
        await _transaction.RollbackAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await ReleaseAsync();
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
