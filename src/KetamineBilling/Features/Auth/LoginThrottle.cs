using System.Security.Cryptography;
using System.Text;
using Marten;
using Npgsql;
using Weasel.Core;
using Weasel.Postgresql.Tables;

using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Auth;

public sealed class LoginThrottleOptions
{
    /// <summary>
    /// Failed sign-ins of one account from one client address within the window before that address is refused
    /// for that account (others may still sign in to it).
    /// </summary>
    public int FailuresPerAccountAndClient { get; set; } = 5;

    /// <summary>
    /// Failed sign-ins of one account from every address together before the account is refused everywhere: a
    /// guess spread over many addresses. Above <see cref="FailuresPerClient"/>, so one address alone never locks
    /// an account for everyone else.
    /// </summary>
    public int FailuresPerAccount { get; set; } = 50;

    /// <summary>Failed sign-ins from one client address within the window (spraying many accounts) before that address is refused.</summary>
    public int FailuresPerClient { get; set; } = 30;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Longer user names are a 400 before any other work.</summary>
    public const int MaxUsernameLength = 256;

    /// <summary>Longer passwords are a 400 before any other work (hashing a huge password costs the node).</summary>
    public const int MaxPasswordLength = 1024;
}

/// <summary>
/// Counts failed sign-ins in PostgreSQL, shared by every node and kept across restarts: per account and client
/// address, per account, and per client address, each over a fixed window that starts at its first failure.
/// Each count is one atomic upsert. While a count is at its limit every attempt it covers is refused (429), the right
/// password too: otherwise guessing would go on. The client address is the forwarded one when a known proxy sent the
/// request (Network:KnownProxies), so the proxy's own address never blocks everyone behind it. Accounts are stored
/// as a hash of the normalized name: the table holds no user names.
/// </summary>
public sealed class LoginThrottle(LoginThrottleOptions options, IGlobalStore store)
{
    public const string TableName = "kb_sign_in_failures";

    public static Table Table(string schema)
    {
        var table = new Table(Weasel.Postgresql.PostgresqlProvider.Instance.Parse(schema, TableName));
        table.AddColumn<string>("key").AsPrimaryKey();
        table.AddColumn("window_start", "timestamptz").NotNull();
        table.AddColumn<int>("failures").NotNull();
        return table;
    }

    private string Qualified => $"{store.Options.DatabaseSchemaName}.{TableName}";

    /// <summary>Commands on their own pooled connection, outside any session (a query session's transaction is read-only).</summary>
    private NpgsqlCommand Command(string sql) => ((Weasel.Postgresql.PostgresqlDatabase)store.Storage.Database).DataSource.CreateCommand(sql);

    /// <summary>When refused: how long until the blocking count's window ends.</summary>
    public async Task<TimeSpan?> RetryAfterAsync(string account, string client, CancellationToken ct)
    {
        var limits = Limits(account, client);
        await using var command = Command(
            $"select key, failures, extract(epoch from (window_start + @window - now()))::float8 from {Qualified} " +
            "where key = any(@keys) and window_start + @window > now()");
        command.Parameters.AddWithValue("window", options.Window);
        command.Parameters.AddWithValue("keys", limits.Keys.ToArray());
        await using var reader = await command.ExecuteReaderAsync(ct);
        TimeSpan? wait = null;
        while (await reader.ReadAsync(ct))
        {
            if (reader.GetInt32(1) >= limits[reader.GetString(0)])
            {
                var left = TimeSpan.FromSeconds(Math.Max(1, reader.GetDouble(2)));
                wait = wait is { } w && w > left ? w : left;
            }
        }

        return wait;
    }

    public async Task RecordFailureAsync(string account, string client, CancellationToken ct)
    {
        await using var command = Command(
            $"insert into {Qualified} as f (key, window_start, failures) select k, now(), 1 from unnest(@keys) as k " +
            "on conflict (key) do update set " +
            "failures = case when f.window_start + @window <= now() then 1 else f.failures + 1 end, " +
            "window_start = case when f.window_start + @window <= now() then now() else f.window_start end; " +
            $"delete from {Qualified} where window_start + @window <= now()");
        command.Parameters.AddWithValue("window", options.Window);
        command.Parameters.AddWithValue("keys", Limits(account, client).Keys.ToArray());
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A right password clears the account's counts (the client address's count of failures stays).</summary>
    public async Task RecordSuccessAsync(string account, string client, CancellationToken ct)
    {
        await using var command = Command($"delete from {Qualified} where key = any(@keys)");
        command.Parameters.AddWithValue("keys", new[] { AccountKey(account), AccountClientKey(account, client) });
        await command.ExecuteNonQueryAsync(ct);
    }

    private Dictionary<string, int> Limits(string account, string client) => new()
    {
        [AccountClientKey(account, client)] = options.FailuresPerAccountAndClient,
        [AccountKey(account)] = options.FailuresPerAccount,
        [ClientKey(client)] = options.FailuresPerClient
    };

    private static string AccountKey(string account) => "account:" + Hash(UserAccount.Normalize(account));

    private static string AccountClientKey(string account, string client) => "account-client:" + Hash(UserAccount.Normalize(account) + "\n" + client);

    private static string ClientKey(string client) => "client:" + client;

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
