using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="SeriesId">Made by the client: the idempotency key.</param>
public record PlanSeries(Guid SeriesId, string? Description, int PlannedSessions, DateOnly? PlannedOn);

public static class PlanSeriesEndpoint
{
    public static ProblemDetails Validate(PlanSeries command)
    {
        var problems = new ValidationProblems();
        if (command.SeriesId == Guid.Empty) problems.Add("seriesId", "is required: a client-made id");
        problems.RequireText("description", command.Description, 200);
        if (command.PlannedSessions is < 1 or > 52) problems.Add("plannedSessions", "must be from 1 to 52");
        return problems.ToProblemDetails();
    }

    /// <summary>A planned series; the same plan again is a replay, another description or count under its id a conflict.</summary>
    public static Outcome Decide(PatientAccount account, PlanSeries command, DateOnly today, DateTimeOffset now)
    {
        var planned = new TreatmentSeriesPlanned(account.Id, command.SeriesId, command.Description!.Trim(), command.PlannedSessions,
            command.PlannedOn ?? today, now);
        if (account.Series.FirstOrDefault(s => s.SeriesId == command.SeriesId) is { } existing)
        {
            return existing.Description == planned.Description && existing.PlannedSessions == planned.PlannedSessions
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"series {command.SeriesId} was already planned with other content");
        }

        return Outcome.Created($"/api/patients/{account.Id}/series/{command.SeriesId}", planned).Append(account.Id, planned);
    }

    [WolverinePost("/api/patients/{patientId}/series"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        PlanSeries command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = Decide(account, command, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}

/// <summary>A planned series with how far it has come: sessions delivered in it (voided ones not counted) and boosters.</summary>
public sealed record SeriesView(Guid SeriesId, string Description, int PlannedSessions, DateOnly PlannedOn, int Delivered, int Boosters);

public static class SeriesQueries
{
    [PhiRead("series")]
    [WolverineGet("/api/patients/{patientId}/series"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(Guid patientId, Marten.IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<PatientAccount>(patientId, ct) is { } account
            ? Results.Ok(Views(account))
            : Problems.NotFound($"patient {patientId} does not exist");

    public static IReadOnlyList<SeriesView> Views(PatientAccount account) => account.Series
        .Select(s =>
        {
            var sessions = account.Sessions.Where(x => x.SeriesId == s.SeriesId && !x.Voided).ToList();
            return new SeriesView(s.SeriesId, s.Description, s.PlannedSessions, s.PlannedOn, sessions.Count, sessions.Count(x => x.Booster));
        })
        .OrderByDescending(s => s.PlannedOn).ToList();
}
