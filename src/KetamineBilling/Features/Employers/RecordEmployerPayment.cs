using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Employers;

public record RecordEmployerPayment(Guid PaymentId, string? Reference, decimal? Amount, DateOnly? ReceivedOn, Guid? InvoiceId);

public static class RecordEmployerPaymentEndpoint
{
    public static ProblemDetails Validate(RecordEmployerPayment command, ClinicCalendar calendar)
    {
        var problems = new ValidationProblems();
        if (command.PaymentId == Guid.Empty) problems.Add("paymentId", "is required: a client-made id");
        problems.RequireText("reference", command.Reference, 80);
        problems.RequirePositive("amount", command.Amount);
        if (command.ReceivedOn is null) problems.Add("receivedOn", "is required");
        else if (command.ReceivedOn > calendar.Today()) problems.Add("receivedOn", "must not be in the future");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Applied to the named invoice, or to the oldest open invoices; never to more than is open (422). The payment
    /// reduces what each covered session's employer share still owes on the patient's account, in the same transaction
    /// (the patients' events, one per patient, are <see cref="ThirdPartyOnAccount.PaymentApplied"/>'s).
    /// Idempotent by payment id and by the employer's reference.
    /// </summary>
    public static Outcome Decide(EmployerAgreement employer, RecordEmployerPayment command, DateTimeOffset now)
    {
        var reference = command.Reference!.Trim();
        if (employer.Payments.FirstOrDefault(p => p.PaymentId == command.PaymentId || p.Reference == reference) is { } existing)
        {
            return existing.PaymentId == command.PaymentId && existing.Reference == reference && existing.Amount == command.Amount && existing.ReceivedOn == command.ReceivedOn
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"payment reference {reference} was already recorded with other content");
        }

        var problems = new ValidationProblems();
        var open = employer.Invoices.Where(i => i.Open > 0 && (command.InvoiceId is null || i.InvoiceId == command.InvoiceId)).OrderBy(i => i.IssuedOn).ToList();
        if (command.InvoiceId is { } invoiceId && employer.Invoices.All(i => i.InvoiceId != invoiceId)) problems.Add("invoiceId", "is not an invoice of this employer");
        else if (command.Amount > open.Sum(i => i.Open)) problems.Add("amount", $"must not exceed the {Fmt.Money(open.Sum(i => i.Open))} open on {(command.InvoiceId is null ? "this employer's invoices" : "that invoice")}");
        if (problems.Any) return Outcome.Reject(problems);

        var received = Receive(employer, command.PaymentId, reference, command.Amount!.Value, command.ReceivedOn!.Value, command.InvoiceId, now);
        var after = Snapshot.Copy(employer);
        after.Apply(received);
        var outcome = Outcome.Created($"/api/employers/{employer.Id}/payments/{command.PaymentId}", received).Append(employer.Id, received);
        foreach (var (patientId, allocations) in Allocations(employer, after))
        {
            outcome = outcome.Append(patientId, ThirdPartyOnAccount.PaymentApplied(patientId, ResponsibleParty.Employer, employer.Id, reference, allocations, now));
        }

        return outcome;
    }

    [WolverinePost("/api/employers/{employerId}/payments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Employers")]
    public static async Task<IResult> Post(Guid employerId, RecordEmployerPayment command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<EmployerAgreement>(employerId, ct);
        if (stream.Aggregate is not { } employer) return Problems.NotFound($"employer {employerId} does not exist");
        var outcome = ClosedPeriods.Guard(Decide(employer, command, clock.GetUtcNow()), await Books.LoadAsync(session, ct), command.ReceivedOn, "receivedOn");
        var fetched = new List<OutcomeAppends.FetchedStream> { stream.Writing() };
        if (outcome is Outcome.Accepted accepted)
        {
            foreach (var patientId in accepted.Streams.Select(s => s.StreamId).OfType<Guid>().Where(id => id != employerId).Distinct())
            {
                fetched.Add((await session.Events.FetchForWriting<PatientAccount>(patientId, ct)).Writing());
            }
        }

        outcome.AppendTo(session, fetched);
        return outcome.ToResult();
    }

    /// <summary>The payment applied to the named invoice, or to the oldest open invoices first, up to what each has open.</summary>
    public static EmployerPaymentReceived Receive(EmployerAgreement employer, Guid paymentId, string reference, decimal amount, DateOnly receivedOn, Guid? invoiceId,
        DateTimeOffset now)
    {
        var open = employer.Invoices.Where(i => i.Open > 0 && (invoiceId is null || i.InvoiceId == invoiceId)).OrderBy(i => i.IssuedOn);
        var applications = Allocation.FillInOrder(open, amount, i => i.Open).Select(x => new InvoiceApplication(x.Item.InvoiceId, x.Amount)).ToList();
        return new EmployerPaymentReceived(employer.Id, paymentId, reference, amount, receivedOn, applications, now);
    }

    /// <summary>What each session's commitment newly received, per patient, on its lines in order (after what they had received before).</summary>
    public static IEnumerable<(Guid PatientId, List<LineAmount> Allocations)> Allocations(EmployerAgreement before, EmployerAgreement after)
    {
        foreach (var byPatient in after.Commitments.GroupBy(c => c.PatientId))
        {
            var allocations = new List<LineAmount>();
            foreach (var commitment in byPatient)
            {
                var previously = before.Commitments.First(c => c.SessionId == commitment.SessionId).Paid;
                var added = commitment.Paid - previously;
                if (added <= 0) continue;
                // A line's room is what of it the earlier payments have not reached yet.
                var reachedBefore = new Dictionary<int, decimal>();
                var upTo = 0m;
                foreach (var line in commitment.Lines)
                {
                    reachedBefore[line.LineNumber] = Math.Clamp(previously - upTo, 0, line.Amount);
                    upTo += line.Amount;
                }

                allocations.AddRange(Allocation.FillInOrder(commitment.Lines, added, l => l.Amount - reachedBefore[l.LineNumber])
                    .Select(x => new LineAmount(commitment.SessionId, x.Item.LineNumber, x.Amount)));
            }

            if (allocations.Count > 0) yield return (byPatient.Key, allocations);
        }
    }
}
