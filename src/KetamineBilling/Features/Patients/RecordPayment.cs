using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

/// <param name="PaymentId">Made by the client: the idempotency key.</param>
/// <param name="ApplyTo">Lines to pay, in order (a session, or a session's line); left out: the oldest open
/// patient responsibility first.</param>
public record RecordPayment(
    Guid PaymentId, string? Method, decimal? Amount, DateOnly? ReceivedOn, string? Reference, IReadOnlyList<LineTarget>? ApplyTo = null);

public record PaymentResult(
    Guid PaymentId, PaymentMethod Method, decimal Amount, DateOnly ReceivedOn, string? Reference, IReadOnlyList<LineAmount> Applied,
    decimal Unapplied, decimal Refunded, bool Reversed, IReadOnlyList<string> Warnings)
{
    public static PaymentResult From(AccountPayment p, PatientAccount account) => new(
        p.PaymentId, p.Method, p.Amount, p.ReceivedOn, p.Reference, p.Applied, p.Unapplied, p.Refunded, p.Reversed,
        LetterWarnings(account, p.Method, p.Applied));

    /// <summary>FSA/HSA money on a date of service no valid letter of medical necessity covers.</summary>
    public static IReadOnlyList<string> LetterWarnings(PatientAccount account, PaymentMethod method, IEnumerable<LineAmount> applied) =>
        method is not (PaymentMethod.Fsa or PaymentMethod.Hsa)
            ? []
            : applied.Select(a => account.Session(a.SessionId)!).DistinctBy(s => s.SessionId)
                .Where(s => !PatientBalance.CoveredByLetter(account, s.DeliveredOn))
                .Select(s => $"No valid letter of medical necessity covers the session of {Fmt.Date(s.DeliveredOn)}: the FSA/HSA administrator may reject it")
                .ToList();
}

public static class RecordPaymentEndpoint
{
    public static ProblemDetails Validate(RecordPayment command, ClinicCalendar calendar)
    {
        var problems = new ValidationProblems();
        if (command.PaymentId == Guid.Empty) problems.Add("paymentId", "is required: a client-made id that makes the payment idempotent");
        CheckMoneyReceived(problems, command.Method, command.Amount, command.ReceivedOn, command.Reference, calendar);
        return problems.ToProblemDetails();
    }

    /// <summary>The rules of money a patient paid (a payment, a bad-debt recovery): a method, an amount, a day not in the future, a short reference.</summary>
    public static void CheckMoneyReceived(ValidationProblems problems, string? method, decimal? amount, DateOnly? receivedOn, string? reference, ClinicCalendar calendar)
    {
        ApiEnum.Parse<PaymentMethod>(problems, "method", method);
        problems.RequirePositive("amount", amount);
        if (receivedOn is not { } on) problems.Add("receivedOn", "is required (yyyy-MM-dd)");
        else if (on > calendar.Today()) problems.Add("receivedOn", "must not be in the future");
        if (reference is { Length: > 100 }) problems.Add("reference", "must be at most 100 characters");
    }

    public static async Task<(PaymentOwner?, Books?)> LoadAsync(RecordPayment command, Marten.IQuerySession session, CancellationToken ct) =>
        (await session.LoadAsync<PaymentOwner>(command.PaymentId, ct), await Books.LoadAsync(session, ct));

    /// <summary>Recorded first, then applied: oldest open patient amounts first, or the lines named.</summary>
    /// <param name="processor">The card processor that took it, when it did (<see cref="PaymentReceived.Processor"/>).</param>
    public static Outcome Decide(PatientAccount account, RecordPayment command, DateTimeOffset now, PaymentOwner? owner = null, string? processor = null)
    {
        if (owner is not null && owner.PatientId != account.Id)
        {
            return Outcome.Conflict($"payment {command.PaymentId} is already recorded on another patient's account");
        }

        var problems = new ValidationProblems();
        var method = ApiEnum.Parse<PaymentMethod>(problems, "method", command.Method)!.Value;
        var fingerprint = Fingerprint.Of(command);
        var received = new PaymentReceived(account.Id, command.PaymentId, method, command.Amount!.Value, command.ReceivedOn!.Value,
            string.IsNullOrWhiteSpace(command.Reference) ? null : command.Reference.Trim(), now, fingerprint, processor);

        if (account.Payment(command.PaymentId) is { } existing)
        {
            return existing.Received.Fingerprint == fingerprint
                ? Outcome.Replay(PaymentResult.From(existing, account))
                : Outcome.Conflict($"payment {command.PaymentId} was already recorded with other content");
        }

        var named = Targets.Resolve(account, command.ApplyTo, "applyTo", problems);
        if (problems.Any)
        {
            return Outcome.Reject(problems);
        }

        var allocations = LineAllocation.Fill(named ?? account.OpenPatientLines(), received.Amount);
        var total = allocations.Sum(a => a.Amount);
        var result = new PaymentResult(received.PaymentId, method, received.Amount, received.ReceivedOn, received.Reference, allocations,
            received.Amount - total, 0m, false, PaymentResult.LetterWarnings(account, method, allocations));
        return Outcome.Created($"/api/patients/{account.Id}/payments/{received.PaymentId}", result)
            .Append(account.Id, received, allocations.Count > 0 ? new PaymentApplied(account.Id, received.PaymentId, allocations, total, now) : null);
    }

    [WolverinePost("/api/patients/{patientId}/payments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        RecordPayment command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, PaymentOwner? owner,
        Books? books, TimeProvider clock)
    {
        var outcome = ClosedPeriods.Guard(Decide(account, command, clock.GetUtcNow(), owner), books, command.ReceivedOn, "receivedOn");
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
