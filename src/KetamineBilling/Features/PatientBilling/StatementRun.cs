using System.Text.Json.Serialization;
using Marten;
using Marten.Events.Projections;

namespace KetamineBilling.Features.PatientBilling;

/// <summary>Where one statement's emailed notice stands.</summary>
public enum NoticeState
{
    /// <summary>Waiting for the mail sender (the run's outbox).</summary>
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("sent")] Sent,
    [JsonStringEnumMemberName("failed")] Failed,

    /// <summary>No email address: the statement is in the print file.</summary>
    [JsonStringEnumMemberName("post")] Post
}

public sealed class RunStatement
{
    public Guid StatementId { get; set; }
    public Guid PatientId { get; set; }
    public DateOnly From { get; set; }
    public DateOnly To { get; set; }
    public decimal AmountDue { get; set; }
    public StatementDelivery Delivery { get; set; }
    public NoticeState Notice { get; set; }
    public DunningStage Stage { get; set; }
    public int AgeDays { get; set; }
    public DateTimeOffset? NoticeAt { get; set; }
    public string? NoticeError { get; set; }
}

/// <summary>A statement run as it stands: what it included and where each notice is. Inline: a run is read right after it.</summary>
public sealed class StatementRun
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public DateOnly RunOn { get; set; }
    public bool Scheduled { get; set; }
    public decimal MinimumBalance { get; set; }
    public int IntervalDays { get; set; }
    public int Considered { get; set; }
    public int BelowMinimum { get; set; }
    public int WaitingOnInsurance { get; set; }
    public int SentRecently { get; set; }
    public List<RunStatement> Statements { get; set; } = [];
    public DateTimeOffset CompletedAt { get; set; }

    public RunStatement? Statement(Guid statementId) => Statements.FirstOrDefault(s => s.StatementId == statementId);

    public static StatementRun Create(StatementRunCompleted e) => new()
    {
        Id = e.RunId, RunOn = e.RunOn, Scheduled = e.Scheduled, MinimumBalance = e.MinimumBalance, IntervalDays = e.IntervalDays,
        Considered = e.Considered, BelowMinimum = e.BelowMinimum, WaitingOnInsurance = e.WaitingOnInsurance, SentRecently = e.SentRecently,
        CompletedAt = e.CompletedAt,
        Statements = e.Items.Select(i => new RunStatement
        {
            StatementId = i.StatementId, PatientId = i.PatientId, From = i.From, To = i.To, AmountDue = i.AmountDue, Delivery = i.Delivery, Stage = i.Stage, AgeDays = i.AgeDays,
            Notice = i.Delivery == StatementDelivery.Email ? NoticeState.Pending : NoticeState.Post
        }).ToList()
    };

    public void Apply(StatementNoticeSent e)
    {
        if (Statement(e.StatementId) is not { } s) return;
        (s.Notice, s.NoticeAt, s.NoticeError) = (NoticeState.Sent, e.SentAt, null);
    }

    public void Apply(StatementNoticeFailed e)
    {
        if (Statement(e.StatementId) is not { } s) return;
        (s.Notice, s.NoticeAt, s.NoticeError) = (NoticeState.Failed, e.FailedAt, e.Reason);
    }

    public void Apply(StatementNoticesRetried e)
    {
        foreach (var id in e.StatementIds)
        {
            if (Statement(id) is { Notice: NoticeState.Failed } s) (s.Notice, s.NoticeError) = (NoticeState.Pending, null);
        }
    }
}

/// <summary>One statement a patient was sent.</summary>
public sealed record IssuedStatement(
    Guid StatementId, Guid RunId, DateOnly IssuedOn, DateOnly From, DateOnly To, decimal AmountDue, StatementDelivery Delivery, DunningStage Stage = DunningStage.Statement);

/// <summary>
/// The statements each patient was sent, newest last, kept inline from the runs: the next run reads when each account was
/// last sent one and where its period starts; a payment link finds its statement here.
/// </summary>
public sealed class PatientStatements
{
    public Guid Id { get; set; }
    public DateOnly? LastIssuedOn { get; set; }
    public List<IssuedStatement> Statements { get; set; } = [];

    public IssuedStatement? Statement(Guid statementId) => Statements.FirstOrDefault(s => s.StatementId == statementId);
}

/// <summary>Keeps <see cref="PatientStatements"/> with the run, in its transaction (a run's accounts are each loaded once).</summary>
public sealed partial class PatientStatementsProjection : EventProjection
{
    public PatientStatementsProjection()
    {
        Name = nameof(PatientStatements);
    }

    public async Task Project(StatementRunCompleted e, IDocumentOperations ops, CancellationToken ct)
    {
        if (e.Items.Count == 0) return;
        var found = new Dictionary<Guid, PatientStatements>();
        foreach (var chunk in e.Items.Select(i => i.PatientId).Distinct().Chunk(500))
        {
            foreach (var doc in await ops.LoadManyAsync<PatientStatements>(ct, chunk)) found[doc.Id] = doc;
        }

        foreach (var item in e.Items)
        {
            if (!found.TryGetValue(item.PatientId, out var doc)) found[item.PatientId] = doc = new PatientStatements { Id = item.PatientId };
            if (doc.Statement(item.StatementId) is not null) continue;
            doc.Statements.Add(new IssuedStatement(item.StatementId, e.RunId, e.RunOn, item.From, item.To, item.AmountDue, item.Delivery, item.Stage));
            doc.LastIssuedOn = doc.LastIssuedOn is { } last && last > e.RunOn ? last : e.RunOn;
        }

        foreach (var doc in found.Values) ops.Store(doc);
    }
}

/// <summary>The clinic's statement rules as last set (none: <see cref="StatementPolicy.Default"/>).</summary>
public sealed class StatementPolicyState
{
    public static readonly Guid StreamId = new("5d0f3b8e-27c4-4a61-9e0b-8c3f1d7a6e52");

    public Guid Id { get; set; }
    public int Version { get; set; }
    public decimal MinimumBalance { get; set; }
    public int IntervalDays { get; set; }
    public StatementCycle Cycle { get; set; }
    public int? DayOfMonth { get; set; }
    public int LinkValidDays { get; set; }
    public int ReminderAfterDays { get; set; }
    public int FinalNoticeAfterDays { get; set; }
    public DateTimeOffset SetAt { get; set; }

    public static StatementPolicyState Create(StatementPolicySet e) => new StatementPolicyState { Id = e.ClinicId }.With(e);

    public void Apply(StatementPolicySet e) => With(e);

    private StatementPolicyState With(StatementPolicySet e)
    {
        (MinimumBalance, IntervalDays, Cycle, DayOfMonth, LinkValidDays, SetAt) = (e.MinimumBalance, e.IntervalDays, e.Cycle, e.DayOfMonth, e.LinkValidDays, e.SetAt);
        (ReminderAfterDays, FinalNoticeAfterDays) = (e.ReminderAfterDays ?? StatementPolicy.Default.ReminderAfterDays, e.FinalNoticeAfterDays ?? StatementPolicy.Default.FinalNoticeAfterDays);
        return this;
    }
}
