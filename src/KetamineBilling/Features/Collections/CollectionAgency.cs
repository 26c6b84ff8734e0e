using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Collections;

/// <summary>
/// A collection agency the clinic places unpaid balances with, and its terms: reference data, changed in place. A placement
/// copies the agency's name and commission when it is made, so a later change of terms never rewrites what was agreed.
/// </summary>
public sealed class CollectionAgency
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary>What the agency keeps of what it collects (e.g. 30 for 30 %).</summary>
    public decimal CommissionPercent { get; set; }

    public string? Phone { get; set; }

    /// <summary>False: kept for the placements it holds, offered for no new one.</summary>
    public bool Active { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }
}

public static class CollectionAgencyQueries
{
    /// <summary>The clinic's collection agencies, by name.</summary>
    [WolverineGet("/api/collection-agencies"), Authorize(Policy = Policies.Staff)]
    [Tags("Collections")]
    public static async Task<IReadOnlyList<CollectionAgency>> Get(IQuerySession session, CancellationToken ct) =>
        await session.Query<CollectionAgency>().OrderBy(a => a.Name).ToListAsync(ct);
}
