using KetamineBilling.Features.Ledger;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Employers;

public record CreateEmployer(
    string? Name, string? BillingContact, decimal? RatePerSession, decimal? CoveragePercent, IReadOnlyList<string>? CoveredCodes,
    decimal? CapPerEmployeePerYear, int? CapSessionsPerEmployeePerYear, bool ShowNames = false, int? PaymentTermsDays = null, Guid? EmployerId = null);

public record EmployerCreated(Guid Id) : CreationResponse($"/api/employers/{Id}");

public static class CreateEmployerEndpoint
{
    public static ProblemDetails Validate(CreateEmployer command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("name", command.Name, 100);
        if (command.RatePerSession is null == command.CoveragePercent is null)
            problems.Add("ratePerSession", "give exactly one of ratePerSession or coveragePercent");
        if (command.RatePerSession is not null) problems.RequirePositive("ratePerSession", command.RatePerSession);
        if (command.CoveragePercent is { } pct && (pct <= 0 || pct > 100)) problems.Add("coveragePercent", "must be above 0 and at most 100");
        if (command.CapPerEmployeePerYear is not null) problems.RequirePositive("capPerEmployeePerYear", command.CapPerEmployeePerYear);
        if (command.CapSessionsPerEmployeePerYear is < 1) problems.Add("capSessionsPerEmployeePerYear", "must be at least 1");
        if (command.PaymentTermsDays is < 0 or > 180) problems.Add("paymentTermsDays", "must be from 0 to 180");
        if (command.BillingContact is { Length: > 200 }) problems.Add("billingContact", "must be at most 200 characters");
        return problems.ToProblemDetails();
    }

    /// <summary>The employer's agreement starts with its terms; the same id again is a replay when the terms agree, else a conflict.</summary>
    public static Outcome Decide(EmployerAgreement? existing, CreateEmployer command, Guid id, DateTimeOffset now)
    {
        var terms = new EmployerTerms(command.RatePerSession, command.CoveragePercent,
            (command.CoveredCodes ?? []).Select(c => c.Trim().ToUpperInvariant()).ToList(), command.CapPerEmployeePerYear,
            command.CapSessionsPerEmployeePerYear, command.PaymentTermsDays ?? 30, command.ShowNames);
        if (existing is not null)
        {
            return existing.Name == command.Name!.Trim() && existing.Terms.RatePerSession == terms.RatePerSession && existing.Terms.CoveragePercent == terms.CoveragePercent
                ? Outcome.Replay(new EmployerCreated(id))
                : Outcome.Conflict($"employer {id} exists with other terms");
        }

        return Outcome.Created($"/api/employers/{id}", new EmployerCreated(id))
            .Start<EmployerAgreement>(id, new EmployerRegistered(id, command.Name!.Trim(), command.BillingContact?.Trim(), terms, now));
    }

    [WolverinePost("/api/employers"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Employers")]
    public static async Task<IResult> Post(CreateEmployer command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var id = command.EmployerId ?? Guid.CreateVersion7();
        var outcome = Decide(await session.LoadAsync<EmployerAgreement>(id, ct), command, id, clock.GetUtcNow());
        outcome.AppendTo(session);
        return outcome.ToResult();
    }
}
