using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.PatientBilling;

/// <summary>The clinic's statement rules.</summary>
/// <param name="Cycle">"on-demand" (a person starts each run) or "monthly" (also by itself on <paramref name="DayOfMonth"/>).</param>
/// <param name="SetAt">When they were last set; null while they are still the defaults.</param>
/// <param name="ReminderAfterDays">The dunning sequence: a statement is a reminder once the oldest open patient amount is this old.</param>
/// <param name="FinalNoticeAfterDays">And a final notice at this age, once a reminder was sent.</param>
public sealed record StatementPolicy(
    decimal MinimumBalance, int IntervalDays, StatementCycle Cycle, int? DayOfMonth, int LinkValidDays, DateTimeOffset? SetAt, int ReminderAfterDays = 60,
    int FinalNoticeAfterDays = 90)
{
    /// <summary>
    /// Until a clinic sets its own: $5.00, at most one statement every 28 days, on demand, links open 60 days; a reminder at 60
    /// days, a final notice at 90.
    /// </summary>
    public static readonly StatementPolicy Default = new(5.00m, 28, StatementCycle.OnDemand, null, 60, null, 60, 90);

    public static StatementPolicy Of(StatementPolicyState? state) => state is null
        ? Default
        : new(state.MinimumBalance, state.IntervalDays, state.Cycle, state.DayOfMonth, state.LinkValidDays, state.SetAt, state.ReminderAfterDays,
            state.FinalNoticeAfterDays);

    public static async Task<StatementPolicy> CurrentAsync(IQuerySession session, CancellationToken ct) =>
        Of(await session.LoadAsync<StatementPolicyState>(StatementPolicyState.StreamId, ct));
}

/// <param name="Cycle">"on-demand" or "monthly".</param>
/// <param name="DayOfMonth">Required with "monthly": 1 to 28, so every month has it.</param>
/// <param name="ReminderAfterDays">Left out: 60.</param>
/// <param name="FinalNoticeAfterDays">Left out: 90.</param>
public record SetStatementPolicy(
    decimal? MinimumBalance, int? IntervalDays, string? Cycle, int? DayOfMonth, int? LinkValidDays, int? ReminderAfterDays = null, int? FinalNoticeAfterDays = null);

public static class StatementPolicyQuery
{
    [WolverineGet("/api/statements/policy"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Statements")]
    public static Task<StatementPolicy> Get(IQuerySession session, CancellationToken ct) => StatementPolicy.CurrentAsync(session, ct);
}

public static class SetStatementPolicyEndpoint
{
    public static ProblemDetails Validate(SetStatementPolicy command)
    {
        var problems = new ValidationProblems();
        if (command.MinimumBalance is not { } minimum) problems.Add("minimumBalance", "is required");
        else if (minimum < 0.01m || minimum > 10_000m) problems.Add("minimumBalance", "must be from 0.01 to 10,000.00");
        else if (decimal.Round(minimum, 2) != minimum) problems.Add("minimumBalance", "must have at most two decimals");
        if (command.IntervalDays is not (>= 1 and <= 365)) problems.Add("intervalDays", "must be from 1 to 365 days");
        var cycle = ApiEnum.Parse<StatementCycle>(problems, "cycle", command.Cycle);
        if (cycle == StatementCycle.Monthly && command.DayOfMonth is not (>= 1 and <= 28))
            problems.Add("dayOfMonth", "must be from 1 to 28 with a monthly cycle (every month has those days)");
        if (cycle == StatementCycle.OnDemand && command.DayOfMonth is not null)
            problems.Add("dayOfMonth", "must be left out with an on-demand cycle");
        if (command.LinkValidDays is not (>= 1 and <= 180)) problems.Add("linkValidDays", "must be from 1 to 180 days");
        var reminder = command.ReminderAfterDays ?? StatementPolicy.Default.ReminderAfterDays;
        if (reminder is not (>= 15 and <= 365)) problems.Add("reminderAfterDays", "must be from 15 to 365 days");
        else if ((command.FinalNoticeAfterDays ?? StatementPolicy.Default.FinalNoticeAfterDays) is var final && (final <= reminder || final > 730))
            problems.Add("finalNoticeAfterDays", "must be after the reminder's age, at most 730 days");
        return problems.ToProblemDetails();
    }

    /// <summary>The rules from now on; the same as the current ones is a replay (nothing recorded).</summary>
    public static Outcome Decide(StatementPolicy current, SetStatementPolicy command, DateTimeOffset now)
    {
        var cycle = ApiEnum.Parse<StatementCycle>(new ValidationProblems(), "cycle", command.Cycle)!.Value;
        var set = new StatementPolicySet(StatementPolicyState.StreamId, command.MinimumBalance!.Value, command.IntervalDays!.Value, cycle,
            command.DayOfMonth, command.LinkValidDays!.Value, now, command.ReminderAfterDays ?? StatementPolicy.Default.ReminderAfterDays,
            command.FinalNoticeAfterDays ?? StatementPolicy.Default.FinalNoticeAfterDays);
        if (current.SetAt is not null && current.MinimumBalance == set.MinimumBalance && current.IntervalDays == set.IntervalDays
            && current.Cycle == set.Cycle && current.DayOfMonth == set.DayOfMonth && current.LinkValidDays == set.LinkValidDays
            && current.ReminderAfterDays == set.ReminderAfterDays && current.FinalNoticeAfterDays == set.FinalNoticeAfterDays)
        {
            return Outcome.Replay(current);
        }

        return Outcome.Ok(StatementPolicy.Of(StatementPolicyState.Create(set))).Append(StatementPolicyState.StreamId, set);
    }

    /// <summary>Sets the clinic's statement rules (all of them). A monthly cycle starts its runs by itself from the next such day.</summary>
    [WolverinePut("/api/statements/policy"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Statements")]
    [ProducesResponseType<StatementPolicy>(StatusCodes.Status200OK)]
    public static async Task<IResult> Put(SetStatementPolicy command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<StatementPolicyState>(StatementPolicyState.StreamId, ct);
        var outcome = Decide(StatementPolicy.Of(stream.Aggregate), command, clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}
