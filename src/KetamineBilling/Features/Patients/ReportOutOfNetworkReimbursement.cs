using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="ReimbursementId">Made by the client: the idempotency key.</param>
public record ReportOutOfNetworkReimbursement(Guid ReimbursementId, Guid PayerId, decimal? Amount, DateOnly? ReceivedOn, IReadOnlyList<Guid>? SessionIds);

public static class ReportOutOfNetworkReimbursementEndpoint
{
    public static ProblemDetails Validate(ReportOutOfNetworkReimbursement command, ClinicCalendar calendar)
    {
        var problems = new ValidationProblems();
        if (command.ReimbursementId == Guid.Empty) problems.Add("reimbursementId", "is required: a client-made id");
        if (command.PayerId == Guid.Empty) problems.Add("payerId", "is required");
        problems.RequirePositive("amount", command.Amount);
        if (command.ReceivedOn is null) problems.Add("receivedOn", "is required");
        else if (command.ReceivedOn > calendar.Today()) problems.Add("receivedOn", "must not be in the future");
        if (command.SessionIds is not { Count: > 0 }) problems.Add("sessionIds", "must name the sessions the insurer reimbursed");
        return problems.ToProblemDetails();
    }

    public static Task<Payer?> LoadAsync(ReportOutOfNetworkReimbursement command, IQuerySession session, CancellationToken ct) =>
        session.LoadAsync<Payer>(command.PayerId, ct);

    /// <summary>Money the insurer paid the patient, not the clinic: no effect on the balance, but it feeds payer trends.</summary>
    public static Outcome Decide(PatientAccount account, ReportOutOfNetworkReimbursement command, Payer? payer, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        if (payer is null) problems.Add("payerId", "is not a payer");
        for (var i = 0; i < command.SessionIds!.Count; i++)
        {
            if (account.Session(command.SessionIds[i]) is null) problems.Add($"sessionIds[{i}]", "is not a session of this patient");
        }

        if (problems.Any) return Outcome.Reject(problems);
        var reported = new OutOfNetworkReimbursementReported(account.Id, command.ReimbursementId, payer!.Id, command.Amount!.Value, command.ReceivedOn!.Value,
            command.SessionIds, now);
        if (account.OutOfNetworkReimbursements.FirstOrDefault(r => r.ReimbursementId == command.ReimbursementId) is { } existing)
        {
            return existing with { ReportedAt = reported.ReportedAt, SessionIds = reported.SessionIds } == reported && existing.SessionIds.SequenceEqual(reported.SessionIds)
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"reimbursement {command.ReimbursementId} was already reported with other content");
        }

        return Outcome.Created($"/api/patients/{account.Id}/out-of-network-reimbursements/{command.ReimbursementId}", reported).Append(account.Id, reported);
    }

    [WolverinePost("/api/patients/{patientId}/out-of-network-reimbursements"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        ReportOutOfNetworkReimbursement command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        Payer? payer, TimeProvider clock)
    {
        var outcome = Decide(account, command, payer, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
