using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

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
    public static Outcome Decide(PatientAccount account, ApplyCredit command, DateTimeOffset now)
    {
        var fingerprint = Fingerprint.Of(command);
        if (account.CreditApplications.TryGetValue(command.ApplicationId, out var recorded))
        {
            // A replay: what that request applied is already on the account.
            return recorded == fingerprint
                ? Outcome.Replay(new { applicationId = command.ApplicationId, replayed = true })
                : Outcome.Conflict($"credit application {command.ApplicationId} was already made with other content");
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
        if (problems.Any) return Outcome.Reject(problems);

        // Each payment's credit, oldest payment first, fills the lines in order; a line's room is what earlier payments left open.
        var targets = (named ?? account.OpenPatientLines()).ToList();
        var budget = command.Amount ?? credit;
        var applied = new List<PaymentApplied>();
        var room = targets.DistinctBy(t => (t.Session.SessionId, t.Line.LineNumber))
            .ToDictionary(t => (t.Session.SessionId, t.Line.LineNumber), t => t.Line.Open.Patient);
        foreach (var payment in payments)
        {
            var allocations = LineAllocation.Fill(targets, Math.Min(payment.Unapplied, budget), t => room[(t.Session.SessionId, t.Line.LineNumber)]);
            if (allocations.Count == 0) continue;
            foreach (var a in allocations) room[(a.SessionId, a.LineNumber)] -= a.Amount;
            var total = allocations.Sum(a => a.Amount);
            budget -= total;
            applied.Add(new PaymentApplied(account.Id, payment.PaymentId, allocations, total, now, command.ApplicationId, fingerprint));
        }

        if (applied.Count == 0)
        {
            problems.Add(command.ApplyTo is { Count: > 0 } ? "applyTo" : "amount",
                credit == 0 ? "there is no unapplied credit to apply" : "there is no open patient amount to apply it to");
            return Outcome.Reject(problems);
        }

        return Outcome.Ok(new { applicationId = command.ApplicationId, applied = applied.SelectMany(a => a.Allocations), total = applied.Sum(a => a.Total) })
            .Append(account.Id, applied);
    }

    [WolverinePost("/api/patients/{patientId}/credit-applications"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        ApplyCredit command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, TimeProvider clock)
    {
        var outcome = Decide(account, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
