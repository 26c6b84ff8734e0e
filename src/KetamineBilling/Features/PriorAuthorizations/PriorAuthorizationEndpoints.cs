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

/// <param name="AuthorizationId">Made by the client: the idempotency key.</param>
public record RequestPriorAuthorization(
    Guid AuthorizationId, Guid PatientId, Guid PayerId, IReadOnlyList<string>? Codes, int SessionsRequested, IReadOnlyList<string>? DiagnosisCodes,
    MedicalNecessityEvidence? Evidence, DateOnly? RequestedOn);

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

public static partial class RequestPriorAuthorizationEndpoint
{
    [GeneratedRegex("^[A-Z0-9]{5}$")]
    private static partial Regex Code();

    public static ProblemDetails Validate(RequestPriorAuthorization command)
    {
        var problems = new ValidationProblems();
        if (command.AuthorizationId == Guid.Empty) problems.Add("authorizationId", "is required: a client-made id");
        if (command.PatientId == Guid.Empty) problems.Add("patientId", "is required");
        if (command.PayerId == Guid.Empty) problems.Add("payerId", "is required");
        if (command.Codes is not { Count: > 0 }) problems.Add("codes", "must name at least one CPT/HCPCS code");
        else if (command.Codes.Any(c => c is null || !Code().IsMatch(c.ToUpperInvariant()))) problems.Add("codes", "must be five-character CPT/HCPCS codes");
        if (command.SessionsRequested is < 1 or > 52) problems.Add("sessionsRequested", "must be from 1 to 52");
        if (command.DiagnosisCodes is not { Count: > 0 }) problems.Add("diagnosisCodes", "must hold at least one ICD-10-CM code");
        else if (command.DiagnosisCodes.Any(d => string.IsNullOrWhiteSpace(d) || d.Length > 8)) problems.Add("diagnosisCodes", "must be ICD-10-CM codes such as F33.2");
        if (command.Evidence is { } e)
        {
            if (e.Phq9Score is < 0 or > 27) problems.Add("evidence.phq9Score", "must be from 0 to 27");
            if (e.MadrsScore is < 0 or > 60) problems.Add("evidence.madrsScore", "must be from 0 to 60");
        }

        return problems.ToProblemDetails();
    }

    public static async Task<(PatientAccount?, Payer?, PriorAuthorization?)> LoadAsync(RequestPriorAuthorization command, IQuerySession session, CancellationToken ct) =>
        (await session.LoadAsync<PatientAccount>(command.PatientId, ct), await session.LoadAsync<Payer>(command.PayerId, ct),
            await session.LoadAsync<PriorAuthorization>(command.AuthorizationId, ct));

