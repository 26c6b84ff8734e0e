using KetamineBilling.Features.Ui;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using System.Globalization;
using System.Linq.Expressions;
using Marten.Linq.MatchesSql;
using Marten.Pagination;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Claims;

/// <param name="PatientName">The patient's name (in the list and one claim's view; empty in a command's answer).</param>
/// <param name="DateOfService">The first date of service on its lines; <paramref name="LastDateOfService"/> the last.</param>
/// <param name="Sent">The 837 batches that sent the claim, oldest first (none: not exported yet).</param>
public sealed record ClaimView(
    Guid Id, Guid PatientId, Guid PayerId, string ControlNumber, string Status, decimal TotalCharge, decimal Paid, string? AuthorizationNumber,
    IReadOnlyList<string> DiagnosisCodes, IReadOnlyList<string> Warnings, IReadOnlyList<ClaimLine> Lines, IReadOnlyList<ClaimAdjudicated> Adjudications,
    IReadOnlyList<ClaimHistoryEntry> History, DateTimeOffset FiledAt, DateTimeOffset LastChangedAt, string? PatientName = null,
    DateOnly? DateOfService = null, DateOnly? LastDateOfService = null, IReadOnlyList<ClaimSent>? Sent = null, string PlaceOfService = Claim.OfficePlaceOfService,
    string Frequency = "1", string? PayerClaimNumber = null, Guid? ReplacesClaimId = null, string? ReplacesPayerClaimNumber = null, Guid? ReplacedByClaimId = null,
    string? VoidPayerClaimNumber = null, PriorPayer? PriorPayer = null, Guid? SecondaryClaimId = null, string? SecondaryNotPrepared = null,
    PayerCredit? PayerCredit = null)
{
    public static ClaimView From(Claim c, string? patientName = null, IReadOnlyList<ClaimSent>? sent = null) => new(
        c.Id, c.PatientId, c.PayerId, c.ControlNumber, ApiEnum.Name(c.Status), c.TotalCharge, c.Paid, c.AuthorizationNumber, c.DiagnosisCodes,
        c.Warnings, c.Lines, c.Adjudications, c.History, c.FiledAt, c.LastChangedAt, patientName,
        c.Lines.Count == 0 ? null : c.Lines.Min(l => l.DateOfService), c.Lines.Count == 0 ? null : c.Lines.Max(l => l.DateOfService), sent ?? [], c.PlaceOfService,
        c.Frequency, c.PayerClaimNumber, c.ReplacesClaimId, c.ReplacesPayerClaimNumber, c.ReplacedByClaimId, c.VoidPayerClaimNumber, c.PriorPayer,
        c.SecondaryClaimId, c.SecondaryNotPrepared);
}

/// <param name="Batch">The batch's interchange control number (ISA13).</param>
/// <param name="Resubmission">True when this batch sent the claim again, with the batch's reason.</param>
/// <param name="Void">True when this batch sent the claim's void (frequency 8).</param>
public sealed record ClaimSent(int Batch, Guid BatchId, DateTimeOffset SentAt, bool Resubmission, bool Void = false);

public sealed record ClaimPage(IReadOnlyList<ClaimView> Items, long TotalCount, int Page, int PageSize);

public sealed record AcknowledgmentPage(IReadOnlyList<AcknowledgmentImport> Items, long TotalCount, int Page, int PageSize);

