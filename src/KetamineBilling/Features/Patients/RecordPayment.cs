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
        ApiEnum.Parse<PaymentMethod>(problems, "method", command.Method);
        problems.RequirePositive("amount", command.Amount);
        if (command.ReceivedOn is not { } on) problems.Add("receivedOn", "is required (yyyy-MM-dd)");
        else if (on > calendar.Today()) problems.Add("receivedOn", "must not be in the future");
        if (command.Reference is { Length: > 100 }) problems.Add("reference", "must be at most 100 characters");
        return problems.ToProblemDetails();
    }

    public static Task<PaymentOwner?> LoadAsync(RecordPayment command, Marten.IQuerySession session, CancellationToken ct) =>
        session.LoadAsync<PaymentOwner>(command.PaymentId, ct);

    /// <summary>Recorded first, then applied: oldest open patient amounts first, or the lines named.</summary>
    public static (IResult Result, object[] Events) Decide(RecordPayment command, PatientAccount account, DateTimeOffset now, PaymentOwner? owner = null)
    {
        if (owner is not null && owner.PatientId != account.Id)
        {
            return (Problems.Conflict($"payment {command.PaymentId} is already recorded on another patient's account"), []);
        }

        var problems = new ValidationProblems();
        var method = ApiEnum.Parse<PaymentMethod>(problems, "method", command.Method)!.Value;
        var fingerprint = Fingerprint.Of(command);
        var received = new PaymentReceived(account.Id, command.PaymentId, method, command.Amount!.Value, command.ReceivedOn!.Value,
            string.IsNullOrWhiteSpace(command.Reference) ? null : command.Reference.Trim(), now, fingerprint);

        if (account.Payment(command.PaymentId) is { } existing)
        {
            return existing.Received.Fingerprint == fingerprint
                ? (Results.Ok(PaymentResult.From(existing, account)), [])
                : (Problems.Conflict($"payment {command.PaymentId} was already recorded with other content"), []);
        }

        var named = Targets.Resolve(account, command.ApplyTo, "applyTo", problems);
        if (problems.Any)
        {
            return (problems.ToResult(StatusCodes.Status422UnprocessableEntity), []);
        }

        var allocations = LineAllocation.Fill(named ?? account.OpenPatientLines(), received.Amount);
        var events = new List<object> { received };
        if (allocations.Count > 0)
        {
            events.Add(new PaymentApplied(account.Id, received.PaymentId, allocations, allocations.Sum(a => a.Amount), now));
        }

        var total = allocations.Sum(a => a.Amount);
        var result = new PaymentResult(received.PaymentId, method, received.Amount, received.ReceivedOn, received.Reference, allocations,
            received.Amount - total, 0m, false, PaymentResult.LetterWarnings(account, method, allocations));
        return (Results.Created($"/api/patients/{account.Id}/payments/{received.PaymentId}", result), [.. events]);
    }

    [WolverinePost("/api/patients/{patientId}/payments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        RecordPayment command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, PaymentOwner? owner,
        TimeProvider clock)
    {
        var (result, events) = Decide(command, account, clock.GetUtcNow(), owner);
        return (result, [.. events]);
    }
}

/// <param name="ApplicationId">Made by the client: the idempotency key.</param>
/// <param name="PaymentId">The payment whose unapplied credit to use; left out: the oldest payments' credit first.</param>
public record ApplyCredit(Guid ApplicationId, Guid? PaymentId, decimal? Amount, IReadOnlyList<LineTarget>? ApplyTo);

public static class ApplyCreditEndpoint
{
    public static ProblemDetails Validate(ApplyCredit command)
    {
        var problems = new ValidationProblems();
        if (command.ApplicationId == Guid.Empty) problems.Add("applicationId", "is required: a client-made id that makes the request idempotent");
        if (command.Amount is not null) problems.RequirePositive("amount", command.Amount);
        return problems.ToProblemDetails();
    }

    /// <summary>Applies unapplied credit to open patient amounts. Applying nothing (no credit, nothing open) is a 422.</summary>
    public static (IResult Result, object[] Events) Decide(ApplyCredit command, PatientAccount account, DateTimeOffset now)
    {
        var fingerprint = Fingerprint.Of(command);
        if (account.CreditApplications.TryGetValue(command.ApplicationId, out var recorded))
        {
            // A replay: what that request applied is already on the account.
            return recorded == fingerprint
                ? (Results.Ok(new { applicationId = command.ApplicationId, replayed = true }), [])
                : (Problems.Conflict($"credit application {command.ApplicationId} was already made with other content"), []);
        }

        var problems = new ValidationProblems();
        var payments = account.Payments.Where(p => p.Unapplied > 0 && !p.Reversed).OrderBy(p => p.ReceivedOn).ToList();
        if (command.PaymentId is { } paymentId)
        {
            var payment = account.Payment(paymentId);
            if (payment is null) problems.Add("paymentId", "is not a payment on this account");
            payments = payments.Where(p => p.PaymentId == paymentId).ToList();
        }

        var named = Targets.Resolve(account, command.ApplyTo, "applyTo", problems);
        var credit = payments.Sum(p => p.Unapplied);
        if (command.Amount > credit) problems.Add("amount", $"must not exceed the unapplied credit of {Fmt.Money(credit)}");
        if (problems.Any) return (problems.ToResult(StatusCodes.Status422UnprocessableEntity), []);

        var targets = (named ?? account.OpenPatientLines()).ToList();
        var budget = command.Amount ?? credit;
        var events = new List<object>();
        var room = targets.DistinctBy(t => (t.Session.SessionId, t.Line.LineNumber))
            .ToDictionary(t => (t.Session.SessionId, t.Line.LineNumber), t => t.Line.Open.Patient);
        foreach (var payment in payments)
        {
            var take = Math.Min(payment.Unapplied, budget);
            var allocations = new List<LineAmount>();
            foreach (var (session, line) in targets)
            {
                var key = (session.SessionId, line.LineNumber);
                var amount = Math.Min(take, room[key]);
                if (amount <= 0) continue;
                allocations.Add(new LineAmount(session.SessionId, line.LineNumber, amount));
                room[key] -= amount;
                take -= amount;
            }

            if (allocations.Count > 0)
            {
                var total = allocations.Sum(a => a.Amount);
                budget -= total;
                events.Add(new PaymentApplied(account.Id, payment.PaymentId, allocations, total, now, command.ApplicationId, fingerprint));
            }
        }

        if (events.Count == 0)
        {
            problems.Add(command.ApplyTo is { Count: > 0 } ? "applyTo" : "amount",
                credit == 0 ? "there is no unapplied credit to apply" : "there is no open patient amount to apply it to");
            return (problems.ToResult(StatusCodes.Status422UnprocessableEntity), []);
        }

        var applied = events.Cast<PaymentApplied>().ToList();
        return (Results.Ok(new { applicationId = command.ApplicationId, applied = applied.SelectMany(a => a.Allocations), total = applied.Sum(a => a.Total) }), [.. events]);
    }

    [WolverinePost("/api/patients/{patientId}/credit-applications"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        ApplyCredit command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, TimeProvider clock)
    {
        var (result, events) = Decide(command, account, clock.GetUtcNow());
        return (result, [.. events]);
    }
}
