using KetamineBilling.Features.Ui;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Grants;

public record GrantView(
    Guid Id, Guid PatientId, string Organization, GrantRule Rule, DateOnly ValidFrom, DateOnly ValidTo, decimal? Awarded, int? MaxSessions, decimal Applied,
    decimal Received, decimal Outstanding, decimal? RemainingAmount, int? RemainingSessions, decimal ClinicReductions, IReadOnlyList<GrantUse> Uses,
    IReadOnlyList<GrantFundsReceived> Funds)
{
    public static GrantView From(Grant g) => new(g.Id, g.PatientId, g.Organization, g.Rule, g.ValidFrom, g.ValidTo, g.Amount, g.MaxSessions, g.Applied, g.Received,
        g.Applied - g.Received, g.RemainingAmount, g.RemainingSessions, g.Uses.Sum(u => u.ClinicReduction), g.Uses,
        g.Funds.OrderBy(f => f.ReceivedOn).ThenBy(f => f.RecordedAt).ToList());
}

public record OrganizationUtilization(string Organization, int Grants, decimal Awarded, decimal Applied, decimal Received, decimal Outstanding);

/// <summary>One grant of the grants list, with its patient's name.</summary>
public sealed record GrantListItem(GrantView Grant, string PatientName);

public sealed record GrantListPage(IReadOnlyList<GrantListItem> Items, long TotalCount, int Page, int PageSize);

public static class GrantQueries
{
    [WolverineGet("/api/grants/{grantId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Grants")]
    public static async Task<IResult> Get(Guid grantId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Grant>(grantId, ct) is { } g ? Results.Ok(GrantView.From(g)) : Problems.NotFound($"grant {grantId} does not exist");

    [WolverineGet("/api/grants"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Grants")]
    public static async Task<IReadOnlyList<GrantView>> List(Guid? patientId, string? organization, IQuerySession session, CancellationToken ct)
    {
        IQueryable<Grant> query = session.Query<Grant>();
        if (patientId is { } p) query = query.Where(g => g.PatientId == p);
        if (!string.IsNullOrWhiteSpace(organization)) query = query.Where(g => g.Organization == organization);
        return (await query.ToListAsync(ct)).Select(GrantView.From).ToList();
    }

    /// <summary>
    /// Every grant, one page at a time (a clinic awards them per patient: they grow with the patients), with the patient's
    /// name; by organization when asked. Newest award first; <c>sort</c>: valid (from), applied or organization, '-' first
    /// for descending. A patient's own grants stay whole at <c>GET /api/grants?patientId=</c>.
    /// </summary>
    [WolverineGet("/api/grants/list"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Grants")]
    public static async Task<IResult> Page(string? organization, string? sort, int? page, int? pageSize, IQuerySession session, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        if (sort is not (null or "valid" or "-valid" or "applied" or "-applied" or "organization" or "-organization"))
            problems.Add("sort", "must be valid, applied or organization, with an optional leading '-'");
        var (number, size) = Paging.Check(problems, page, pageSize, 25, 200);
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

        IQueryable<Grant> query = session.Query<Grant>();
        if (!string.IsNullOrWhiteSpace(organization)) query = query.Where(g => g.Organization == organization);
        query = sort switch
        {
            "valid" => query.OrderBy(g => g.ValidFrom).ThenBy(g => g.Id),
            "applied" => query.OrderBy(g => g.Applied).ThenBy(g => g.Id),
            "-applied" => query.OrderByDescending(g => g.Applied).ThenBy(g => g.Id),
            "organization" => query.OrderBy(g => g.Organization).ThenByDescending(g => g.ValidFrom).ThenBy(g => g.Id),
            "-organization" => query.OrderByDescending(g => g.Organization).ThenByDescending(g => g.ValidFrom).ThenBy(g => g.Id),
            _ => query.OrderByDescending(g => g.ValidFrom).ThenBy(g => g.Id)
        };
        var (items, total) = await query.PageAsync(number, size, ct);
        var names = await PatientNames.LoadAsync(session, items.Select(g => g.PatientId), ct);
        return Results.Ok(new GrantListPage(items.Select(g => new GrantListItem(GrantView.From(g), names.GetValueOrDefault(g.PatientId, "Unknown patient"))).ToList(),
            total, number, size));
    }

    [WolverineGet("/api/grants/organizations"), Authorize(Policy = Policies.Staff)]
    [Tags("Grants")]
    public static async Task<IReadOnlyList<OrganizationUtilization>> ByOrganization(IQuerySession session, CancellationToken ct) =>
        (await session.Query<Grant>().ToListAsync(ct)).GroupBy(g => g.Organization)
            .Select(g => new OrganizationUtilization(g.Key, g.Count(), g.Sum(x => x.Amount ?? 0), g.Sum(x => x.Applied), g.Sum(x => x.Received),
                g.Sum(x => x.Applied - x.Received)))
            .OrderBy(o => o.Organization).ToList();
}
