using System.Diagnostics;
using Npgsql;

namespace KetamineBilling.Bench;

/// <summary>
/// Issue 17's store of ten million events across many clinics: the bench clinic's store (scenario 5's bulk load, its
/// read models rebuilt, scenario 7's commands) copied in SQL to other clinics of the same database, each under its own
/// clinic code: every event, stream, read-model document and projection position of the clinic, as a restore of the
/// clinic's data under another code would make them. The copies are real clinics (onboarded by the app's
/// <c>add-clinic</c>, their own partitions and event sequence), so the database's tables, indexes and the node's
/// daemon carry ten times the events. Copying takes minutes; loading and rebuilding nine million events through Marten
/// would take about 40 here (scenario 5's rates), and scenario 5 measures that path once already.
/// </summary>
public static class LargeStore
{
    /// <summary>
    /// Copies <paramref name="source"/>'s data to each of <paramref name="copies"/> (onboarded clinics with no data), in
    /// <paramref name="dataSource"/> (the database both live in). Must run while no node runs: a node's daemon would
    /// project the copied events again over the copied documents. Returns the seconds it took; VACUUM (ANALYZE) the
    /// database after (<see cref="VacuumAsync"/>).
    /// </summary>
    public static async Task<double> CopyAsync(NpgsqlDataSource dataSource, string source, IReadOnlyList<string> copies)
    {
        const string schema = Installation.Schema;
        var watch = Stopwatch.StartNew();
        await using var c = await dataSource.OpenConnectionAsync();
        // Every table of the clinics' schema that keeps a clinic's rows (the partitioned parents and the few plain ones).
        var tables = new List<(string Table, string[] Columns)>();
        await using (var cmd = new NpgsqlCommand(
                         """
                         select c.relname, array_agg(a.attname::text order by a.attnum)
                         from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                         where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition
                           and exists (select 1 from pg_attribute t where t.attrelid = c.oid and t.attname = 'tenant_id' and not t.attisdropped)
                         group by c.relname order by c.relname
                         """, c) { Parameters = { new NpgsqlParameter { Value = schema } } })
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables.Add((reader.GetString(0), reader.GetFieldValue<string[]>(1)));
        }

        foreach (var copy in copies)
        {
            await using var tx = await c.BeginTransactionAsync();
            foreach (var (table, columns) in tables)
            {
                var list = string.Join(", ", columns.Select(Quote));
                var values = string.Join(", ", columns.Select(col => col == "tenant_id" ? "$2" : Quote(col)));
                await using var insert = new NpgsqlCommand($"insert into {schema}.{table} ({list}) select {values} from {schema}.{table} where tenant_id = $1", c, tx)
                    { CommandTimeout = 1800, Parameters = { new NpgsqlParameter { Value = source }, new NpgsqlParameter { Value = copy } } };
                await insert.ExecuteNonQueryAsync();
            }

            // The clinic's own event sequence goes on after its copied events; its shards (and its high-water mark) start
            // where the source's are.
            await using (var sequence = new NpgsqlCommand(
                             $"select setval('{schema}.mt_events_sequence_{copy}', greatest(1, (select coalesce(max(seq_id), 1) from {schema}.mt_events where tenant_id = $1)))", c, tx)
                         { Parameters = { new NpgsqlParameter { Value = copy } } })
                await sequence.ExecuteNonQueryAsync();
            await using (var stale = new NpgsqlCommand($"delete from {schema}.mt_event_progression where name like '%:' || $1", c, tx)
                         { Parameters = { new NpgsqlParameter { Value = copy } } })
                await stale.ExecuteNonQueryAsync();
            await using (var progress = new NpgsqlCommand(
                             $"""
                              insert into {schema}.mt_event_progression (name, last_seq_id, mode)
                              select left(name, length(name) - length($1)) || $2, last_seq_id, mode from {schema}.mt_event_progression where name like '%:' || $1
                              """, c, tx) { Parameters = { new NpgsqlParameter { Value = source }, new NpgsqlParameter { Value = copy } } })
                await progress.ExecuteNonQueryAsync();
            await tx.CommitAsync();
            Console.WriteLine($"copied clinic {source} to {copy}: {Stats.F(watch.Elapsed.TotalSeconds, 0)} s so far");
        }

        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// VACUUM (ANALYZE) of every clinic table in a database, as after a restore or a bulk load: the planner's statistics
    /// of the grown tables, and the new rows' visibility set once instead of by autovacuum while the reads are measured.
    /// </summary>
    public static async Task VacuumAsync(NpgsqlDataSource dataSource)
    {
        await using var c = await dataSource.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand($"vacuum (analyze) {Installation.Schema}.mt_events, {Installation.Schema}.mt_streams", c) { CommandTimeout = 3600 };
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
                         "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition and c.relname like 'mt_doc_%'", c)
                     { Parameters = { new NpgsqlParameter { Value = Installation.Schema } } })
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables.Add($"{Installation.Schema}.{reader.GetString(0)}");
        }

        cmd.CommandText += tables.Count == 0 ? "" : ", " + string.Join(", ", tables);
        await cmd.ExecuteNonQueryAsync();
    }

    private static string Quote(string column) => "\"" + column.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
