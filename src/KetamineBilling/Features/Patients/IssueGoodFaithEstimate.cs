using KetamineBilling.Features.Ui;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

public record EstimateLineInput(string? Code, int Units);

/// <param name="EstimateId">Made by the client: the idempotency key.</param>
/// <param name="Lines">The expected services of the whole series, e.g. 96365 x 6 and J3490 x 6.</param>
/// <param name="DiagnosisCodes">ICD-10-CM codes known now (at most 12).</param>
/// <param name="ProviderId">The provider expected to furnish the services (from the providers list).</param>
/// <param name="ServiceFrom">The first expected date of service; <paramref name="ServiceTo"/> the last (on or after it).</param>
public record IssueGoodFaithEstimate(
    Guid EstimateId, Guid SeriesId, DateOnly? IssuedOn, IReadOnlyList<EstimateLineInput>? Lines, IReadOnlyList<string>? DiagnosisCodes = null,
    string? ProviderId = null, DateOnly? ServiceFrom = null, DateOnly? ServiceTo = null);

public static class IssueEstimateEndpoint
{
    public static ProblemDetails Validate(IssueGoodFaithEstimate command)
    {
        var problems = new ValidationProblems();
        if (command.EstimateId == Guid.Empty) problems.Add("estimateId", "is required: a client-made id");
        if (command.SeriesId == Guid.Empty) problems.Add("seriesId", "is required: the planned series the estimate is for");
        if (command.Lines is not { Count: > 0 and <= 40 }) problems.Add("lines", "must hold from 1 to 40 lines");
        else
        {
            for (var i = 0; i < command.Lines.Count; i++)
            {
                if (command.Lines[i] is null)
                {
                    problems.Add($"lines[{i}]", "is required: {code, units}");
                    continue;
                }

                if (string.IsNullOrWhiteSpace(command.Lines[i].Code)) problems.Add($"lines[{i}].code", "is required");
                if (command.Lines[i].Units is < 1 or > 999) problems.Add($"lines[{i}].units", "must be from 1 to 999");
            }
        }

        if (command.DiagnosisCodes is { } codes)
        {
            if (codes.Count > 12) problems.Add("diagnosisCodes", "must hold at most 12 codes");
            for (var i = 0; i < codes.Count; i++)
                if (!DeliverSessionEndpoint.IsIcd10(codes[i])) problems.Add($"diagnosisCodes[{i}]", "must be an ICD-10-CM code such as F33.2");
        }

        if (command.ServiceFrom is { } from && command.ServiceTo is { } to && to < from) problems.Add("serviceTo", "must be on or after serviceFrom");
        return problems.ToProblemDetails();
    }

    public static Task<FeeSchedule?> LoadAsync(IQuerySession session, CancellationToken ct) =>
        session.LoadAsync<FeeSchedule>(FeeSchedule.StreamId, ct);

    /// <summary>Priced as the patient will pay: the cash price where the code has one, else the list price.</summary>
    public static Outcome Decide(
        PatientAccount account, IssueGoodFaithEstimate command, FeeSchedule? schedule, DateOnly today, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        if (account.Series.All(s => s.SeriesId != command.SeriesId)) problems.Add("seriesId", "is not a treatment series planned on this account");
        var issuedOn = command.IssuedOn ?? today;
        // Priced as the series will be charged: from its first expected date of service when known (a price set to change
        // before then is the one its sessions will carry).
        var pricedOn = command.ServiceFrom ?? issuedOn;
        var lines = new List<EstimateLine>();
        for (var i = 0; i < command.Lines!.Count; i++)
        {
            var code = command.Lines[i].Code!.Trim().ToUpperInvariant();
            if (schedule?.PriceOn(code, pricedOn) is not { } price)
            {
                problems.Add($"lines[{i}].code", $"{code} has no price in the fee schedule on {Fmt.Date(pricedOn)}");
                continue;
            }

            var unit = price.CashPrice ?? price.Price;
            lines.Add(new EstimateLine(code, price.Description, command.Lines[i].Units, unit, unit * command.Lines[i].Units));
        }

        if (problems.Any) return Outcome.Reject(problems);
        var series = account.Series.First(s => s.SeriesId == command.SeriesId);
        var estimate = new GoodFaithEstimateIssued(account.Id, command.EstimateId, command.SeriesId, lines, lines.Sum(l => l.Amount), issuedOn, now,
            command.DiagnosisCodes?.Select(c => c.Trim().ToUpperInvariant()).ToList(), command.ProviderId, command.ServiceFrom, command.ServiceTo, series.Description);
        if (account.Estimates.FirstOrDefault(e => e.EstimateId == command.EstimateId) is { } existing)
        {
            return existing.SeriesId == estimate.SeriesId && existing.Lines.SequenceEqual(estimate.Lines)
                   && (existing.DiagnosisCodes ?? []).SequenceEqual(estimate.DiagnosisCodes ?? []) && existing.ProviderId == estimate.ProviderId
                   && existing.ServiceFrom == estimate.ServiceFrom && existing.ServiceTo == estimate.ServiceTo
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"estimate {command.EstimateId} was already issued with other content");
        }

        return Outcome.Created($"/api/patients/{account.Id}/good-faith-estimates/{command.EstimateId}", estimate).Append(account.Id, estimate);
    }

    [WolverinePost("/api/patients/{patientId}/good-faith-estimates"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<(IResult, Events)> Post(
        IssueGoodFaithEstimate command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        FeeSchedule? schedule, IQuerySession session, ClinicCalendar calendar, TimeProvider clock, CancellationToken ct)
    {
        var provider = command.ProviderId is { } providerId ? await session.LoadAsync<Provider>(providerId, ct) : null;
        var outcome = command.ProviderId is not null && provider is null
            ? Outcome.Reject("providerId", $"{command.ProviderId} is not a provider of the clinic")
            : Decide(account, command, schedule, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