    [WolverinePost("/api/prior-authorizations"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static IResult Post(
        RequestPriorAuthorization command, PatientAccount? patient, Payer? payer, PriorAuthorization? existing, IDocumentSession session,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var problems = new ValidationProblems();
        if (patient is null) return Problems.NotFound($"patient {command.PatientId} does not exist");
        if (payer is null) problems.Add("payerId", "is not a payer");
        else if (patient.Coverages.All(c => c.PayerId != payer.Id)) problems.Add("payerId", "the patient has no coverage with this payer");
        if (problems.Any) return problems.ToResult(StatusCodes.Status422UnprocessableEntity);

        var requested = new PriorAuthorizationRequested(command.AuthorizationId, patient.Id, payer!.Id,
            command.Codes!.Select(c => c.ToUpperInvariant()).ToList(), command.SessionsRequested,
            command.DiagnosisCodes!.Select(d => d.Trim().ToUpperInvariant()).ToList(),
            command.Evidence ?? new MedicalNecessityEvidence([], null, null, null), command.RequestedOn ?? calendar.Today(), clock.GetUtcNow());
        if (existing is not null)
        {
            return existing.PatientId == requested.PatientId && existing.PayerId == requested.PayerId && existing.CodesRequested.SequenceEqual(requested.Codes)
                   && existing.SessionsRequested == requested.SessionsRequested
                ? Results.Ok(AuthorizationView.From(existing, calendar.Today()))
                : Problems.Conflict($"authorization {command.AuthorizationId} was already requested with other content");
        }

        session.Events.StartStream<PriorAuthorization>(requested.AuthorizationId, requested);
        return Results.Created($"/api/prior-authorizations/{requested.AuthorizationId}",
            AuthorizationView.From(PriorAuthorization.Create(requested), calendar.Today()));
    }
}

public record ApprovePriorAuthorization(string? AuthorizationNumber, int SessionsApproved, IReadOnlyList<string>? Codes, DateOnly? ValidFrom, DateOnly? ValidTo);

public record DenyPriorAuthorization(string? Reason);

/// <param name="ExtensionId">Made by the client: the idempotency key of this extension (a replay adds nothing).</param>
public record ExtendPriorAuthorization(Guid ExtensionId, int AdditionalSessions, DateOnly? ValidTo);

/// <summary>requested → approved | denied; approved → extended (still approved) | expired. Anything else is a 409.</summary>
public static class PriorAuthorizationDecisions
{
    public static ProblemDetails Validate(ApprovePriorAuthorization command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("authorizationNumber", command.AuthorizationNumber, 50);
        problems.Check("authorizationNumber", command.AuthorizationNumber);
        if (command.SessionsApproved is < 1 or > 52) problems.Add("sessionsApproved", "must be from 1 to 52");
        if (command.Codes is { } codes && codes.Any(c => c is null || !System.Text.RegularExpressions.Regex.IsMatch(c.ToUpperInvariant(), "^[A-Z0-9]{5}$")))
            problems.Add("codes", "must be five-character CPT/HCPCS codes");
        if (command.ValidFrom is null) problems.Add("validFrom", "is required");
        if (command.ValidTo is null) problems.Add("validTo", "is required");
        else if (command.ValidFrom is { } from && command.ValidTo < from) problems.Add("validTo", "must be on or after validFrom");
        return problems.ToProblemDetails();
    }

    public static IResult? IllegalFrom(PriorAuthorization a, string action, params AuthorizationStatus[] allowed) =>
        allowed.Contains(a.Status) ? null : Problems.Conflict($"an authorization that is {ApiEnum.Name(a.Status)} cannot be {action}");
}

public static class ApprovePriorAuthorizationEndpoint
{
    public static ProblemDetails Validate(ApprovePriorAuthorization command) => PriorAuthorizationDecisions.Validate(command);

    [WolverinePost("/api/prior-authorizations/{authorizationId}/approve"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static (IResult, Events, OutgoingMessages) Post(
        ApprovePriorAuthorization command,
        [WriteAggregate("authorizationId", OnMissing = OnMissing.ProblemDetailsWith404)] PriorAuthorization authorization,
        ClinicCalendar calendar, TimeProvider clock)
    {
        if (PriorAuthorizationDecisions.IllegalFrom(authorization, "approved", AuthorizationStatus.Requested) is { } conflict) return (conflict, [], []);
        var approved = new PriorAuthorizationApproved(authorization.Id, command.AuthorizationNumber!.Trim(), command.SessionsApproved,
            (command.Codes is { Count: > 0 } codes ? codes : authorization.CodesRequested).Select(c => c.ToUpperInvariant()).ToList(),
            command.ValidFrom!.Value, command.ValidTo!.Value, clock.GetUtcNow());
        var after = Snapshot.Copy(authorization);
        after.Apply(approved);
        var cause = FollowUps.Identified(approved);
        return (Results.Ok(AuthorizationView.From(after, calendar.Today())), [cause],
            new OutgoingMessages { new PriorAuthorizationChanged(authorization.Id, authorization.PatientId) }.CausedBy(cause));
    }
}

public static class DenyPriorAuthorizationEndpoint
{
    public static ProblemDetails Validate(DenyPriorAuthorization command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reason", command.Reason, 500);
        return problems.ToProblemDetails();
    }

    [WolverinePost("/api/prior-authorizations/{authorizationId}/deny"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static (IResult, Events) Post(
        DenyPriorAuthorization command,
        [WriteAggregate("authorizationId", OnMissing = OnMissing.ProblemDetailsWith404)] PriorAuthorization authorization,
        ClinicCalendar calendar, TimeProvider clock)
    {
        if (PriorAuthorizationDecisions.IllegalFrom(authorization, "denied", AuthorizationStatus.Requested) is { } conflict) return (conflict, []);
        var denied = new PriorAuthorizationDenied(authorization.Id, command.Reason!.Trim(), clock.GetUtcNow());
        var after = Snapshot.Copy(authorization);
        after.Apply(denied);
        return (Results.Ok(AuthorizationView.From(after, calendar.Today())), [denied]);
    }
}

public static class ExtendPriorAuthorizationEndpoint
{
    public static ProblemDetails Validate(ExtendPriorAuthorization command)
    {
        var problems = new ValidationProblems();
        if (command.ExtensionId == Guid.Empty) problems.Add("extensionId", "is required: a client-made id (the same id again adds nothing)");
        if (command.AdditionalSessions is < 0 or > 52) problems.Add("additionalSessions", "must be from 0 to 52");
        if (command.ValidTo is null) problems.Add("validTo", "is required");
        return problems.ToProblemDetails();
    }

    [WolverinePost("/api/prior-authorizations/{authorizationId}/extend"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static (IResult, Events, OutgoingMessages) Post(
        ExtendPriorAuthorization command,
        [WriteAggregate("authorizationId", OnMissing = OnMissing.ProblemDetailsWith404)] PriorAuthorization authorization,
        ClinicCalendar calendar, TimeProvider clock)
    {
        if (authorization.Extensions.FirstOrDefault(x => x.ExtensionId == command.ExtensionId) is { } done)
        {
            // A replay: the same extension adds nothing; the same id with other content is a conflict.
            return done.AdditionalSessions == command.AdditionalSessions && done.ValidTo == command.ValidTo
                ? (Results.Ok(AuthorizationView.From(authorization, calendar.Today())), [], [])
                : (Problems.Conflict($"extension {command.ExtensionId} was already recorded with {done.AdditionalSessions} session(s) to {Fmt.Date(done.ValidTo)}"), [], []);
        }

        if (PriorAuthorizationDecisions.IllegalFrom(authorization, "extended", AuthorizationStatus.Approved) is { } conflict) return (conflict, [], []);
        if (command.ValidTo < authorization.ValidTo)
        {
            return (Problems.Invalid("validTo", $"must not be before the current end {Fmt.Date(authorization.ValidTo)}", StatusCodes.Status422UnprocessableEntity), [], []);
        }

        var extended = new PriorAuthorizationExtended(authorization.Id, command.AdditionalSessions, command.ValidTo!.Value, clock.GetUtcNow(), command.ExtensionId);
        var after = Snapshot.Copy(authorization);
        after.Apply(extended);
        var cause = FollowUps.Identified(extended);
        return (Results.Ok(AuthorizationView.From(after, calendar.Today())), [cause],
            new OutgoingMessages { new PriorAuthorizationChanged(authorization.Id, authorization.PatientId) }.CausedBy(cause));
    }
}

public static class ExpirePriorAuthorizationEndpoint
{
    [WolverinePost("/api/prior-authorizations/{authorizationId}/expire"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static (IResult, Events) Post(
        [WriteAggregate("authorizationId", OnMissing = OnMissing.ProblemDetailsWith404)] PriorAuthorization authorization,
        ClinicCalendar calendar, TimeProvider clock)
    {
        if (PriorAuthorizationDecisions.IllegalFrom(authorization, "expired", AuthorizationStatus.Approved) is { } conflict) return (conflict, []);
        var expired = new PriorAuthorizationExpired(authorization.Id, clock.GetUtcNow());
        var after = Snapshot.Copy(authorization);
        after.Apply(expired);
        return (Results.Ok(AuthorizationView.From(after, calendar.Today())), [expired]);
    }
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
