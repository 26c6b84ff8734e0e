using System.Text.RegularExpressions;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.PriorAuthorizations;

/// <param name="AuthorizationId">Made by the client: the idempotency key.</param>
public record RequestPriorAuthorization(
    Guid AuthorizationId, Guid PatientId, Guid PayerId, IReadOnlyList<string>? Codes, int SessionsRequested, IReadOnlyList<string>? DiagnosisCodes,
    MedicalNecessityEvidence? Evidence, DateOnly? RequestedOn);

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

    /// <summary>
    /// A request to a payer the patient has coverage with starts the authorization's stream; the same id again is a replay
    /// when it asks for the same, else a conflict.
    /// </summary>
    public static Outcome Decide(PriorAuthorization? existing, RequestPriorAuthorization command, PatientAccount? patient, Payer? payer, DateOnly today, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        if (patient is null) return Outcome.NotFound($"patient {command.PatientId} does not exist");
        if (payer is null) problems.Add("payerId", "is not a payer");
        else if (patient.Coverages.All(c => c.PayerId != payer.Id)) problems.Add("payerId", "the patient has no coverage with this payer");
        if (problems.Any) return Outcome.Reject(problems);

        var requested = new PriorAuthorizationRequested(command.AuthorizationId, patient.Id, payer!.Id,
            command.Codes!.Select(c => c.ToUpperInvariant()).ToList(), command.SessionsRequested,
            command.DiagnosisCodes!.Select(d => d.Trim().ToUpperInvariant()).ToList(),
            command.Evidence ?? new MedicalNecessityEvidence([], null, null, null), command.RequestedOn ?? today, now);
        if (existing is not null)
        {
            return existing.PatientId == requested.PatientId && existing.PayerId == requested.PayerId && existing.CodesRequested.SequenceEqual(requested.Codes)
                   && existing.SessionsRequested == requested.SessionsRequested
                ? Outcome.Replay(AuthorizationView.From(existing, today))
                : Outcome.Conflict($"authorization {command.AuthorizationId} was already requested with other content");
        }

        return Outcome.Created($"/api/prior-authorizations/{requested.AuthorizationId}", AuthorizationView.From(PriorAuthorization.Create(requested), today))
            .Start<PriorAuthorization>(requested.AuthorizationId, requested);
    }

    [WolverinePost("/api/prior-authorizations"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static IResult Post(
        RequestPriorAuthorization command, PatientAccount? patient, Payer? payer, PriorAuthorization? existing, IDocumentSession session,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = Decide(existing, command, patient, payer, calendar.Today(), clock.GetUtcNow());
        outcome.AppendTo(session);
        return outcome.ToResult();
    }
}
