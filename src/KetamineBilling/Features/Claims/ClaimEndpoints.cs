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
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Claims;

/// <param name="PatientName">The patient's name (in the list and one claim's view; empty in a command's answer).</param>
/// <param name="DateOfService">The first date of service on its lines; <paramref name="LastDateOfService"/> the last.</param>
/// <param name="Sent">The 837 batches that sent the claim, oldest first (none: not exported yet).</param>
public sealed record ClaimView(
    Guid Id, Guid PatientId, Guid PayerId, string ControlNumber, string Status, decimal TotalCharge, decimal Paid, string? AuthorizationNumber,
    IReadOnlyList<string> DiagnosisCodes, IReadOnlyList<string> Warnings, IReadOnlyList<ClaimLine> Lines, IReadOnlyList<ClaimAdjudicated> Adjudications,
    IReadOnlyList<ClaimHistoryEntry> History, DateTimeOffset FiledAt, DateTimeOffset LastChangedAt, string? PatientName = null,
    DateOnly? DateOfService = null, DateOnly? LastDateOfService = null, IReadOnlyList<ClaimSent>? Sent = null)
{
    public static ClaimView From(Claim c, string? patientName = null, IReadOnlyList<ClaimSent>? sent = null) => new(
        c.Id, c.PatientId, c.PayerId, c.ControlNumber, ApiEnum.Name(c.Status), c.TotalCharge, c.Paid, c.AuthorizationNumber, c.DiagnosisCodes,
        c.Warnings, c.Lines, c.Adjudications, c.History, c.FiledAt, c.LastChangedAt, patientName,
        c.Lines.Count == 0 ? null : c.Lines.Min(l => l.DateOfService), c.Lines.Count == 0 ? null : c.Lines.Max(l => l.DateOfService), sent ?? []);
}

/// <param name="Batch">The batch's interchange control number (ISA13).</param>
/// <param name="Resubmission">True when this batch sent the claim again, with the batch's reason.</param>
public sealed record ClaimSent(int Batch, Guid BatchId, DateTimeOffset SentAt, bool Resubmission);

public sealed record ClaimPage(IReadOnlyList<ClaimView> Items, long TotalCount, int Page, int PageSize);

