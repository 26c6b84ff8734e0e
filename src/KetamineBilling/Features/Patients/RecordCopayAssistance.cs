using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="ProgramId">Made by the client: the idempotency key.</param>
/// <param name="ProgramName">The drug maker's program (e.g. "Spravato withMe").</param>
/// <param name="MemberId">The member or card id the program issued.</param>
/// <param name="AnnualMaximum">What the program pays at most in a calendar year.</param>
/// <param name="PayerId">The payer its claims go to (from POST /api/payers): the program is then billed as a secondary payer.</param>
public record RecordCopayAssistance(
    Guid ProgramId, string? ProgramName, string? MemberId, decimal? AnnualMaximum, DateOnly? ActiveFrom = null, DateOnly? ActiveTo = null, Guid? PayerId = null);

public static class RecordCopayAssistanceEndpoint
{
    public static ProblemDetails Validate(RecordCopayAssistance command)
    {
        var problems = new ValidationProblems();
        if (command.ProgramId == Guid.Empty) problems.Add("programId", "is required: a client-made id");
        problems.RequireText("programName", command.ProgramName, 120);
        problems.RequireText("memberId", command.MemberId, 80);
        problems.RequireMoney("annualMaximum", command.AnnualMaximum, 100_000m);
        if (command.AnnualMaximum == 0m) problems.Add("annualMaximum", "must be more than $0.00");
        if (command.ActiveTo is { } to && command.ActiveFrom is { } from && to < from) problems.Add("activeTo", "must be on or after activeFrom");
        return problems.ToProblemDetails();
    }

    public static Task<Payers.Payer?> LoadAsync(RecordCopayAssistance command, IQuerySession session, CancellationToken ct) =>
        command.PayerId is { } id ? session.LoadAsync<Payers.Payer>(id, ct) : Task.FromResult<Payers.Payer?>(null);

    /// <summary>
    /// The enrolment, billed through its payer when one is named (a payer of the clinic: else 422); the same program again is
    /// a replay, other content under its id a conflict.
    /// </summary>
    public static Outcome Decide(PatientAccount account, RecordCopayAssistance command, DateOnly today, DateTimeOffset now, Payers.Payer? payer = null)
    {
        if (command.PayerId is { } payerId && payer?.Id != payerId) return Outcome.Reject("payerId", $"{payerId} is not a payer (POST /api/payers creates one)");
        var recorded = new CopayAssistanceRecorded(account.Id, command.ProgramId, command.ProgramName!.Trim(), command.MemberId!.Trim(),
            command.AnnualMaximum!.Value, command.ActiveFrom ?? today, command.ActiveTo, now, command.PayerId);
        if (account.CopayAssistance.FirstOrDefault(p => p.ProgramId == command.ProgramId) is { } existing)
        {
            // An omitted start date means "as recorded".
            return existing with { RecordedAt = now } == recorded with { ActiveFrom = command.ActiveFrom ?? existing.ActiveFrom }
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"copay assistance {command.ProgramId} was already recorded with other content");
        }

        return Outcome.Created($"/api/patients/{account.Id}/copay-assistance/{command.ProgramId}", recorded).Append(account.Id, recorded);
    }

    [WolverinePost("/api/patients/{patientId}/copay-assistance"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        RecordCopayAssistance command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, Payers.Payer? payer,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = Decide(account, command, calendar.Today(), clock.GetUtcNow(), payer);
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
