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

    [WolverinePost("/api/patients/{patientId}/series"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        PlanSeries command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var planned = new TreatmentSeriesPlanned(account.Id, command.SeriesId, command.Description!.Trim(), command.PlannedSessions,
            command.PlannedOn ?? calendar.Today(), clock.GetUtcNow());
        if (account.Series.FirstOrDefault(s => s.SeriesId == command.SeriesId) is { } existing)
        {
            return existing.Description == planned.Description && existing.PlannedSessions == planned.PlannedSessions
                ? (Results.Ok(existing), [])
                : (Problems.Conflict($"series {command.SeriesId} was already planned with other content"), []);
        }

        return (Results.Created($"/api/patients/{account.Id}/series/{command.SeriesId}", planned), [planned]);
    }
}
