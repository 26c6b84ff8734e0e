using System.Collections.Concurrent;

namespace KetamineBilling.Features.Auth;

public sealed class LoginThrottleOptions
{
    /// <summary>Failed sign-ins allowed per account within the window before it is refused.</summary>
    public int FailuresPerAccount { get; set; } = 5;

    /// <summary>Failed sign-ins allowed per client address within the window (guards against spraying many accounts).</summary>
    public int FailuresPerClient { get; set; } = 30;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>
/// Counts failed sign-ins per account and per client address over a sliding window. While a key is over
/// its limit every attempt is refused (429), the right password too: otherwise guessing would go on.
/// One node's memory is enough for a clinic's single app node; several nodes would each count apart.
/// </summary>
public sealed class LoginThrottle(LoginThrottleOptions options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> _failures = new();

    /// <summary>When refused: how long until the oldest counted failure leaves the window.</summary>
    public TimeSpan? RetryAfter(string account, string client)
    {
        var now = clock.GetUtcNow();
        return Blocked(AccountKey(account), options.FailuresPerAccount, now)
               ?? Blocked(ClientKey(client), options.FailuresPerClient, now);
    }

    public void RecordFailure(string account, string client)
    {
        var now = clock.GetUtcNow();
        foreach (var key in new[] { AccountKey(account), ClientKey(client) })
        {
            var queue = _failures.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
            lock (queue)
            {
                Prune(queue, now);
                queue.Enqueue(now);
            }
        }
    }

    public void RecordSuccess(string account) => _failures.TryRemove(AccountKey(account), out _);

    private TimeSpan? Blocked(string key, int limit, DateTimeOffset now)
    {
        if (!_failures.TryGetValue(key, out var queue))
        {
            return null;
        }

        lock (queue)
        {
            Prune(queue, now);
            return queue.Count >= limit ? queue.Peek() + options.Window - now : null;
        }
    }

    private void Prune(Queue<DateTimeOffset> queue, DateTimeOffset now)
    {
        while (queue.Count > 0 && queue.Peek() + options.Window <= now)
        {
            queue.Dequeue();
        }
    }

    private static string AccountKey(string account) => "account:" + UserAccount.Normalize(account);

    private static string ClientKey(string client) => "client:" + client;
}
