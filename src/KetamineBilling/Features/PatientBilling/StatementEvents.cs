using System.Text.Json.Serialization;

namespace KetamineBilling.Features.PatientBilling;

// The clinic's statement policy stream (one per clinic) and one stream per statement run. A run decides, once, which
// accounts get a statement; the notices it sends are facts of the same run. Patients' accounts are only read.

/// <summary>When the clinic's statements go out: only when a person starts a run, or also by themselves each month.</summary>
public enum StatementCycle
{
    [JsonStringEnumMemberName("on-demand")] OnDemand,
    [JsonStringEnumMemberName("monthly")] Monthly
}

/// <summary>
/// Where a statement stands in the clinic's dunning sequence: a statement; a reminder once the patient's oldest open amount is
/// as old as the policy's reminder age (after a first statement); a final notice at the final age (after a reminder).
/// </summary>
public enum DunningStage
{
    [JsonStringEnumMemberName("statement")] Statement,
    [JsonStringEnumMemberName("reminder")] Reminder,
    [JsonStringEnumMemberName("final-notice")] FinalNotice
}

/// <summary>How a statement reaches the patient: an emailed notice with a payment link, or the print file for the post.</summary>
public enum StatementDelivery
{
    [JsonStringEnumMemberName("email")] Email,
    [JsonStringEnumMemberName("post")] Post
}

/// <summary>The clinic's statement rules from now on, all of them.</summary>
/// <param name="MinimumBalance">An account gets a statement only when the patient owes at least this (after credit).</param>
/// <param name="IntervalDays">An account is not sent another statement within this many days of its last one.</param>
/// <param name="DayOfMonth">With <see cref="StatementCycle.Monthly"/>: the clinic's day of the month the run starts by itself (1-28).</param>
/// <param name="LinkValidDays">How long an emailed payment link opens the statement.</param>
/// <param name="ReminderAfterDays">A statement is a reminder once the oldest open patient amount is this many days old (null: 60).</param>
/// <param name="FinalNoticeAfterDays">A final notice at this age, after a reminder (null: 90).</param>
public record StatementPolicySet(
    Guid ClinicId, decimal MinimumBalance, int IntervalDays, StatementCycle Cycle, int? DayOfMonth, int LinkValidDays, DateTimeOffset SetAt,
    int? ReminderAfterDays = null, int? FinalNoticeAfterDays = null);

/// <summary>One account's statement in a run: the period it covers and what the patient owed when it was made.</summary>
/// <param name="AmountDue">What the patient owes on the run's day: their open amounts less unapplied credit.</param>
/// <param name="Delivery">Email when the account has an email address; else the post (the run's print file).</param>
/// <param name="Stage">Its place in the dunning sequence, and <paramref name="AgeDays"/> the age of the oldest open patient amount it decided on.</param>
public record StatementItem(
    Guid StatementId, Guid PatientId, DateOnly From, DateOnly To, decimal AmountDue, StatementDelivery Delivery, DunningStage Stage = DunningStage.Statement,
    int AgeDays = 0);

/// <summary>
/// A statement run: the accounts it chose, and how many it passed over for each rule (the rules as they were that day).
/// </summary>
/// <param name="Scheduled">Started by the clinic's monthly cycle, not by a person.</param>
public record StatementRunCompleted(
    Guid RunId, DateOnly RunOn, bool Scheduled, decimal MinimumBalance, int IntervalDays, int Considered, int BelowMinimum, int WaitingOnInsurance,
    int SentRecently, IReadOnlyList<StatementItem> Items, DateTimeOffset CompletedAt);

/// <summary>The emailed notice of one statement of the run went to the mail server (its address is the account's, not kept here).</summary>
public record StatementNoticeSent(Guid RunId, Guid StatementId, DateTimeOffset SentAt);

/// <summary>The notice could not be sent; <paramref name="Reason"/> names the cause, never the address or the patient.</summary>
public record StatementNoticeFailed(Guid RunId, Guid StatementId, string Reason, DateTimeOffset FailedAt);

/// <summary>Someone asked for the run's failed notices to be sent again.</summary>
public record StatementNoticesRetried(Guid RunId, IReadOnlyList<Guid> StatementIds, DateTimeOffset RetriedAt);

/// <summary>Sends one statement's emailed notice (after the run's events are saved: Wolverine's outbox).</summary>
public record SendStatementNotice(Guid RunId, Guid StatementId);
