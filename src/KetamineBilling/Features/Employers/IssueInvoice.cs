using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Employers;

public record IssueInvoice(Guid InvoiceId, string? Month);

public static class IssueInvoiceEndpoint
{
    public static ProblemDetails Validate(IssueInvoice command)
    {
        var problems = new ValidationProblems();
        if (command.InvoiceId == Guid.Empty) problems.Add("invoiceId", "is required: a client-made id");
        if (Months.Parse(command.Month) is null) problems.Add("month", "must be a month as yyyy-MM");
        return problems.ToProblemDetails();
    }

    /// <summary>The month's committed sessions not yet invoiced go on one invoice, issued today and due after the agreed terms.</summary>
    public static Outcome Decide(EmployerAgreement employer, IssueInvoice command, DateOnly today, DateTimeOffset now)
    {
        var (start, end) = Months.Parse(command.Month)!.Value;
        if (employer.Invoices.FirstOrDefault(i => i.InvoiceId == command.InvoiceId) is { } existing)
        {
            return existing.PeriodStart == start
                ? Outcome.Replay(EmployerBillingViews.Invoice(existing, today))
                : Outcome.Conflict($"invoice {command.InvoiceId} was issued for another month");
        }

        var lines = employer.Commitments
            .Where(c => c.InvoiceId is null && c.Amount > 0 && c.DeliveredOn >= start && c.DeliveredOn <= end)
            .OrderBy(c => c.DeliveredOn)
            .Select(c => new InvoiceLine(c.SessionId, c.MemberId, c.DeliveredOn, c.Amount))
            .ToList();
        if (lines.Count == 0)
        {
            return Outcome.Reject("month", $"{command.Month} has no covered session that is not invoiced yet");
        }

        var issued = new EmployerInvoiceIssued(employer.Id, command.InvoiceId, $"INV-{start:yyyyMM}-{employer.Invoices.Count(i => i.PeriodStart == start) + 1:D2}",
            start, end, lines, lines.Sum(l => l.Amount), today, today.AddDays(employer.Terms.PaymentTermsDays), now);
        var after = Snapshot.Copy(employer);
        after.Apply(issued);
        return Outcome.Created($"/api/employers/{employer.Id}/invoices/{command.InvoiceId}", EmployerBillingViews.Invoice(after.Invoices[^1], today))
            .Append(employer.Id, issued);
    }

    [WolverinePost("/api/employers/{employerId}/invoices"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Employers")]
    public static (IResult, Events) Post(
        IssueInvoice command, [WriteAggregate("employerId", OnMissing = OnMissing.ProblemDetailsWith404)] EmployerAgreement employer,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = Decide(employer, command, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(employer.Id)]);
    }
}