public static class ClaimQueries
{
    [PhiRead("claim", Subject = PhiSubject.Claim)]
    [WolverineGet("/api/claims/{claimId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Get(Guid claimId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Claim>(claimId, ct) is { } claim
            ? Results.Ok((await ViewsAsync(session, [claim], ct)).Single())
            : Problems.NotFound($"claim {claimId} does not exist");

    /// <summary>The claims as read: with their patient's name and the batches that sent them.</summary>
    public static async Task<IReadOnlyList<ClaimView>> ViewsAsync(IQuerySession session, IReadOnlyList<Claim> claims, CancellationToken ct)
    {
        if (claims.Count == 0) return [];
        var names = await PatientNamesAsync(session, claims.Select(c => c.PatientId).Distinct().ToArray(), ct);
        var ids = claims.Select(c => c.Id.ToString()).ToArray();
        // ClaimIds is a JSON array of ids: ?| finds the batches that hold any of these.
        var batches = await session.Query<ClaimBatch>()
            .Where(b => b.MatchesSql('^', "d.data -> 'ClaimIds' ?| ^", new object[] { ids }))
            .OrderBy(b => b.Id).ToListAsync(ct);
        return claims.Select(c => ClaimView.From(c, names.GetValueOrDefault(c.PatientId),
            batches.Where(b => b.ClaimIds.Contains(c.Id)).Select(b => new ClaimSent(b.Id, b.BatchId, b.CreatedAt, b.Resent.Any(r => r.ClaimId == c.Id))).ToList())).ToList();
    }

    /// <summary>Names from the patient directory (small documents); a patient it does not list yet (it is asynchronous) from the account.</summary>
    private static async Task<Dictionary<Guid, string>> PatientNamesAsync(IQuerySession session, Guid[] ids, CancellationToken ct)
    {
        var names = (await session.LoadManyAsync<PatientDirectoryEntry>(ct, ids)).ToDictionary(p => p.Id, p => $"{p.FirstName} {p.LastName}");
        var missing = ids.Where(id => !names.ContainsKey(id)).ToArray();
        if (missing.Length > 0)
        {
            foreach (var account in await session.LoadManyAsync<PatientAccount>(ct, missing)) names[account.Id] = account.Name;
        }

        return names;
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
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

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
            query = query.Where(c => c.FiledAt < before && c.Status != ClaimStatus.Closed && c.Status != ClaimStatus.Rejected);
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

public record RejectClaim(string? Reason);

public record AppealClaim(string? Reason, IReadOnlyList<string>? Documents);

/// <param name="Disposition">What happens to what is still open with insurance on the claim's lines (a final
/// denial): "bill-patient" moves it to the patient, "write-off" adjusts it off. Required when anything is open.</param>
public record CloseClaim(string? Reason, string? Disposition = null);

/// <summary>
/// filed → acknowledged | rejected; acknowledged → rejected; adjudicated (paid, partially paid, denied) →
/// appealed | closed; appealed → re-adjudicated | closed; rejected → closed. Anything else is a 409.
/// </summary>
public static class ClaimTransitions
{
    public static IResult? Illegal(Claim claim, string action, params ClaimStatus[] from) =>
        from.Contains(claim.Status) ? null : Problems.Conflict($"a claim that is {ApiEnum.Name(claim.Status)} cannot be {action}");

    public static ProblemDetails Reason(string? reason)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reason", reason, 500);
        return problems.ToProblemDetails();
    }

    /// <summary>A claim that ends unpaid gives its sessions back: they may be filed again.</summary>
    public static async Task Release(IDocumentSession session, Claim claim, string reason, DateTimeOffset now, CancellationToken ct)
    {
        var account = await session.Events.FetchForWriting<PatientAccount>(claim.PatientId, ct);
        account.AppendOne(new SessionsReleasedFromClaim(claim.PatientId, claim.Id, claim.Lines.Select(l => l.SessionId).Distinct().ToList(), reason, now));
    }

    private static ClaimView After(Claim claim, object e)
    {
        var copy = Snapshot.Copy(claim);
        switch (e)
        {
            case ClaimAcknowledged x: copy.Apply(x); break;
            case ClaimRejected x: copy.Apply(x); break;
            case ClaimAppealed x: copy.Apply(x); break;
            case ClaimClosed x: copy.Apply(x); break;
        }

        return ClaimView.From(copy);
    }

    [WolverinePost("/api/claims/{claimId}/acknowledge"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static (IResult, Events) Acknowledge(
        [WriteAggregate("claimId", OnMissing = OnMissing.ProblemDetailsWith404)] Claim claim, TimeProvider clock)
    {
        if (Illegal(claim, "acknowledged", ClaimStatus.Filed) is { } conflict) return (conflict, []);
        var e = new ClaimAcknowledged(claim.Id, clock.GetUtcNow());
        return (Results.Ok(After(claim, e)), [e]);
    }

    [WolverinePost("/api/claims/{claimId}/reject"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<(IResult, Events)> Reject(
        RejectClaim command, [WriteAggregate("claimId", OnMissing = OnMissing.ProblemDetailsWith404)] Claim claim, IDocumentSession session,
        TimeProvider clock, CancellationToken ct)
    {
        if (Reason(command.Reason) is HttpValidationProblemDetails invalid) return (Results.Problem(invalid), []);
        if (Illegal(claim, "rejected", ClaimStatus.Filed, ClaimStatus.Acknowledged) is { } conflict) return (conflict, []);
        var e = new ClaimRejected(claim.Id, command.Reason!.Trim(), clock.GetUtcNow());
        await Release(session, claim, $"claim rejected: {e.Reason}", e.RejectedAt, ct);
        return (Results.Ok(After(claim, e)), [e]);
    }

    [WolverinePost("/api/claims/{claimId}/appeal"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static (IResult, Events) Appeal(
        AppealClaim command, [WriteAggregate("claimId", OnMissing = OnMissing.ProblemDetailsWith404)] Claim claim, TimeProvider clock)
    {
        if (Reason(command.Reason) is HttpValidationProblemDetails invalid) return (Results.Problem(invalid), []);
        if (Illegal(claim, "appealed", ClaimStatus.Denied, ClaimStatus.PartiallyPaid, ClaimStatus.Paid) is { } conflict) return (conflict, []);
        var e = new ClaimAppealed(claim.Id, command.Reason!.Trim(), command.Documents?.Where(d => !string.IsNullOrWhiteSpace(d)).ToList() ?? [], clock.GetUtcNow());
        return (Results.Ok(After(claim, e)), [e]);
    }

    [WolverinePost("/api/claims/{claimId}/close"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<(IResult, Events)> Close(
        CloseClaim command, [WriteAggregate("claimId", OnMissing = OnMissing.ProblemDetailsWith404)] Claim claim, IDocumentSession session,
        TimeProvider clock, CancellationToken ct)
    {
        if (Reason(command.Reason) is HttpValidationProblemDetails invalid) return (Results.Problem(invalid), []);
        if (Illegal(claim, "closed", ClaimStatus.Filed, ClaimStatus.Acknowledged, ClaimStatus.Paid, ClaimStatus.PartiallyPaid, ClaimStatus.Denied,
                ClaimStatus.Appealed, ClaimStatus.Rejected) is { } conflict)
            return (conflict, []);
        var e = new ClaimClosed(claim.Id, command.Reason!.Trim(), clock.GetUtcNow());
        if (claim.Status == ClaimStatus.Rejected) return (Results.Ok(After(claim, e)), [e]);

        var account = await session.Events.FetchForWriting<PatientAccount>(claim.PatientId, ct);
        var open = claim.Lines
            .Select(l => (Claim: l, Line: account.Aggregate!.Line(l.SessionId, l.SessionLineNumber)))
            .Where(x => x.Line is { Open.Insurance: > 0 } && !account.Aggregate!.Session(x.Claim.SessionId)!.Voided)
            .ToList();
        if (open.Count > 0)
        {
            var problems = new ValidationProblems();
            if (command.Disposition is not ("bill-patient" or "write-off"))
            {
                problems.Add("disposition", $"{Fmt.Money(open.Sum(x => x.Line!.Open.Insurance))} is still open with insurance: say bill-patient or write-off");
                return (problems.ToResult(StatusCodes.Status422UnprocessableEntity), []);
            }

            if (command.Disposition == "bill-patient")
            {
                account.AppendOne(new ResponsibilityMoved(claim.PatientId,
                    open.Select(x => new ResponsibilityMove(x.Claim.SessionId, x.Claim.SessionLineNumber, ResponsibleParty.Insurance, ResponsibleParty.Patient, x.Line!.Open.Insurance)).ToList(),
                    $"claim {claim.ControlNumber} closed: {e.Reason}", e.ClosedAt));
            }
            else
            {
                var allocations = open.Select(x => new LineAmount(x.Claim.SessionId, x.Claim.SessionLineNumber, x.Line!.Open.Insurance)).ToList();
                account.AppendOne(new ThirdPartyAdjusted(claim.PatientId, ResponsibleParty.Insurance, $"claim {claim.ControlNumber} closed: {e.Reason}",
                    allocations, allocations.Sum(a => a.Amount), e.ClosedAt));
            }
        }

        // Sessions the payer never processed, or denied, may go on another (corrected) claim; processed ones stay with this one.
        if (claim.Adjudications.Count == 0 || claim.Status == ClaimStatus.Denied)
        {
            account.AppendOne(new SessionsReleasedFromClaim(claim.PatientId, claim.Id, claim.Lines.Select(l => l.SessionId).Distinct().ToList(),
                $"claim closed: {e.Reason}", e.ClosedAt));
        }

        return (Results.Ok(After(claim, e)), [e]);
    }
}

public static class ClaimsModule
{
    public static void AddClaims(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        opts.Projections.Snapshot<Claim>(JasperFx.Events.Projections.SnapshotLifecycle.Inline, Persistence.RebuildInBulk);
        opts.Schema.For<Claim>().UniqueIndex(c => c.ControlNumber).Index(c => c.PatientId).Index(c => c.PayerId).Index(c => c.FiledAt);
        opts.Schema.For<ClaimBatch>().Identity(b => b.Id).UniqueIndex(b => b.BatchId);
    });
}
