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

    [WolverineGet("/api/grants/organizations"), Authorize(Policy = Policies.Staff)]
    [Tags("Grants")]
    public static async Task<IReadOnlyList<OrganizationUtilization>> ByOrganization(IQuerySession session, CancellationToken ct) =>
        (await session.Query<Grant>().ToListAsync(ct)).GroupBy(g => g.Organization)
            .Select(g => new OrganizationUtilization(g.Key, g.Count(), g.Sum(x => x.Amount ?? 0), g.Sum(x => x.Applied), g.Sum(x => x.Received),
                g.Sum(x => x.Applied - x.Received)))
            .OrderBy(o => o.Organization).ToList();
}
