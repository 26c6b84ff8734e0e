using System.Security.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Employers;

public record CreateEmployer(
    string? Name, string? BillingContact, decimal? RatePerSession, decimal? CoveragePercent, IReadOnlyList<string>? CoveredCodes,
    decimal? CapPerEmployeePerYear, int? CapSessionsPerEmployeePerYear, bool ShowNames = false, int? PaymentTermsDays = null, Guid? EmployerId = null);

public record EmployerCreated(Guid Id) : CreationResponse($"/api/employers/{Id}");

public static class EmployerAccess
{
    /// <summary>An Employer user sees one employer: any other id is answered as if it did not exist.</summary>
    public static bool MaySee(ClaimsPrincipal user, Guid employerId) =>
        !user.IsInRole(Roles.Employer) || user.IsInRole(Roles.BillingAdmin) || user.IsInRole(Roles.Finance)
        || user.FindFirst(UserClaims.EmployerId)?.Value == employerId.ToString();
}

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

    [WolverinePost("/api/employers"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Employers")]
    public static async Task<IResult> Post(CreateEmployer command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var id = command.EmployerId ?? Guid.CreateVersion7();
        var terms = new EmployerTerms(command.RatePerSession, command.CoveragePercent,
            (command.CoveredCodes ?? []).Select(c => c.Trim().ToUpperInvariant()).ToList(), command.CapPerEmployeePerYear,
            command.CapSessionsPerEmployeePerYear, command.PaymentTermsDays ?? 30, command.ShowNames);
        if (await session.LoadAsync<EmployerAgreement>(id, ct) is { } existing)
        {
            return existing.Name == command.Name!.Trim() && existing.Terms.RatePerSession == terms.RatePerSession && existing.Terms.CoveragePercent == terms.CoveragePercent
                ? Results.Ok(new EmployerCreated(id))
                : Problems.Conflict($"employer {id} exists with other terms");
        }

        session.Events.StartStream<EmployerAgreement>(id, new EmployerRegistered(id, command.Name!.Trim(), command.BillingContact?.Trim(), terms, clock.GetUtcNow()));
        return Results.Created($"/api/employers/{id}", new EmployerCreated(id));
    }
}

public record EnrollEmployee(Guid PatientId, string? MemberId, int PlanYear);

public static class EnrollEmployeeEndpoint
{
    public static ProblemDetails Validate(EnrollEmployee command)
    {
        var problems = new ValidationProblems();
        if (command.PatientId == Guid.Empty) problems.Add("patientId", "is required");
        problems.RequireText("memberId", command.MemberId, 40);
        if (command.PlanYear is < 2000 or > 2100) problems.Add("planYear", "must be a year such as 2026");
        return problems.ToProblemDetails();
    }

    public static Task<PatientAccount?> LoadAsync(EnrollEmployee command, IQuerySession session, CancellationToken ct) =>
        session.LoadAsync<PatientAccount>(command.PatientId, ct);

    [WolverinePost("/api/employers/{employerId}/enrollments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Employers")]
    public static (IResult, Events) Post(
        EnrollEmployee command, [WriteAggregate("employerId", OnMissing = OnMissing.ProblemDetailsWith404)] EmployerAgreement employer,
        PatientAccount? patient, TimeProvider clock)
    {
        if (patient is null)
        {
            return (Problems.Invalid("patientId", "is not a patient", StatusCodes.Status422UnprocessableEntity), []);
        }

        if (employer.Enrollments.FirstOrDefault(e => e.PatientId == command.PatientId && e.PlanYear == command.PlanYear) is { } existing)
        {
            return existing.MemberId == command.MemberId!.Trim()
                ? (Results.Ok(existing), [])
                : (Problems.Conflict($"the patient is enrolled for {command.PlanYear} under member id {existing.MemberId}"), []);
        }

        var enrolled = new EmployeeEnrolled(employer.Id, command.PatientId, command.MemberId!.Trim(), command.PlanYear, clock.GetUtcNow());
        return (Results.Created($"/api/employers/{employer.Id}/enrollments/{command.PatientId}", enrolled), [enrolled]);
    }
}

public record EndEmployment(DateOnly? EndedOn);

public static class EndEmploymentEndpoint
{
    [WolverinePost("/api/employers/{employerId}/enrollments/{patientId}/end"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Employers")]
    public static (IResult, Events) Post(
        Guid patientId, EndEmployment command, [WriteAggregate("employerId", OnMissing = OnMissing.ProblemDetailsWith404)] EmployerAgreement employer,
        ClinicCalendar calendar, TimeProvider clock)
    {
        if (employer.Enrollments.All(e => e.PatientId != patientId || e.EndedOn is not null))
            return (Problems.NotFound($"patient {patientId} has no open enrolment with this employer"), []);
        var ended = new EmploymentEnded(employer.Id, patientId, command.EndedOn ?? calendar.Today(), clock.GetUtcNow());
        return (Results.Ok(ended), [ended]);
    }
}

public record EmployerView(Guid Id, string Name, string? BillingContact, EmployerTerms Terms, IReadOnlyList<Enrollment> Enrollments, decimal Committed, decimal Invoiced, decimal Paid);

public static class EmployerQueries
{
    [WolverineGet("/api/employers"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Employers")]
    public static async Task<IReadOnlyList<EmployerView>> List(IQuerySession session, CancellationToken ct) =>
        (await session.Query<EmployerAgreement>().OrderBy(e => e.Name).ToListAsync(ct)).Select(View).ToList();

    [WolverineGet("/api/employers/{employerId}"), Authorize(Policy = Policies.EmployerFigures)]
    [Tags("Employers")]
    public static async Task<IResult> Get(Guid employerId, ClaimsPrincipal user, IQuerySession session, CancellationToken ct)
    {
        var employer = EmployerAccess.MaySee(user, employerId) ? await session.LoadAsync<EmployerAgreement>(employerId, ct) : null;
        if (employer is null) return Problems.NotFound($"employer {employerId} does not exist");
        return Results.Ok(ViewFor(user, employer));
    }

    /// <summary>
    /// Terms and totals for everyone who may read the employer; who its enrolled employees are (patient ids, member ids)
    /// only for BillingAdmin: Finance sees figures, an employer its own totals (minimum necessary).
    /// </summary>
    public static EmployerView ViewFor(ClaimsPrincipal user, EmployerAgreement employer)
    {
        var view = View(employer);
        return user.IsInRole(Roles.BillingAdmin) ? view : view with { Enrollments = [] };
    }

    public static EmployerView View(EmployerAgreement e) => new(e.Id, e.Name, e.BillingContact, e.Terms, e.Enrollments,
        e.Commitments.Sum(c => c.Amount), e.Invoices.Sum(i => i.Total), e.Payments.Sum(p => p.Amount));
}

public static class EmployersModule
{
    public static void AddEmployers(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
        opts.Projections.Snapshot<EmployerAgreement>(JasperFx.Events.Projections.SnapshotLifecycle.Inline));
}
