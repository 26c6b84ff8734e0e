using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Maintenance;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.PatientBilling;

/// <param name="RunId">Made by the client: the idempotency key of the run.</param>
public record RunStatements(Guid RunId);

/// <summary>One statement of a run, as the run page lists it.</summary>
public sealed record RunStatementView(
    Guid StatementId, Guid PatientId, string PatientName, DateOnly From, DateOnly To, decimal AmountDue, StatementDelivery Delivery, NoticeState Notice,
    DateTimeOffset? NoticeAt, string? NoticeError, DunningStage Stage = DunningStage.Statement, int AgeDays = 0);

/// <summary>A run's figures, and (on its own page) each statement.</summary>
/// <param name="Considered">Accounts with anything open for the patient on the run's day.</param>
public sealed record StatementRunView(
    Guid RunId, DateOnly RunOn, bool Scheduled, decimal MinimumBalance, int IntervalDays, int Considered, int BelowMinimum, int WaitingOnInsurance,
    int SentRecently, int Statements, decimal Total, int ByEmail, int ByPost, int NoticesSent, int NoticesPending, int NoticesFailed,
    DateTimeOffset CompletedAt, IReadOnlyList<RunStatementView>? Items, int Reminders = 0, int FinalNotices = 0)
{
    public static StatementRunView From(StatementRun run, IReadOnlyDictionary<Guid, string>? names = null) => new(
        run.Id, run.RunOn, run.Scheduled, run.MinimumBalance, run.IntervalDays, run.Considered, run.BelowMinimum, run.WaitingOnInsurance,
        run.SentRecently, run.Statements.Count, run.Statements.Sum(s => s.AmountDue), run.Statements.Count(s => s.Delivery == StatementDelivery.Email),
        run.Statements.Count(s => s.Delivery == StatementDelivery.Post), run.Statements.Count(s => s.Notice == NoticeState.Sent),
        run.Statements.Count(s => s.Notice == NoticeState.Pending), run.Statements.Count(s => s.Notice == NoticeState.Failed), run.CompletedAt,
        names is null
            ? null
            : run.Statements.OrderBy(s => names.GetValueOrDefault(s.PatientId, ""), StringComparer.OrdinalIgnoreCase)
                .Select(s => new RunStatementView(s.StatementId, s.PatientId, names.GetValueOrDefault(s.PatientId, ""), s.From, s.To, s.AmountDue,
                    s.Delivery, s.Notice, s.NoticeAt, s.NoticeError, s.Stage, s.AgeDays))
                .ToList(),
        run.Statements.Count(s => s.Stage == DunningStage.Reminder), run.Statements.Count(s => s.Stage == DunningStage.FinalNotice));
}

public static class RunStatementsEndpoint
{
    /// <summary>How long a run waits for the aging read model (which lists the accounts with a patient balance) to catch up.</summary>
    public static readonly TimeSpan CatchUpWithin = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The run of <paramref name="runOn"/>: of the <paramref name="accounts"/> with anything open for the patient, each that owes
    /// at least the minimum (after credit), has nothing waiting on insurance and was not sent a statement within the interval
    /// gets one, for the days since its last statement (else since its first session) to the run's day. Each emailed one
    /// sends its notice once the run is saved.
    /// </summary>
    public static Outcome Decide(
        Guid runId, bool scheduled, StatementPolicy policy, DateOnly runOn, IReadOnlyList<PatientAccount> accounts,
        IReadOnlyDictionary<Guid, PatientStatements> history, DateTimeOffset now)
    {
        var items = new List<StatementItem>();
        int considered = 0, belowMinimum = 0, waitingOnInsurance = 0, sentRecently = 0;
        foreach (var account in accounts.OrderBy(a => a.Id))
        {
            var figures = AccountFigures.Of(account);
            if (figures.PatientDue <= 0) continue;
            considered++;
            var due = figures.PatientDue - figures.UnappliedCredit;
            var last = history.GetValueOrDefault(account.Id);
            if (figures.InsurancePending > 0) waitingOnInsurance++;
            else if (due < policy.MinimumBalance) belowMinimum++;
            else if (last?.LastIssuedOn is { } on && runOn.DayNumber - on.DayNumber < policy.IntervalDays) sentRecently++;
            else
            {
                var from = last?.Statements.Max(s => s.To).AddDays(1)
                           ?? account.Sessions.Where(s => !s.Voided).Select(s => s.DeliveredOn).DefaultIfEmpty(runOn).Min();
                if (from > runOn) from = runOn;
                var age = OldestOpenAge(account, runOn);
                items.Add(new StatementItem(StatementIds.Of(runId, account.Id), account.Id, from, runOn, due,
                    string.IsNullOrWhiteSpace(account.Email) ? StatementDelivery.Post : StatementDelivery.Email, Stage(policy, age, last), age));
            }
        }

        var completed = new StatementRunCompleted(runId, runOn, scheduled, policy.MinimumBalance, policy.IntervalDays, considered, belowMinimum,
            waitingOnInsurance, sentRecently, items, now);
        return Outcome.Created($"/api/statement-runs/{runId}", StatementRunView.From(StatementRun.Create(completed)))
            .Start<StatementRun>(runId, completed)
            .Send(items.Where(i => i.Delivery == StatementDelivery.Email).Select(i => new SendStatementNotice(runId, i.StatementId)));
    }

    /// <summary>Days from the oldest session with something open for the patient to the run's day.</summary>
    public static int OldestOpenAge(PatientAccount account, DateOnly runOn) =>
        account.Sessions.Where(s => !s.Voided && s.Lines.Any(l => l.Open.Patient > 0)).Select(s => runOn.DayNumber - s.DeliveredOn.DayNumber).DefaultIfEmpty(0).Max();

