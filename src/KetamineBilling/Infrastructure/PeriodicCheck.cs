namespace KetamineBilling.Infrastructure;

/// <summary>
/// A check every node runs now and then (the statement cycle, autopay): at start, then every <c>{setting}</c> seconds (the
/// default when unset). A failed check is logged and tried at the next tick; it never stops the node.
/// </summary>
public static class PeriodicCheck
{
    public static TimeSpan Every(IConfiguration configuration, string setting, int defaultSeconds) =>
        TimeSpan.FromSeconds(int.TryParse(configuration[setting], out var s) && s > 0 ? s : defaultSeconds);

    public static async Task RunAsync(TimeSpan every, TimeProvider clock, ILogger logger, string what, Func<CancellationToken, Task> check, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(every, clock);
        do
        {
            try
            {
                await check(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "The {Check} check failed; it runs again in {Every}", what, every);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
