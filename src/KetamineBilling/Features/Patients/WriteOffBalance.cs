using KetamineBilling.Features.Ui;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="WriteOffId">Made by the client: the idempotency key.</param>
/// <param name="Amount">Left out: everything the lines still owe.</param>
/// <param name="Lines">Left out: every open patient amount on the account, oldest first.</param>
public record WriteOffBalance(Guid WriteOffId, string? Reason, string? Note, decimal? Amount, IReadOnlyList<LineTarget>? Lines);

public static class WriteOffBalanceEndpoint
{
    public static ProblemDetails Validate(WriteOffBalance command)
    {
        var problems = new ValidationProblems();
        if (command.WriteOffId == Guid.Empty) problems.Add("writeOffId", "is required: a client-made id that makes the write-off idempotent");
        ApiEnum.Parse<WriteOffReason>(problems, "reason", command.Reason);
        if (command.Amount is not null) problems.RequirePositive("amount", command.Amount);
        if (command.Note is { Length: > 500 }) problems.Add("note", "must be at most 500 characters");
        return problems.ToProblemDetails();
    }

    public static Outcome Decide(PatientAccount account, WriteOffBalance command, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        var reason = ApiEnum.Parse<WriteOffReason>(problems, "reason", command.Reason)!.Value;
        var fingerprint = Fingerprint.Of(command);
        if (account.WriteOffs.FirstOrDefault(w => w.WriteOffId == command.WriteOffId) is { } existing)
        {
            return existing.Fingerprint == fingerprint
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"write-off {command.WriteOffId} was already recorded with other content");
        }

        var lines = (Targets.Resolve(account, command.Lines, "lines", problems) ?? account.OpenPatientLines()).ToList();
        var open = lines.Sum(l => l.Line.Open.Patient);
        if (!problems.Any && open == 0) problems.Add(command.Lines is null ? "amount" : "lines", "there is no open patient amount to write off");
        if (command.Amount > open) problems.Add("amount", $"must not exceed the open patient amount of {Fmt.Money(open)}");
        if (problems.Any) return Outcome.Reject(problems);

        var allocations = LineAllocation.Fill(lines, command.Amount ?? open);
        var writeOff = new BalanceWrittenOff(account.Id, command.WriteOffId, reason, command.Note?.Trim(), allocations, allocations.Sum(a => a.Amount), now,
            fingerprint);
        return Outcome.Created($"/api/patients/{account.Id}/write-offs/{command.WriteOffId}", writeOff).Append(account.Id, writeOff);
    }

    [WolverinePost("/api/patients/{patientId}/write-offs"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        WriteOffBalance command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, TimeProvider clock)
    {
        var outcome = Decide(account, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