    /// <summary>
    /// The dunning sequence: a final notice once the oldest open amount is as old as the final age and a reminder or final notice
    /// went before; a reminder at the reminder's age once a statement went before; else a statement. So a patient is never sent a
    /// reminder as the first letter, nor a final notice without a reminder.
    /// </summary>
    public static DunningStage Stage(StatementPolicy policy, int ageDays, PatientStatements? history)
    {
        var previous = history?.Statements.OrderBy(s => s.IssuedOn).LastOrDefault()?.Stage;
        if (ageDays >= policy.FinalNoticeAfterDays && previous is DunningStage.Reminder or DunningStage.FinalNotice) return DunningStage.FinalNotice;
        if (ageDays >= policy.ReminderAfterDays && previous is not null) return DunningStage.Reminder;
        return DunningStage.Statement;
    }

    /// <summary>The accounts with anything open for the patient, read whole (the aging read model lists them).</summary>
    public static async Task<IReadOnlyList<PatientAccount>> AccountsOwingAsync(IQuerySession session, CancellationToken ct)
    {
        var ids = (await session.Query<AgingAccount>().ToListAsync(ct))
            .Where(a => a.Lines.Any(l => l.Party == ResponsibleParty.Patient && l.Open > 0))
            .Select(a => a.Id).ToList();
        var accounts = new List<PatientAccount>(ids.Count);
        foreach (var chunk in ids.Chunk(500)) accounts.AddRange(await session.LoadManyAsync<PatientAccount>(ct, chunk));
        return accounts;
    }

    public static async Task<IReadOnlyDictionary<Guid, PatientStatements>> HistoryAsync(IQuerySession session, IEnumerable<Guid> patientIds, CancellationToken ct)
    {
        var found = new Dictionary<Guid, PatientStatements>();
        foreach (var chunk in patientIds.Chunk(500))
        {
            foreach (var doc in await session.LoadManyAsync<PatientStatements>(ct, chunk)) found[doc.Id] = doc;
        }

        return found;
    }

    /// <summary>Decides and appends the run (nothing when it was already made: its answer again).</summary>
    public static async Task<Outcome> RunAsync(
        IDocumentSession session, Guid runId, bool scheduled, DateOnly runOn, TimeSpan catchUpWithin, DateTimeOffset now, CancellationToken ct)
    {
        if (await session.LoadAsync<StatementRun>(runId, ct) is { } existing) return Outcome.Replay(StatementRunView.From(existing));
        if (!await ProjectionMaintenance.CaughtUpAsync(session, AgingProjection.Name, catchUpWithin, ct))
        {
            return Outcome.Problem(StatusCodes.Status503ServiceUnavailable, "Not ready",
                "the balances are still taking in the latest postings; nothing was run: send the same run again in a moment");
        }

        var accounts = await AccountsOwingAsync(session, ct);
        var history = await HistoryAsync(session, accounts.Select(a => a.Id), ct);
        var outcome = Decide(runId, scheduled, await StatementPolicy.CurrentAsync(session, ct), runOn, accounts, history, now);
        outcome.AppendTo(session);
        return outcome;
    }

    /// <summary>
    /// Runs the clinic's statements now: every account that owes at least the minimum, waits on no insurance and was not sent
    /// one within the interval gets a statement; emailed notices go out after the answer. The same run id again is a replay.
    /// </summary>
    [WolverinePost("/api/statement-runs"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Statements")]
    [ProducesResponseType<StatementRunView>(StatusCodes.Status201Created)]
    public static async Task<(IResult, Wolverine.OutgoingMessages)> Post(
        RunStatements command, IDocumentSession session, ClinicCalendar calendar, TimeProvider clock, CancellationToken ct)
    {
        if (command.RunId == Guid.Empty) return (Problems.Invalid("runId", "is required: a client-made id that makes the run idempotent", StatusCodes.Status400BadRequest), []);
        var outcome = await RunAsync(session, command.RunId, false, calendar.Today(), CatchUpWithin, clock.GetUtcNow(), ct);
        var messages = new Wolverine.OutgoingMessages();
        messages.AddRange(outcome.OutgoingMessages);
        return (outcome.ToResult(), messages);
    }

    /// <summary>The clinic's runs, newest first (their figures only).</summary>
    [WolverineGet("/api/statement-runs"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Statements")]
    public static async Task<IReadOnlyList<StatementRunView>> List(IQuerySession session, CancellationToken ct) =>
        (await session.Query<StatementRun>().OrderByDescending(r => r.CompletedAt).Take(200).ToListAsync(ct)).Select(r => StatementRunView.From(r)).ToList();

    /// <summary>One run with each statement it made: the patient, the period, the amount and where its notice stands.</summary>
    [PhiRead("statement-run", Subject = PhiSubject.StatementRun)]
    [WolverineGet("/api/statement-runs/{runId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Statements")]
    public static async Task<IResult> Get(Guid runId, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<StatementRun>(runId, ct) is not { } run) return Problems.NotFound($"statement run {runId} does not exist");
        var names = new Dictionary<Guid, string>();
        foreach (var chunk in run.Statements.Select(s => s.PatientId).Distinct().Chunk(500))
        {
            foreach (var account in await session.LoadManyAsync<PatientAccount>(ct, chunk)) names[account.Id] = account.Name;
        }

        return Results.Ok(StatementRunView.From(run, names));
    }
}

/// <summary>A statement's id: the same for the same run and account, so a replayed run names the same statements.</summary>
public static class StatementIds
{
    public static Guid Of(Guid runId, Guid patientId) => DeterministicGuid.From(runId, $"statement:{patientId:N}");
}
