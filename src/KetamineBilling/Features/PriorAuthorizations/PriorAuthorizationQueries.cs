using KetamineBilling.Features.Ui;
using KetamineBilling.Features.AccessAudit;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.PriorAuthorizations;

public record AuthorizationView(
    Guid Id, Guid PatientId, Guid PayerId, string Status, string? AuthorizationNumber, IReadOnlyList<string> Codes, int SessionsRequested,
    int SessionsApproved, int Used, int Remaining, DateOnly? ValidFrom, DateOnly? ValidTo, bool ExpiredOrPastWindow, string? DenialReason,
    MedicalNecessityEvidence Evidence, IReadOnlyList<AuthorizationUse> Uses, IReadOnlyList<string>? DiagnosisCodes = null, DateOnly? RequestedOn = null)
{
    public static AuthorizationView From(PriorAuthorization a, DateOnly today) => new(
        a.Id, a.PatientId, a.PayerId, ApiEnum.Name(a.Status), a.AuthorizationNumber, a.CodesApproved.Count > 0 ? a.CodesApproved : a.CodesRequested,
        a.SessionsRequested, a.SessionsApproved, a.Used, a.Remaining, a.ValidFrom, a.ValidTo,
        a.Status == AuthorizationStatus.Expired || a.ValidTo < today, a.DenialReason, a.Evidence, a.Uses, a.DiagnosisCodes, a.RequestedOn);
}

/// <summary>One row of the authorizations list: the counts and window, with the patient's and payer's names (no evidence: that is on the authorization).</summary>
public sealed record AuthorizationListItem(
    Guid Id, Guid PatientId, string PatientName, Guid PayerId, string PayerName, string Status, string? AuthorizationNumber, IReadOnlyList<string> Codes,
    DateOnly RequestedOn, int SessionsRequested, int SessionsApproved, int Used, int Remaining, DateOnly? ValidFrom, DateOnly? ValidTo, bool ExpiredOrPastWindow);

public sealed record AuthorizationPage(IReadOnlyList<AuthorizationListItem> Items, long TotalCount, int Page, int PageSize);

public static class PriorAuthorizationQueries
{
    /// <summary>
    /// Every prior authorization, newest request first, one page at a time; by status and patient when asked. The patient's
    /// own list (<c>?patientId=</c> on <c>/api/prior-authorizations</c>) stays whole: a patient has a handful.
    /// </summary>
    [WolverineGet("/api/prior-authorizations/list"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static async Task<IResult> Page(
        string? status, Guid? patientId, int? page, int? pageSize, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        var wanted = ApiEnum.Parse<AuthorizationStatus>(problems, "status", status, required: false);
        if (page is < 1) problems.Add("page", "must be 1 or more");
        if (pageSize is < 1 or > 200) problems.Add("pageSize", "must be from 1 to 200");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

        IQueryable<PriorAuthorization> query = session.Query<PriorAuthorization>();
        if (wanted is { } s) query = query.Where(a => a.Status == s);
        if (patientId is { } patient) query = query.Where(a => a.PatientId == patient);
        var number = page ?? 1;
        var size = pageSize ?? 25;
        var (items, total) = await query.OrderByDescending(a => a.RequestedOn).ThenBy(a => a.Id).PageAsync(number, size, ct);

        var names = await PatientNames.LoadAsync(session, items.Select(a => a.PatientId), ct);

        var payerIds = items.Select(a => a.PayerId).Distinct().ToArray();
        var payers = payerIds.Length == 0
            ? new Dictionary<Guid, string>()
            : (await session.LoadManyAsync<Payer>(ct, payerIds)).ToDictionary(p => p.Id, p => p.Name);
        var today = calendar.Today();
        return Results.Ok(new AuthorizationPage(items.Select(a =>
        {
            var view = AuthorizationView.From(a, today);
            return new AuthorizationListItem(a.Id, a.PatientId, names.GetValueOrDefault(a.PatientId, "Unknown patient"), a.PayerId,
                payers.GetValueOrDefault(a.PayerId, "Unknown payer"), view.Status, view.AuthorizationNumber, view.Codes, a.RequestedOn, a.SessionsRequested,
                a.SessionsApproved, a.Used, a.Remaining, a.ValidFrom, a.ValidTo, view.ExpiredOrPastWindow);
        }).ToList(), total, number, size));
    }

    [WolverineGet("/api/prior-authorizations"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static async Task<IResult> List(Guid? patientId, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        if (patientId is null)
        {
            return Problems.Invalid("patientId", "is required", StatusCodes.Status400BadRequest);
        }

        var list = await session.Query<PriorAuthorization>().Where(a => a.PatientId == patientId).ToListAsync(ct);
        return Results.Ok(list.OrderByDescending(a => a.RequestedOn).Select(a => AuthorizationView.From(a, calendar.Today())).ToList());
    }

    [PhiRead("prior-authorization", Subject = PhiSubject.PriorAuthorization)]
    [WolverineGet("/api/prior-authorizations/{authorizationId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static async Task<IResult> Get(Guid authorizationId, IQuerySession session, ClinicCalendar calendar, CancellationToken ct) =>
        await session.LoadAsync<PriorAuthorization>(authorizationId, ct) is { } a
            ? Results.Ok(AuthorizationView.From(a, calendar.Today()))
            : Problems.NotFound($"authorization {authorizationId} does not exist");
}
