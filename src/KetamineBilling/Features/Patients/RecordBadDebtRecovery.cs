using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <summary>Money that came in on a balance written off as bad debt.</summary>
/// <param name="RecoveryId">Made by the client: the idempotency key, and the payment's id.</param>
public record RecordBadDebtRecovery(Guid RecoveryId, string? Method, decimal? Amount, DateOnly? ReceivedOn, string? Reference);

public static class RecordBadDebtRecoveryEndpoint
{
    public static ProblemDetails Validate(RecordBadDebtRecovery command, ClinicCalendar calendar)
    {
        var problems = new ValidationProblems();
        if (command.RecoveryId == Guid.Empty) problems.Add("recoveryId", "is required: a client-made id that makes the recovery idempotent");
        RecordPaymentEndpoint.CheckMoneyReceived(problems, command.Method, command.Amount, command.ReceivedOn, command.Reference, calendar);
        return problems.ToProblemDetails();
    }

    public static async Task<(PaymentOwner?, Books?)> LoadAsync(RecordBadDebtRecovery command, Marten.IQuerySession session, CancellationToken ct) =>
        (await session.LoadAsync<PaymentOwner>(command.RecoveryId, ct), await Books.LoadAsync(session, ct));

    /// <summary>
    /// A recovery: that much of the bad-debt write-offs is reinstated, oldest date of service first, and a payment of the
    /// recovery's id pays exactly those lines (so the day's takings and the bank deposit see it as any payment). At most
    /// what was written off as bad debt and not yet recovered.
    /// </summary>
    public static Outcome Decide(PatientAccount account, RecordBadDebtRecovery command, DateTimeOffset now, PaymentOwner? owner = null)
    {
        if (owner is not null && owner.PatientId != account.Id)
            return Outcome.Conflict($"payment {command.RecoveryId} is already recorded on another patient's account");
        var fingerprint = Fingerprint.Of(command);
        if (account.Payment(command.RecoveryId) is { } existing)
        {
            return existing.Received.Fingerprint == fingerprint
                ? Outcome.Replay(PaymentResult.From(existing, account))
                : Outcome.Conflict($"payment {command.RecoveryId} was already recorded with other content");
        }

        var problems = new ValidationProblems();
        var method = ApiEnum.Parse<PaymentMethod>(problems, "method", command.Method)!.Value;
        var lines = account.BadDebtLines().ToList();
        var written = lines.Sum(l => l.Amount);
        var amount = command.Amount!.Value;
        if (written == 0) return Outcome.Reject("amount", "nothing on the account was written off as bad debt: record a payment instead");
        if (amount > written) return Outcome.Reject("amount", $"must not exceed what was written off as bad debt and not yet recovered: {Fmt.Money(written)}");

        var allocations = Allocation.FillInOrder(lines, amount, l => l.Amount)
            .Select(x => new LineAmount(x.Item.Session.SessionId, x.Item.Line.LineNumber, x.Amount)).ToList();
        var reference = string.IsNullOrWhiteSpace(command.Reference) ? "bad-debt recovery" : command.Reference.Trim();
        var received = new PaymentReceived(account.Id, command.RecoveryId, method, amount, command.ReceivedOn!.Value, reference, now, fingerprint);
        var result = new PaymentResult(received.PaymentId, method, amount, received.ReceivedOn, reference, allocations, 0m, 0m, false,
            PaymentResult.LetterWarnings(account, method, allocations));
        return Outcome.Created($"/api/patients/{account.Id}/payments/{received.PaymentId}", result)
            .Append(account.Id, new BadDebtReinstated(account.Id, command.RecoveryId, allocations, amount, now, command.ReceivedOn), received,
                new PaymentApplied(account.Id, received.PaymentId, allocations, amount, now));
    }

    [WolverinePost("/api/patients/{patientId}/bad-debt-recoveries"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Collections")]
    public static (IResult, Events) Post(
        RecordBadDebtRecovery command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, PaymentOwner? owner,
        Books? books, TimeProvider clock)
    {
        var outcome = ClosedPeriods.Guard(Decide(account, command, clock.GetUtcNow(), owner), books, command.ReceivedOn, "receivedOn");
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