public static class ClaimQueries
{
    /// <summary>The imported 999 and 277CA files, newest first, with what each did to each claim.</summary>
    [WolverineGet("/api/claim-acknowledgments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Acknowledgments(int? page, int? pageSize, IQuerySession session, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        if (page is < 1) problems.Add("page", "must be 1 or more");
        if (pageSize is < 1 or > 200) problems.Add("pageSize", "must be from 1 to 200");
        if (problems.Any) return Outcome.Reject(problems, StatusCodes.Status400BadRequest).ToResult();
        var number = page ?? 1;
        var size = pageSize ?? 25;
        var files = await session.Query<ClaimAcknowledgmentFile>().OrderByDescending(f => f.ReceivedAt).ToPagedListAsync(number, size, ct);
        return Results.Ok(new AcknowledgmentPage(files.Select(f => AcknowledgmentImport.From(f)).ToList(), files.TotalItemCount, number, size));
    }

    [PhiRead("claim", Subject = PhiSubject.Claim)]
    [WolverineGet("/api/claims/{claimId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Get(Guid claimId, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<Claim>(claimId, ct) is not { } claim) return Outcome.NotFound($"claim {claimId} does not exist").ToResult();
        var view = (await ViewsAsync(session, [claim], ct)).Single();
        // The claim's insurance credit (what its payer overpaid and what cleared it), when it has any.
        var account = await session.LoadAsync<Patients.PatientAccount>(claim.PatientId, ct);
        return Results.Ok(account is not null && account.InsuranceOverpayments.Any(o => o.ClaimId == claim.Id) ? view with { PayerCredit = PayerCredit.Of(account, claim.Id) } : view);
    }

    /// <summary>The claims as read: with their patient's name and the batches that sent them.</summary>
    public static async Task<IReadOnlyList<ClaimView>> ViewsAsync(IQuerySession session, IReadOnlyList<Claim> claims, CancellationToken ct)
    {
        if (claims.Count == 0) return [];
        var names = await PatientNames.LoadAsync(session, claims.Select(c => c.PatientId), ct);
        var ids = claims.Select(c => c.Id.ToString()).ToArray();
        // ClaimIds is a JSON array of ids: ?| finds the batches that hold any of these.
        var batches = await session.Query<ClaimBatch>()
            .Where(b => b.MatchesSql('^', "d.data -> 'ClaimIds' ?| ^", new object[] { ids }))
            .OrderBy(b => b.Id).ToListAsync(ct);
        return claims.Select(c => ClaimView.From(c, names.GetValueOrDefault(c.PatientId),
            batches.Where(b => b.ClaimIds.Contains(c.Id)).Select(b => new ClaimSent(b.Id, b.BatchId, b.CreatedAt, b.Resent.Any(r => r.ClaimId == c.Id), b.Voids.Contains(c.Id))).ToList())).ToList();
    }

    /// <summary>
    /// What the search box says: a claim number (prefix), part of a patient's name, an amount (the claim's charge: "510",
    /// "$1,020.00") or a date of service (MM/dd/yyyy or yyyy-MM-dd). Any claim that matches one of its readings.
    /// </summary>
    private static async Task<IQueryable<Claim>> SearchAsync(IQuerySession session, IQueryable<Claim> query, string search, CancellationToken ct)
    {
        var text = search.Trim();
        var prefix = text.ToUpperInvariant();
        var term = text.ToLowerInvariant();
        var patients = (await session.Query<PatientDirectoryEntry>().Where(p => p.SearchName.Contains(term)).Select(p => p.Id).Take(500).ToListAsync(ct)).ToArray();
        var isAmount = decimal.TryParse(text.TrimStart('$'), NumberStyles.Number, CultureInfo.GetCultureInfo("en-US"), out var amount);
        var isDate = DateOnly.TryParseExact(text, ["MM/dd/yyyy", "M/d/yyyy", "yyyy-MM-dd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var day);
        var onDay = $"[{{\"DateOfService\": \"{day:yyyy-MM-dd}\"}}]";
        Expression<Func<Claim, bool>> match = (isAmount, isDate) switch
        {
            (true, true) => c => c.ControlNumber.StartsWith(prefix) || patients.Contains(c.PatientId) || c.TotalCharge == amount
                                 || c.MatchesSql('^', "d.data -> 'Lines' @> ^::jsonb", onDay),
            (true, false) => c => c.ControlNumber.StartsWith(prefix) || patients.Contains(c.PatientId) || c.TotalCharge == amount,
            (false, true) => c => c.ControlNumber.StartsWith(prefix) || patients.Contains(c.PatientId) || c.MatchesSql('^', "d.data -> 'Lines' @> ^::jsonb", onDay),
            _ => c => c.ControlNumber.StartsWith(prefix) || patients.Contains(c.PatientId)
        };
        return query.Where(match);
    }

    /// <param name="olderThanDays">Claims filed more than this many days ago and still open.</param>
    /// <param name="sort">filed (default), charge, paid or status; a leading '-' sorts descending.</param>
    /// <param name="controlNumber">Claims whose control number (CLM01) starts with this.</param>
    /// <param name="search">A claim number (prefix), part of the patient's name, the claim's charge or a date of service (MM/dd/yyyy).</param>
    [WolverineGet("/api/claims"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> List(
        string? status, Guid? payerId, Guid? patientId, int? olderThanDays, int? page, int? pageSize, string? sort, string? controlNumber, string? search, IQuerySession session,
        TimeProvider clock, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        if (sort is not (null or "filed" or "-filed" or "charge" or "-charge" or "paid" or "-paid" or "status" or "-status"))
            problems.Add("sort", "must be filed, charge, paid or status, with an optional leading '-'");
        var wanted = ApiEnum.Parse<ClaimStatus>(problems, "status", status, required: false);
        if (olderThanDays is < 0) problems.Add("olderThanDays", "must be zero or more");
        if (problems.Any) return Outcome.Reject(problems, StatusCodes.Status400BadRequest).ToResult();

        IQueryable<Claim> query = session.Query<Claim>();
        if (wanted is { } s) query = query.Where(c => c.Status == s);
        if (payerId is { } payer) query = query.Where(c => c.PayerId == payer);
        if (patientId is { } patient) query = query.Where(c => c.PatientId == patient);
        if (!string.IsNullOrWhiteSpace(controlNumber))
        {
            var prefix = controlNumber.Trim().ToUpperInvariant();
            query = query.Where(c => c.ControlNumber.StartsWith(prefix));
        }
        if (!string.IsNullOrWhiteSpace(search)) query = await SearchAsync(session, query, search, ct);
        if (olderThanDays is { } days)
        {
            var before = clock.GetUtcNow().AddDays(-days);
            query = query.Where(c => c.FiledAt < before && c.Status != ClaimStatus.Closed && c.Status != ClaimStatus.Rejected && c.Status != ClaimStatus.Replaced
                                     && c.Status != ClaimStatus.Voided);
        }

        var number = Math.Max(page ?? 1, 1);
        var size = Math.Clamp(pageSize ?? 50, 1, 200);
        query = sort switch
        {
            "-filed" => query.OrderByDescending(c => c.FiledAt),
            "charge" => query.OrderBy(c => c.TotalCharge).ThenBy(c => c.FiledAt),
            "-charge" => query.OrderByDescending(c => c.TotalCharge).ThenBy(c => c.FiledAt),
            "paid" => query.OrderBy(c => c.Paid).ThenBy(c => c.FiledAt),
            "-paid" => query.OrderByDescending(c => c.Paid).ThenBy(c => c.FiledAt),
            "status" => query.OrderBy(c => c.Status).ThenBy(c => c.FiledAt),
            "-status" => query.OrderByDescending(c => c.Status).ThenBy(c => c.FiledAt),
            _ => query.OrderBy(c => c.FiledAt)
        };
        var (items, total) = await query.PageAsync(number, size, ct);
        return Results.Ok(new ClaimPage(await ViewsAsync(session, items, ct), total, number, size));
    }
}
