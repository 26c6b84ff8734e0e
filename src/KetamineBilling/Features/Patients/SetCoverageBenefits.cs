using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="SessionsPerYear">The plan's limit on sessions a calendar year (1 to 366), if any.</param>
/// <param name="DollarMaximum">The plan's limit on what it pays a calendar year, if any.</param>
/// <param name="DrugBenefit">medical-buy-and-bill, medical-specialty-pharmacy or pharmacy, if known.</param>
public record SetCoverageBenefits(int? SessionsPerYear, decimal? DollarMaximum, string? DrugBenefit);

/// <summary>What the coverage allows and what its payer has used of the calendar year.</summary>
public sealed record CoverageBenefits(
    Guid CoverageId, int Year, int? SessionsPerYear, int SessionsUsed, int? SessionsLeft, decimal? DollarMaximum, decimal PaidThisYear, decimal? DollarsLeft,
    string? DrugBenefit)
{
    public static CoverageBenefits Of(PatientAccount account, CoverageRecorded coverage, int year)
    {
        var (sessions, paid) = account.UsedBy(coverage, year);
        return new CoverageBenefits(coverage.CoverageId, year, coverage.SessionsPerYear, sessions,
            coverage.SessionsPerYear is { } limit ? Math.Max(0, limit - sessions) : null, coverage.DollarMaximum, paid,
            coverage.DollarMaximum is { } maximum ? Math.Max(0m, maximum - paid) : null, coverage.DrugBenefit);
    }
}

public static class SetCoverageBenefitsEndpoint
{
    public static readonly string[] DrugBenefits = ["medical-buy-and-bill", "medical-specialty-pharmacy", "pharmacy"];

    public static ProblemDetails Validate(SetCoverageBenefits command)
    {
        var problems = new ValidationProblems();
        if (command.SessionsPerYear is < 1 or > 366) problems.Add("sessionsPerYear", "must be from 1 to 366, or left out for no limit");
        if (command.DollarMaximum is { } maximum) problems.RequireMoney("dollarMaximum", maximum, 10_000_000m);
        if (command.DollarMaximum == 0m) problems.Add("dollarMaximum", "must be more than $0.00, or left out for no limit");
        if (command.DrugBenefit is { } path && !DrugBenefits.Contains(path)) problems.Add("drugBenefit", $"must be one of {string.Join(", ", DrugBenefits)}");
        return problems.ToProblemDetails();
    }

    /// <summary>The coverage's limits and drug benefit path, replacing what was set; the same again changes nothing.</summary>
    public static Outcome Decide(PatientAccount account, Guid coverageId, SetCoverageBenefits command, DateOnly today, DateTimeOffset now)
    {
        if (account.Coverages.FirstOrDefault(c => c.CoverageId == coverageId) is not { } coverage)
            return Outcome.NotFound($"coverage {coverageId} is not one of the patient's insurance coverages");
        if (account.ReplacedBy(coverageId) is { } replaced)
            return Outcome.Reject("coverageId", $"was replaced from {replaced.EffectiveFrom:yyyy-MM-dd}: set the limits on the coverage that replaced it");
        if (coverage.SessionsPerYear == command.SessionsPerYear && coverage.DollarMaximum == command.DollarMaximum && coverage.DrugBenefit == command.DrugBenefit)
            return Outcome.Replay(CoverageBenefits.Of(account, coverage, today.Year));
        var set = new CoverageBenefitsSet(account.Id, coverageId, command.SessionsPerYear, command.DollarMaximum, command.DrugBenefit, now);
        var after = coverage with { SessionsPerYear = set.SessionsPerYear, DollarMaximum = set.DollarMaximum, DrugBenefit = set.DrugBenefit };
        return Outcome.Ok(CoverageBenefits.Of(account, after, today.Year)).Append(account.Id, set);
    }

    [WolverinePost("/api/patients/{patientId}/coverages/{coverageId}/benefits"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        SetCoverageBenefits command, Guid coverageId, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = Decide(account, coverageId, command, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
