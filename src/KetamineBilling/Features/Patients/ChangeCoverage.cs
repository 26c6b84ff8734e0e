using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <summary>The coverage's terms as they read from <paramref name="EffectiveFrom"/>: all of them (a field left out is cleared).</summary>
/// <param name="ChangeId">Made by the client: the idempotency key.</param>
/// <param name="EffectiveFrom">The first date of service the new terms apply to; on the coverage's start date they replace it from the start.</param>
public record ChangeCoverage(
    Guid ChangeId, DateOnly? EffectiveFrom, string? MemberId, string? Priority, string? GroupNumber = null, decimal? Copay = null,
    decimal? CoinsurancePercent = null, decimal? Deductible = null);

public static class ChangeCoverageEndpoint
{
    public static ProblemDetails Validate(ChangeCoverage command)
    {
        var problems = new ValidationProblems();
        if (command.ChangeId == Guid.Empty) problems.Add("changeId", "is required: a client-made id");
        if (command.EffectiveFrom is null) problems.Add("effectiveFrom", "is required (yyyy-MM-dd)");
        problems.RequireText("memberId", command.MemberId, 80);
        ApiEnum.Parse<CoveragePriority>(problems, "priority", command.Priority);
        if (command.GroupNumber is { Length: > 50 }) problems.Add("groupNumber", "must be at most 50 characters");
        problems.Check("memberId", command.MemberId);
        problems.Check("groupNumber", command.GroupNumber);
        if (command.Copay is not null) problems.RequireMoney("copay", command.Copay, 10_000m);
        if (command.Deductible is not null) problems.RequireMoney("deductible", command.Deductible, 100_000m);
        if (command.CoinsurancePercent is { } pct && (pct < 0 || pct > 100)) problems.Add("coinsurancePercent", "must be from 0 to 100");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// New terms for a coverage from a date inside its active period: the coverage stops the day before and a new coverage
    /// (id made from the change id) carries the new terms. The same change again is a replay; other content under its id a conflict.
    /// </summary>
    public static Outcome Decide(PatientAccount account, Guid coverageId, ChangeCoverage command, DateTimeOffset now)
    {
        var fingerprint = Fingerprint.Of(command with { MemberId = command.MemberId?.Trim(), GroupNumber = Blank(command.GroupNumber) });
        if (account.CoverageChanges.FirstOrDefault(c => c.ChangeId == command.ChangeId) is { } done)
        {
            return done.CoverageId == coverageId && done.Fingerprint == fingerprint
                ? Outcome.Replay(done)
                : Outcome.Conflict($"change {command.ChangeId} was already made with other content");
        }

        if (account.Coverages.FirstOrDefault(c => c.CoverageId == coverageId) is not { } coverage)
        {
            return Outcome.NotFound($"coverage {coverageId} is not on this patient's account");
        }

        if (account.ReplacedBy(coverageId) is { } replaced)
        {
            return Outcome.Reject("coverageId", $"was replaced from {Fmt.Date(replaced.EffectiveFrom)}: change the coverage that replaced it");
        }

        var from = command.EffectiveFrom!.Value;
        if (from < coverage.ActiveFrom || coverage.ActiveTo is { } to && from > to)
        {
            return Outcome.Reject("effectiveFrom",
                $"must be within the coverage's active period ({Fmt.Date(coverage.ActiveFrom)} – {(coverage.ActiveTo is { } end ? Fmt.Date(end) : "open")})");
        }

        var priority = ApiEnum.Parse<CoveragePriority>(new ValidationProblems(), "priority", command.Priority)!.Value;
        var memberId = command.MemberId!.Trim();
        var groupNumber = Blank(command.GroupNumber);
        if (memberId == coverage.MemberId && groupNumber == coverage.GroupNumber && priority == coverage.Priority && command.Copay == coverage.Copay
            && command.CoinsurancePercent == coverage.CoinsurancePercent && command.Deductible == coverage.Deductible)
        {
            return Outcome.Reject("memberId", "the new terms are the same as the coverage's: change at least one");
        }

        var changed = new CoverageChanged(account.Id, coverageId, command.ChangeId, DeterministicGuid.From(command.ChangeId, "coverage"), from, memberId,
            groupNumber, priority, command.Copay, command.CoinsurancePercent, command.Deductible, coverage.ActiveTo, now, fingerprint);
        return Outcome.Created($"/api/patients/{account.Id}/coverages/{changed.NewCoverageId}", changed).Append(account.Id, changed);
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    [WolverinePost("/api/patients/{patientId}/coverages/{coverageId}/changes"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        ChangeCoverage command, Guid coverageId, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        TimeProvider clock)
    {
        var outcome = Decide(account, coverageId, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
