using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Claims;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Remittances;

public static class RemittanceQueries
{
    /// <summary>How posting treats each claim adjustment reason code: the shipped defaults, and the clinic's own where it set them.</summary>
    [WolverineGet("/api/reason-codes"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<ReasonCodeTableView> GetReasonCodes(IQuerySession session, CancellationToken ct) =>
        ReasonCodes.View(await ReasonCodeTable.LoadAsync(session, ct));

    [PhiRead("remittance", Subject = PhiSubject.Remittance)]
    [WolverineGet("/api/remittances/{remittanceId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<IResult> Get(Guid remittanceId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Remittance>(remittanceId, ct) is { } r ? Results.Ok(r) : Outcome.NotFound($"remittance {remittanceId} does not exist").ToResult();

    /// <summary>
    /// One remittance as its page shows it: the payment (payer, method, check/EFT trace, dates), its totals, the provider
    /// adjustments, and every claim payment it holds, matched (posted to a claim, with the patient, charge, paid, patient
    /// responsibility and adjustments as posted) or unmatched (as the file states it, with why).
    /// </summary>
    [PhiRead("remittance", Subject = PhiSubject.Remittance)]
    [WolverineGet("/api/remittances/{remittanceId}/detail"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<IResult> Detail(Guid remittanceId, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<Remittance>(remittanceId, ct) is not { } r) return Outcome.NotFound($"remittance {remittanceId} does not exist").ToResult();
        var claims = (await session.LoadManyAsync<Claim>(ct, r.Posted.Select(p => p.ClaimId).Distinct().ToArray())).ToDictionary(c => c.Id);
        var views = (await ClaimQueries.ViewsAsync(session, claims.Values.ToList(), ct)).ToDictionary(v => v.Id);

        // A claim's adjudications from this remittance, each given to one posted payment (a file may reverse and repost a claim).
        var unused = claims.Values.ToDictionary(c => c.Id, c => c.Adjudications.Where(a => a.RemittanceId == r.Id).ToList());
        var payments = new List<RemittanceClaimPayment>();
        foreach (var posted in r.Posted)
        {
            var view = views.GetValueOrDefault(posted.ClaimId);
            var own = unused.GetValueOrDefault(posted.ClaimId) ?? [];
            var adjudication = posted.ClaimStatusCode == "22" ? null : own.FirstOrDefault(a => a.Paid == posted.Paid) ?? own.FirstOrDefault();
            if (adjudication is not null) own.Remove(adjudication);
            payments.Add(new RemittanceClaimPayment(
                true, posted.ClaimId, null, posted.ControlNumber, posted.ClaimStatusCode, view?.PatientId, view?.PatientName,
                adjudication?.Lines.Sum(l => l.Charge), posted.Paid, adjudication?.PatientResponsibility,
                Totals(adjudication?.Lines.SelectMany(l => l.Adjustments).Select(a => (a.Group, a.Reason, a.Amount)) ?? []), view?.DateOfService, null));
        }

        payments.AddRange(r.Unmatched.Select(u => new RemittanceClaimPayment(
            false, null, u.ItemId, u.ControlNumber, u.ClaimStatusCode, null, null, u.Charge, u.Paid, u.Payment.PatientResponsibility,
            Totals(u.Payment.Adjustments.Concat(u.Payment.Lines.SelectMany(l => l.Adjustments)).Select(a => (a.Group, a.Reason, a.Amount))),
            u.Payment.Lines.Select(l => l.DateOfService).Min(), u.Reason)));

        return Results.Ok(new RemittanceDetail(
            r.Id, r.PayerName, r.PayerId, r.PayerIdentifier, r.TraceNumber, r.PaymentMethod, r.PaymentAmount, r.PaymentDate, r.ReceivedAt, r.Posting,
            r.AcceptedUnbalanced, r.Posted.Sum(p => p.Paid) + r.Unmatched.Sum(u => u.Paid), r.Posted.Sum(p => p.Paid), r.Unmatched.Sum(u => u.Paid),
            r.ProviderAdjustments.Sum(a => a.Amount), r.ProviderAdjustments, payments, r.ProviderAdjustmentsPosted, r.ForwardBalanceOpen));
    }

    /// <summary>Adjustments summed by group and reason code (CO-45, PR-2, ...).</summary>
    private static IReadOnlyList<ClaimAdjustment> Totals(IEnumerable<(string Group, string Reason, decimal Amount)> adjustments) =>
        adjustments.GroupBy(a => (a.Group, a.Reason)).Select(g => new ClaimAdjustment(g.Key.Group, g.Key.Reason, g.Sum(a => a.Amount))).ToList();

    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 200;

    /// <summary>
    /// The remittances, paged in the database (no cap): newest first unless <paramref name="sort"/> says otherwise.
    /// </summary>
    /// <param name="unmatched">true: only those holding an unmatched item (to match by hand).</param>
    /// <param name="search">Part of the payer's name or of the trace number (any case).</param>
    /// <param name="sort">received (default: newest first as -received), payer or amount; a leading '-' sorts descending.</param>
    /// <param name="page">From 1.</param>
    /// <param name="pageSize">1-200, default 50.</param>
    [WolverineGet("/api/remittances"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<IResult> List(bool? unmatched, string? search, string? sort, int? page, int? pageSize, IQuerySession session, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        if (sort is not (null or "received" or "-received" or "payer" or "-payer" or "amount" or "-amount"))
            problems.Add("sort", "must be received, payer or amount, with an optional leading '-'");
        var (number, size) = Paging.Check(problems, page, pageSize, DefaultPageSize, MaxPageSize);
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

        var query = Filtered(session, search);
        if (unmatched == true) query = query.Where(r => r.Unmatched.Any());
        query = sort switch
        {
            "received" => query.OrderBy(r => r.ReceivedAt),
            "payer" => query.OrderBy(r => r.PayerName).ThenByDescending(r => r.ReceivedAt),
            "-payer" => query.OrderByDescending(r => r.PayerName).ThenByDescending(r => r.ReceivedAt),
            "amount" => query.OrderBy(r => r.PaymentAmount).ThenByDescending(r => r.ReceivedAt),
            "-amount" => query.OrderByDescending(r => r.PaymentAmount).ThenByDescending(r => r.ReceivedAt),
            _ => query.OrderByDescending(r => r.ReceivedAt)
        };
        var (items, total) = await query.PageAsync(number, size, ct);
        return Results.Ok(new RemittancePage(items, total, number, size));
    }

    /// <summary>The remittances whose payer or trace number contains <paramref name="search"/> (any case), in the database.</summary>
    internal static IQueryable<Remittance> Filtered(IQuerySession session, string? search)
    {
        IQueryable<Remittance> query = session.Query<Remittance>();
        if (string.IsNullOrWhiteSpace(search)) return query;
        var term = search.Trim();
        return query.Where(r => r.PayerName.Contains(term, StringComparison.OrdinalIgnoreCase) || r.TraceNumber.Contains(term, StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>One page of remittances and how many there are in all.</summary>
public sealed record RemittancePage(IReadOnlyList<Remittance> Items, long TotalCount, int Page, int PageSize);

/// <param name="ClaimPayments">Every claim payment's amount (CLP04), matched and unmatched.</param>
/// <param name="ProviderAdjustmentsTotal">The PLB amounts: the payment is the claim payments less these.</param>
public sealed record RemittanceDetail(
    Guid Id, string Payer, Guid? PayerId, string? PayerIdentifier, string TraceNumber, string PaymentMethod, decimal PaymentAmount, DateOnly? PaymentDate,
    DateTimeOffset ReceivedAt, bool Posting, UnbalancedAcceptance? AcceptedUnbalanced, decimal ClaimPayments, decimal MatchedPaid, decimal UnmatchedPaid,
    decimal ProviderAdjustmentsTotal, IReadOnlyList<ProviderAdjustment835> ProviderAdjustments, IReadOnlyList<RemittanceClaimPayment> Payments,
    IReadOnlyList<PostedProviderAdjustment>? ProviderAdjustmentsPosted = null, decimal ForwardBalanceOpen = 0m);

/// <param name="Matched">Posted to <paramref name="ClaimId"/>; else an unmatched item (<paramref name="ItemId"/>) kept with <paramref name="Reason"/>.</param>
/// <param name="ClaimStatusCode">CLP02 (1 processed as primary, 4 denied, 22 reversal, ...).</param>
/// <param name="Adjustments">The claim's and its lines' CAS adjustments, summed by group and reason.</param>
public sealed record RemittanceClaimPayment(
    bool Matched, Guid? ClaimId, Guid? ItemId, string ControlNumber, string ClaimStatusCode, Guid? PatientId, string? Patient, decimal? Charge, decimal Paid,
    decimal? PatientResponsibility, IReadOnlyList<ClaimAdjustment> Adjustments, DateOnly? DateOfService, string? Reason);

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
    /// <summary>The remittances, newest first, as figures: payer, trace, payment, posted and unmatched totals; no patients. Paged in the database.</summary>
    /// <param name="search">Part of the payer's name or of the trace number (any case).</param>
    /// <param name="page">From 1.</param>
    /// <param name="pageSize">1-200, default 50.</param>
    [WolverineGet("/api/remittances/figures"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("Remittances")]
    public static async Task<IResult> List(string? search, int? page, int? pageSize, IQuerySession session, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        var (number, size) = Paging.Check(problems, page, pageSize, RemittanceQueries.DefaultPageSize, RemittanceQueries.MaxPageSize);
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        var (items, total) = await RemittanceQueries.Filtered(session, search).OrderByDescending(r => r.ReceivedAt).PageAsync(number, size, ct);
        return Results.Ok(new RemittanceFiguresPage(items.Select(RemittanceFigures.Of).ToList(), total, number, size));
    }
}

/// <summary>One page of remittance figures and how many there are in all.</summary>
public sealed record RemittanceFiguresPage(IReadOnlyList<RemittanceFigures> Items, long TotalCount, int Page, int PageSize);
