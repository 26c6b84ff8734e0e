using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="CoverageId">Made by the client; left out, it is derived from the payer and member id, so the
/// same coverage recorded twice is one coverage.</param>
/// <param name="PayerId">The payer's id in this system (from POST /api/payers), not its X12 id.</param>
public record RecordCoverage(
    Guid? CoverageId, Guid PayerId, string? MemberId, string? Priority, string? GroupNumber = null, Subscriber? Subscriber = null,
    decimal? Copay = null, decimal? CoinsurancePercent = null, decimal? Deductible = null, DateOnly? ActiveFrom = null, DateOnly? ActiveTo = null,
    decimal? AnnualMaximum = null);

public static class RecordCoverageEndpoint
{
    public static ProblemDetails Validate(RecordCoverage command)
    {
        var problems = new ValidationProblems();
        if (command.PayerId == Guid.Empty) problems.Add("payerId", "is required: the id of a payer created with POST /api/payers");
        problems.RequireText("memberId", command.MemberId, 80);
        ApiEnum.Parse<CoveragePriority>(problems, "priority", command.Priority);
        if (command.GroupNumber is { Length: > 50 }) problems.Add("groupNumber", "must be at most 50 characters");
        problems.Check("memberId", command.MemberId);
        problems.Check("groupNumber", command.GroupNumber);
        if (command.Copay is not null) problems.RequireMoney("copay", command.Copay, 10_000m);
        if (command.Deductible is not null) problems.RequireMoney("deductible", command.Deductible, 100_000m);
        if (command.AnnualMaximum is not null) problems.RequireMoney("annualMaximum", command.AnnualMaximum, 1_000_000m);
        if (command.CoinsurancePercent is { } pct && (pct < 0 || pct > 100)) problems.Add("coinsurancePercent", "must be from 0 to 100");
        if (command.ActiveTo is { } to && command.ActiveFrom is { } from && to < from) problems.Add("activeTo", "must be on or after activeFrom");
        if (command.Subscriber is { } s)
        {
            problems.RequireText("subscriber.firstName", s.FirstName, 60);
            problems.RequireText("subscriber.lastName", s.LastName, 60);
            problems.RequireText("subscriber.relationship", s.Relationship, 30);
            problems.Check("subscriber.firstName", s.FirstName);
            problems.Check("subscriber.lastName", s.LastName);
        }

        return problems.ToProblemDetails();
    }

    public static Task<Payer?> LoadAsync(RecordCoverage command, IQuerySession session, CancellationToken ct) =>
        session.LoadAsync<Payer>(command.PayerId, ct);

    /// <summary>A coverage with a payer of the clinic; the same coverage again is a replay, other content under its id a conflict.</summary>
    public static Outcome Decide(PatientAccount account, RecordCoverage command, Payer? payer, DateOnly today, DateTimeOffset now)
    {
        if (payer is null)
        {
            return Outcome.Reject("payerId", $"{command.PayerId} is not a payer (POST /api/payers creates one)");
        }

        var priority = ApiEnum.Parse<CoveragePriority>(new ValidationProblems(), "priority", command.Priority)!.Value;
        var id = command.CoverageId ?? DeterministicGuid.From(payer.Id, $"coverage:{account.Id:N}:{command.MemberId!.Trim()}");
        var coverage = new CoverageRecorded(account.Id, id, payer.Id, command.MemberId!.Trim(), command.GroupNumber?.Trim(), command.Subscriber, priority,
            command.Copay, command.CoinsurancePercent, command.Deductible, command.ActiveFrom ?? today, command.ActiveTo, now, command.AnnualMaximum);
        if (account.Coverages.FirstOrDefault(c => c.CoverageId == id) is { } existing)
        {
            // A replay compares what the caller said; an omitted start date means "as recorded".
            var activeFrom = command.ActiveFrom ?? existing.ActiveFrom;
            // A change or end since cut the period short: the recording is compared with the period as it was recorded.
            // Limits and the drug benefit set since (CoverageBenefitsSet) are not part of the recording.
            return existing with
                   {
                       RecordedAt = coverage.RecordedAt, ActiveTo = account.RecordedActiveTo(existing), SessionsPerYear = null, DollarMaximum = null, DrugBenefit = null
                   } == coverage with { ActiveFrom = activeFrom }
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"coverage {id} was already recorded with other content");
        }

        return Outcome.Created($"/api/patients/{account.Id}/coverages/{id}", coverage).Append(account.Id, coverage);
    }

    [WolverinePost("/api/patients/{patientId}/coverages"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        RecordCoverage command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, Payer? payer,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = Decide(account, command, payer, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
