using KetamineBilling.Features.Eligibility;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// Where a visit stands on eligibility: <c>self-pay</c> (no insurance active that day), <c>current</c> (the payer answered for
/// the coverage within <see cref="EligibilityOnAccount.CurrentDays"/> days before the visit and said active), <c>inactive</c>
/// (that answer said inactive), <c>rejected</c> (the payer did not answer the inquiry: an AAA), <c>stale</c> (the last answer is older) or
/// <c>none</c> (never asked, or not answered yet).
/// </summary>
public sealed record VisitEligibility(string Status, CoverageRecorded? Coverage, EligibilityChecked? Latest, string Detail)
{
    /// <summary>The visit needs someone's attention before the patient arrives.</summary>
    public bool NeedsAttention => Status is "none" or "stale" or "inactive" or "rejected";
}

/// <summary>
/// Eligibility on the patient's account: the Eligibility area calls these pure functions and appends the events they return,
/// never building them (docs/x12.md, "Eligibility").
/// </summary>
public static class EligibilityOnAccount
{
    /// <summary>An answer older than this many days is stale: the payer is asked again before a visit.</summary>
    public const int CurrentDays = 30;

    /// <summary>The answer recorded on the account, or null when the same answer (its check id) already is.</summary>
    public static EligibilityChecked? Checked(
        PatientAccount account, Guid coverageId, Guid checkId, DateOnly checkedOn, DateOnly? serviceDate, string source, string? trace, EligibilitySummary answer,
        DateOnly? planBegin, DateOnly? planEnd, DateTimeOffset now) =>
        account.EligibilityChecks.Any(c => c.CheckId == checkId)
            ? null
            : new EligibilityChecked(account.Id, coverageId, checkId, checkedOn, serviceDate, source, trace, answer, planBegin, planEnd, now);

    /// <summary>Stale on <paramref name="day"/>: given more than <see cref="CurrentDays"/> days before it.</summary>
    public static bool Stale(EligibilityChecked check, DateOnly day) => day.DayNumber - check.CheckedOn.DayNumber > CurrentDays;

    /// <summary>Attended: a session (not a no-show fee) was delivered on the visit's day and stands.</summary>
    public static bool Attended(PatientAccount account, ScheduledVisit visit) =>
        account.Sessions.Any(s => !s.Voided && s.NoShow is null && s.DeliveredOn == visit.On);

    /// <summary>Missed: a missed-appointment fee was charged for the visit's day.</summary>
    public static bool Missed(PatientAccount account, ScheduledVisit visit) =>
        account.Sessions.Any(s => !s.Voided && s.NoShow is not null && s.DeliveredOn == visit.On);

    /// <summary>The visit's eligibility, by its primary insurance coverage active that day.</summary>
    public static VisitEligibility ForVisit(PatientAccount account, ScheduledVisit visit)
    {
        if (account.InsuranceOn(visit.On).FirstOrDefault() is not { } coverage) return new VisitEligibility("self-pay", null, null, "No insurance is active on the day of the visit");
        if (account.LatestEligibility(coverage.CoverageId) is not { } latest) return new VisitEligibility("none", coverage, null, "The payer has not been asked about this coverage");
        if (Stale(latest, visit.On))
            return new VisitEligibility("stale", coverage, latest, $"The last answer is from {latest.CheckedOn:yyyy-MM-dd}, more than {CurrentDays} days before the visit");
        return latest.Answer.Active switch
        {
            true => new VisitEligibility("current", coverage, latest, $"Active as of {latest.CheckedOn:yyyy-MM-dd}"),
            false => new VisitEligibility("inactive", coverage, latest, $"The payer said the coverage is inactive on {latest.CheckedOn:yyyy-MM-dd}"),
            null when latest.Answer.Rejections.Count > 0 => new VisitEligibility("rejected", coverage, latest,
                $"The payer did not answer the inquiry of {latest.CheckedOn:yyyy-MM-dd}: {latest.Answer.Rejections[0]}"),
            null => new VisitEligibility("none", coverage, latest, "The payer's answer did not say whether the coverage is active")
        };
    }
}
