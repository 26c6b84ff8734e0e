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

public static class EmployerAccess
{
    /// <summary>An Employer user sees one employer: any other id is answered as if it did not exist.</summary>
    public static bool MaySee(ClaimsPrincipal user, Guid employerId) =>
        !user.IsInRole(Roles.Employer) || user.IsInRole(Roles.BillingAdmin) || user.IsInRole(Roles.Finance)
        || user.FindFirst(UserClaims.EmployerId)?.Value == employerId.ToString();
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
