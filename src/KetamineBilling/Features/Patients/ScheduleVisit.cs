using System.Globalization;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Projections;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="VisitId">Made by the client: the idempotency key.</param>
/// <param name="On">The day of the visit (today or later).</param>
/// <param name="Time">The time of day, HH:mm (24-hour), when known.</param>
/// <param name="Purpose">What it is for: an infusion, a Spravato session, a consult (at most 120 characters).</param>
public record ScheduleVisit(Guid VisitId, DateOnly? On, string? Time, string? Purpose);

public static class ScheduleVisitEndpoint
{
    /// <summary>How far ahead a visit may be put on the schedule.</summary>
    public const int MaxDaysAhead = 366;

    public static ProblemDetails Validate(ScheduleVisit command)
    {
        var problems = new ValidationProblems();
        if (command.VisitId == Guid.Empty) problems.Add("visitId", "is required: a client-made id");
        if (command.On is null) problems.Add("on", "is required: the day of the visit");
        if (command.Time is { } time && !TimeOnly.TryParseExact(time.Trim(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            problems.Add("time", "must be a time of day as HH:mm (24-hour), e.g. 09:30");
        problems.RequireText("purpose", command.Purpose, 120);
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// The visit goes on the schedule: today or later, within a year. The same visit again is a replay; another day, time or
    /// purpose under its id a conflict (cancel it and schedule another).
    /// </summary>
    public static Outcome Decide(PatientAccount account, ScheduleVisit command, DateOnly today, DateTimeOffset now)
    {
        var scheduled = new VisitScheduled(account.Id, command.VisitId, command.On!.Value, command.Time?.Trim() is { Length: > 0 } t ? t : null, command.Purpose!.Trim(), now);
        if (account.Visits.FirstOrDefault(v => v.VisitId == command.VisitId) is { } existing)
        {
            return existing.On == scheduled.On && existing.Time == scheduled.Time && existing.Purpose == scheduled.Purpose
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"visit {command.VisitId} was already scheduled with other content");
        }

        if (scheduled.On < today) return Outcome.Reject("on", $"is before today ({today:yyyy-MM-dd}): a visit is scheduled for today or later");
        if (scheduled.On > today.AddDays(MaxDaysAhead)) return Outcome.Reject("on", $"is more than {MaxDaysAhead} days ahead");
        return Outcome.Created($"/api/patients/{account.Id}/visits/{command.VisitId}", scheduled).Append(account.Id, scheduled);
    }

    [WolverinePost("/api/patients/{patientId}/visits"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        ScheduleVisit command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, ClinicCalendar calendar,
        TimeProvider clock)
    {
        var outcome = Decide(account, command, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}

/// <summary>A scheduled visit by its day, for the visits of a day across patients (the day's list, the 270 batch). Cancelled visits are removed.</summary>
public sealed record VisitDay(Guid Id, Guid PatientId, DateOnly On);

public partial class VisitDayProjection : EventProjection
{
    public VisitDayProjection()
    {
        Name = nameof(VisitDay);
        Options.DeleteViewTypeOnTeardown<VisitDay>();
    }

    public void Project(VisitScheduled e, IDocumentOperations ops) => ops.Store(new VisitDay(e.VisitId, e.PatientId, e.On));

    public void Project(VisitCancelled e, IDocumentOperations ops) => ops.Delete<VisitDay>(e.VisitId);
}
