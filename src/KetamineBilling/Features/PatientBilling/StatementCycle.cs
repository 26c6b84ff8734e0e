using KetamineBilling.Features.Clinic;
using KetamineBilling.Infrastructure;
using Marten;
using Wolverine;

namespace KetamineBilling.Features.PatientBilling;

/// <summary>Starts a clinic's monthly run (sent for the clinic by <see cref="StatementCycleService"/>).</summary>
public record RunScheduledStatements(Guid RunId, DateOnly RunOn);

public static class RunScheduledStatementsHandler
{
    /// <summary>A catch-up of the balances may take longer than a person would wait: the cycle waits for it.</summary>
    public static readonly TimeSpan CatchUpWithin = TimeSpan.FromMinutes(2);

    public static async Task<OutgoingMessages> Handle(
        RunScheduledStatements message, IDocumentSession session, TimeProvider clock, ILogger<RunScheduledStatements> logger, CancellationToken ct)
    {
        var outcome = await RunStatementsEndpoint.RunAsync(session, message.RunId, true, message.RunOn, CatchUpWithin, clock.GetUtcNow(), ct);
        // Not run now: the message is tried again (Wolverine's retries), and the next check sends it again anyway.
        if (outcome is Outcome.Rejected rejected) throw new InvalidOperationException($"the monthly statement run {message.RunId} did not run: {rejected.Detail}");
        if (outcome is Outcome.Accepted) logger.LogInformation("Monthly statement run {RunId} of {RunOn} made {Count} statements", message.RunId, message.RunOn, outcome.AllEvents.OfType<StatementRunCompleted>().Single().Items.Count);
        var messages = new OutgoingMessages();
        messages.AddRange(outcome.OutgoingMessages);
        return messages;
    }
}

/// <summary>
/// Every node checks each clinic now and then (<c>Statements:CycleCheckSeconds</c>, 15 minutes by default): a clinic with a
/// monthly cycle whose day has come (in its time zone) and whose run of this month is not made yet is sent its run. The run's
/// id is made from the clinic and the month, so two nodes (or two checks) that send it make one run.
/// </summary>
public sealed class StatementCycleService(
    IServiceProvider services, Clinics clinics, ClinicZones zones, IConfiguration configuration, TimeProvider clock, ILogger<StatementCycleService> logger)
    : BackgroundService
{
    /// <summary>The run of a clinic's month: the same id wherever and however often it is worked out.</summary>
    public static Guid RunIdOf(string clinic, int year, int month) => DeterministicGuid.From(Guid.Empty, $"statement-run:{clinic}:{year:D4}-{month:D2}");

    /// <summary>
    /// This month's run is due when the cycle is monthly, its day has come, and the rule was in force on that day (a policy set
    /// after this month's day starts with next month's).
    /// </summary>
    public static bool Due(StatementPolicy policy, DateOnly today, TimeZoneInfo zone)
    {
        if (policy is not { Cycle: StatementCycle.Monthly, DayOfMonth: { } day, SetAt: { } setAt }) return false;
        var cycleDay = new DateOnly(today.Year, today.Month, day);
        return today >= cycleDay && DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(setAt, zone).DateTime) <= cycleDay;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicCheck.RunAsync(PeriodicCheck.Every(configuration, "Statements:CycleCheckSeconds", 900), clock, logger, "statement cycle", CheckAsync, stoppingToken);

    public async Task CheckAsync(CancellationToken ct)
    {
        var store = services.GetRequiredService<IDocumentStore>();
        foreach (var clinic in await clinics.ListAsync(ct))
        {
            await using var session = store.QuerySession(clinic.Id);
            var policy = await StatementPolicy.CurrentAsync(session, ct);
            if (policy.Cycle != StatementCycle.Monthly) continue;
            var zone = await zones.ZoneOfAsync(clinic.Id, ct);
            var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), zone).DateTime);
            if (!Due(policy, today, zone)) continue;
            var runId = RunIdOf(clinic.Id, today.Year, today.Month);
            if (await session.LoadAsync<StatementRun>(runId, ct) is not null) continue;
            await using var scope = services.CreateAsyncScope();
            var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
            await bus.PublishAsync(new RunScheduledStatements(runId, today), new DeliveryOptions { TenantId = clinic.Id });
        }
    }
}
