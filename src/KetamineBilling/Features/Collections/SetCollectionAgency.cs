using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Collections;

/// <summary>A collection agency as it reads from now on (the whole set): the client makes its id, so adding one twice is one agency.</summary>
/// <param name="CommissionPercent">What the agency keeps of what it collects: 0 to 60 percent.</param>
/// <param name="Active">Left out: true. False offers it for no new placement.</param>
public record SetCollectionAgency(string? Name, decimal? CommissionPercent, string? Phone, bool? Active);

public static class SetCollectionAgencyEndpoint
{
    public const decimal MaxCommissionPercent = 60m;

    public static ProblemDetails Validate(SetCollectionAgency command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("name", command.Name, 80);
        if (command.CommissionPercent is not { } percent) problems.Add("commissionPercent", "is required");
        else if (percent < 0 || percent > MaxCommissionPercent || decimal.Round(percent, 2) != percent)
            problems.Add("commissionPercent", $"must be 0 to {MaxCommissionPercent} percent with at most two decimals");
        if (command.Phone is { Length: > 30 }) problems.Add("phone", "must be at most 30 characters");
        return problems.ToProblemDetails();
    }

    /// <summary>Adds the agency, or changes it in place; the same values again change nothing (200 with the agency).</summary>
    public static Outcome Decide(Guid agencyId, CollectionAgency? existing, SetCollectionAgency command, DateTimeOffset now)
    {
        var agency = new CollectionAgency
        {
            Id = agencyId, Name = command.Name!.Trim(), CommissionPercent = command.CommissionPercent!.Value,
            Phone = string.IsNullOrWhiteSpace(command.Phone) ? null : command.Phone.Trim(), Active = command.Active ?? true,
            CreatedAt = existing?.CreatedAt ?? now
        };
        if (existing is null) return Outcome.Created($"/api/collection-agencies/{agencyId}", agency);
        return existing.Name == agency.Name && existing.CommissionPercent == agency.CommissionPercent && existing.Phone == agency.Phone && existing.Active == agency.Active
            ? Outcome.Replay(existing)
            : Outcome.Ok(agency);
    }

    [WolverinePut("/api/collection-agencies/{agencyId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Collections")]
    public static async Task<IResult> Put(Guid agencyId, SetCollectionAgency command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        if (agencyId == Guid.Empty) return Problems.Invalid("agencyId", "must be a client-made id", StatusCodes.Status400BadRequest);
        var outcome = Decide(agencyId, await session.LoadAsync<CollectionAgency>(agencyId, ct), command, clock.GetUtcNow());
        if (outcome is Outcome.Accepted { Answer: CollectionAgency agency }) session.Store(agency);
        return outcome.ToResult();
    }
}
