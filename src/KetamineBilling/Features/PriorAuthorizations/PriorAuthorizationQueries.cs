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
    MedicalNecessityEvidence Evidence, IReadOnlyList<AuthorizationUse> Uses)
{
    public static AuthorizationView From(PriorAuthorization a, DateOnly today) => new(
        a.Id, a.PatientId, a.PayerId, ApiEnum.Name(a.Status), a.AuthorizationNumber, a.CodesApproved.Count > 0 ? a.CodesApproved : a.CodesRequested,
        a.SessionsRequested, a.SessionsApproved, a.Used, a.Remaining, a.ValidFrom, a.ValidTo,
        a.Status == AuthorizationStatus.Expired || a.ValidTo < today, a.DenialReason, a.Evidence, a.Uses);
}

public static class PriorAuthorizationQueries
{
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
