using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Remittances;

public record MatchRemittanceItem(Guid ItemId, Guid ClaimId);

public static class MatchRemittanceItemEndpoint
{
    public static ProblemDetails Validate(MatchRemittanceItem command)
    {
        var problems = new ValidationProblems();
        if (command.ItemId == Guid.Empty) problems.Add("itemId", "is required");
        if (command.ClaimId == Guid.Empty) problems.Add("claimId", "is required");
        return problems.ToProblemDetails();
    }

    /// <summary>Billing names the claim an unmatched item belongs to; it then posts by the same rules as any 835 line.</summary>
    [WolverinePost("/api/remittances/{remittanceId}/matches"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<(IResult, Events)> Post(
        MatchRemittanceItem command, [WriteAggregate("remittanceId", OnMissing = OnMissing.ProblemDetailsWith404)] Remittance remittance,
        IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var item = remittance.Unmatched.FirstOrDefault(u => u.ItemId == command.ItemId);
        if (item is null)
        {
            return (Problems.NotFound($"item {command.ItemId} is not an open unmatched item of this remittance (already matched, or never on it)"), []);
        }

        var now = clock.GetUtcNow();
        var outcome = await ImportRemittanceEndpoint.PostOneAsync(new PostingWorkspace(session), command.ClaimId, item.Payment,
            $"835:{remittance.Id:N}:{item.ItemId:N}", remittance.Id, now, ct);
        if (outcome.Problem is not null)
        {
            return (Problems.Invalid("claimId", outcome.Problem, StatusCodes.Status422UnprocessableEntity), []);
        }

        var matched = new RemittanceItemMatched(remittance.Id, item.ItemId, new PostedClaim(command.ClaimId, item.ControlNumber, item.ClaimStatusCode, outcome.Paid, outcome.Lines), now);
        return (Results.Ok(matched.Posted), [matched]);
    }
}

public static class RemittanceQueries
{
    [PhiRead("remittance", Subject = PhiSubject.Remittance)]
    [WolverineGet("/api/remittances/{remittanceId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<IResult> Get(Guid remittanceId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Remittance>(remittanceId, ct) is { } r ? Results.Ok(r) : Problems.NotFound($"remittance {remittanceId} does not exist");

    [WolverineGet("/api/remittances"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<IReadOnlyList<Remittance>> List(bool? unmatched, IQuerySession session, CancellationToken ct)
    {
        var all = await session.Query<Remittance>().OrderByDescending(r => r.ReceivedAt).Take(500).ToListAsync(ct);
        return unmatched == true ? all.Where(r => r.Unmatched.Count > 0).ToList() : all;
    }
}

/// <summary>
/// Finance's view of a remittance (minimum necessary): the payer's money and how much of it posted, no claim, control
/// number, patient or raw 835 loop (those are BillingAdmin's, in <see cref="Remittance"/>).
/// </summary>
public sealed record RemittanceFigures(
    Guid Id, string Payer, Guid? PayerId, string TraceNumber, string PaymentMethod, decimal PaymentAmount, DateOnly? PaymentDate,
    DateTimeOffset ReceivedAt, int ClaimPayments, int ClaimsPosted, decimal PaidPosted, int UnmatchedItems, decimal UnmatchedPaid,
    decimal ProviderAdjustments, bool Posting)
{
    public static RemittanceFigures Of(Remittance r) => new(
        r.Id, r.PayerName, r.PayerId, r.TraceNumber, r.PaymentMethod, r.PaymentAmount, r.PaymentDate, r.ReceivedAt, r.ClaimPayments,
        r.Posted.Count, r.Posted.Sum(p => p.Paid), r.Unmatched.Count, r.Unmatched.Sum(u => u.Paid), r.ProviderAdjustments.Sum(a => a.Amount), r.Posting);
}

public static class RemittanceFigureQueries
{
    /// <summary>The remittances, newest first (at most 500), as figures: payer, trace, payment, posted and unmatched totals; no patients.</summary>
    [WolverineGet("/api/remittances/figures"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("Remittances")]
    public static async Task<IReadOnlyList<RemittanceFigures>> List(IQuerySession session, CancellationToken ct) =>
        (await session.Query<Remittance>().OrderByDescending(r => r.ReceivedAt).Take(500).ToListAsync(ct)).Select(RemittanceFigures.Of).ToList();
}

public static class RemittancesModule
{
    public static void AddRemittances(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
        opts.Projections.Snapshot<Remittance>(JasperFx.Events.Projections.SnapshotLifecycle.Inline));
}
