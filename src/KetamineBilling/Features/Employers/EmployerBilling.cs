using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Ui;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Infrastructure.Pdf;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Employers;

/// <param name="Issued">Who issued it and when (BillingAdmin's reads only: null for the employer's own user and Finance).</param>
/// <param name="Payments">The payments applied to it: who recorded each and when (BillingAdmin's reads only).</param>
public record InvoiceView(
    Guid InvoiceId, string Number, DateOnly PeriodStart, DateOnly PeriodEnd, DateOnly IssuedOn, DateOnly DueOn, decimal Total, decimal Paid, string Status, int Sessions,
    Actor? Issued = null, IReadOnlyList<InvoicePaymentView>? Payments = null);

/// <summary>A payment's share applied to one invoice, with who recorded the payment and when.</summary>
public record InvoicePaymentView(Guid PaymentId, string Reference, DateOnly ReceivedOn, decimal Amount, Actor Recorded);

public static class Months
{
    public static (DateOnly Start, DateOnly End)? Parse(string? month) =>
        DateOnly.TryParseExact($"{month}-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var start)
            ? (start, start.AddMonths(1).AddDays(-1))
            : null;
}

public sealed record StatementSession(DateOnly Date, string Member, string Service, decimal Amount);

public sealed record StatementPayment(DateOnly ReceivedOn, string Reference, decimal Amount);

/// <summary>An employer's month: no diagnosis, no procedure, no clinical words, and names only if the agreement allows.</summary>
public sealed record EmployerStatement(
    Guid EmployerId, string Employer, string Month, decimal OpeningBalance, IReadOnlyList<StatementSession> SessionsCovered, decimal Covered,
    IReadOnlyList<InvoiceView> Invoices, IReadOnlyList<StatementPayment> Payments, decimal PaymentsReceived, decimal ClosingBalance);

public static class EmployerBillingViews
{
    public const string Service = "Covered treatment session";

    public static InvoiceView Invoice(Invoice i, DateOnly today) => new(i.InvoiceId, i.Number, i.PeriodStart, i.PeriodEnd, i.IssuedOn, i.DueOn, i.Total, i.Paid,
        i.Open == 0 ? "paid" : i.DueOn < today ? "overdue" : i.Paid > 0 ? "partly-paid" : "open", i.Lines.Count);

    public static EmployerStatement Statement(EmployerAgreement e, DateOnly start, DateOnly end, IReadOnlyDictionary<Guid, string> names, DateOnly today)
    {
        var committedBefore = e.Commitments.Where(c => c.DeliveredOn < start).Sum(c => c.Amount);
        var paidBefore = e.Payments.Where(p => p.ReceivedOn < start).Sum(p => p.Amount);
        var sessions = e.Commitments.Where(c => c.DeliveredOn >= start && c.DeliveredOn <= end && c.Amount > 0).OrderBy(c => c.DeliveredOn)
            .Select(c => new StatementSession(c.DeliveredOn, e.Terms.ShowNames && names.TryGetValue(c.PatientId, out var n) ? n : c.MemberId, Service, c.Amount))
            .ToList();
        var payments = e.Payments.Where(p => p.ReceivedOn >= start && p.ReceivedOn <= end).OrderBy(p => p.ReceivedOn)
            .Select(p => new StatementPayment(p.ReceivedOn, p.Reference, p.Amount)).ToList();
        var invoices = e.Invoices.Where(i => i.IssuedOn >= start && i.IssuedOn <= end).Select(i => Invoice(i, today)).ToList();
        var opening = committedBefore - paidBefore;
        return new EmployerStatement(e.Id, e.Name, $"{start:yyyy-MM}", opening, sessions, sessions.Sum(s => s.Amount), invoices, payments,
            payments.Sum(p => p.Amount), opening + sessions.Sum(s => s.Amount) - payments.Sum(p => p.Amount));
    }

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.</summary>

    public static string ToCsv(EmployerStatement s)
    {
        var text = new StringBuilder("section,date,reference,description,amount\n");
        void Row(string section, DateOnly? date, string reference, string description, decimal amount) =>
            text.Append(string.Join(',', CsvText.Field(section), CsvText.Date(date), CsvText.Field(reference), CsvText.Field(description), CsvText.Money(amount))).Append('\n');
        Row("opening-balance", null, "", $"{s.Employer} {s.Month}", s.OpeningBalance);
        foreach (var session in s.SessionsCovered) Row("session", session.Date, session.Member, session.Service, session.Amount);
        foreach (var invoice in s.Invoices) Row("invoice", invoice.IssuedOn, invoice.Number, $"due {invoice.DueOn:yyyy-MM-dd}, {invoice.Status}", invoice.Total);
        foreach (var payment in s.Payments) Row("payment", payment.ReceivedOn, payment.Reference, "payment received", payment.Amount);
        Row("closing-balance", null, "", $"{s.Employer} {s.Month}", s.ClosingBalance);
        return text.ToString();
    }

    /// <summary>A statement's month as a person reads it: "March 2026 (03/01/2026 to 03/31/2026)".</summary>
    private static string Period(string month) =>
        Months.Parse(month) is { } m ? $"{m.Start.ToString("MMMM yyyy", Fmt.Clinic)} ({Fmt.Date(m.Start)} to {Fmt.Date(m.End)})" : month;

    public static PdfDocumentModel ToPdf(EmployerStatement s, ClinicProfile clinic) => new(
        "Employer Statement",
        Period(s.Month),
        clinic.IssuerLines(),
        [("Employer", s.Employer), ("Period", Period(s.Month)), ("Opening balance", Statements.Usd(s.OpeningBalance)), ("Closing balance", Statements.Usd(s.ClosingBalance))],
        [
            new PdfSection("Sessions covered", Paragraphs: s.SessionsCovered.Count == 0 ? ["No covered session this month."] : null,
                Table: s.SessionsCovered.Count == 0 ? null : new PdfTable(
                    [new PdfColumn("Date", 1.3), new PdfColumn("Member", 2), new PdfColumn("Service", 3), new PdfColumn("Amount", 1.3, PdfAlign.Right)],
                    s.SessionsCovered.Select(x => (IReadOnlyList<string>)[Fmt.Date(x.Date), x.Member, x.Service, Statements.Usd(x.Amount)]).ToList(),
                    ["", "", "Total", Statements.Usd(s.Covered)])),
            new PdfSection("Invoices", Paragraphs: s.Invoices.Count == 0 ? ["No invoice issued this month."] : null,
                Table: s.Invoices.Count == 0 ? null : new PdfTable(
                    [new PdfColumn("Number", 2), new PdfColumn("Issued", 1.3), new PdfColumn("Due", 1.3), new PdfColumn("Status", 1.3), new PdfColumn("Total", 1.3, PdfAlign.Right)],
                    s.Invoices.Select(x => (IReadOnlyList<string>)[x.Number, Fmt.Date(x.IssuedOn), Fmt.Date(x.DueOn), x.Status, Statements.Usd(x.Total)]).ToList())),
            new PdfSection("Payments", Paragraphs: s.Payments.Count == 0 ? ["No payment received this month."] : null,
                Table: s.Payments.Count == 0 ? null : new PdfTable(
                    [new PdfColumn("Received", 1.3), new PdfColumn("Reference", 3), new PdfColumn("Amount", 1.3, PdfAlign.Right)],
                    s.Payments.Select(x => (IReadOnlyList<string>)[Fmt.Date(x.ReceivedOn), x.Reference, Statements.Usd(x.Amount)]).ToList(),
                    ["", "Total", Statements.Usd(s.PaymentsReceived)]))
        ],
        "Members are identified by their member id. This statement carries no clinical information.");
}

public static class EmployerBillingQueries
{
    [WolverineGet("/api/employers/{employerId}/invoices"), Authorize(Policy = Policies.EmployerFigures)]
    [Tags("Employers")]
    public static async Task<IResult> Invoices(Guid employerId, ClaimsPrincipal user, IQuerySession session, IGlobalStore accounts, ClinicCalendar calendar,
        CancellationToken ct)
    {
        var employer = EmployerAccess.MaySee(user, employerId) ? await session.LoadAsync<EmployerAgreement>(employerId, ct) : null;
        if (employer is null) return Problems.NotFound($"employer {employerId} does not exist");
        var invoices = employer.Invoices.OrderBy(i => i.IssuedOn).Select(i => EmployerBillingViews.Invoice(i, calendar.Today())).ToList();
        if (!user.IsInRole(Roles.BillingAdmin)) return Results.Ok(invoices);

        // Who issued each invoice and recorded each payment on it (the clinic's staff: not shown to the employer's own user).
        var events = await EventActors.OfStreamsAsync(session, accounts, [employerId], [typeof(EmployerInvoiceIssued), typeof(EmployerPaymentReceived)], ct);
        var issued = events.Where(x => x.Event.Data is EmployerInvoiceIssued).ToDictionary(x => ((EmployerInvoiceIssued)x.Event.Data).InvoiceId, x => x.Actor);
        var payments = events.Where(x => x.Event.Data is EmployerPaymentReceived)
            .SelectMany(x => ((EmployerPaymentReceived)x.Event.Data) is var p
                ? p.Applications.Select(a => (a.InvoiceId, View: new InvoicePaymentView(p.PaymentId, p.Reference, p.ReceivedOn, a.Amount, x.Actor)))
                : [])
            .ToLookup(x => x.InvoiceId, x => x.View);
        return Results.Ok(invoices.Select(i => i with { Issued = issued.GetValueOrDefault(i.InvoiceId), Payments = payments[i.InvoiceId].ToList() }).ToList());
    }

    /// <param name="format">json (default), csv or pdf.</param>
    [WolverineGet("/api/employers/{employerId}/statements/{month}"), Authorize(Policy = Policies.EmployerDocuments)]
    [Tags("Employers")]
    public static async Task<IResult> Statement(
        Guid employerId, string month, string? format, ClaimsPrincipal user, IQuerySession session, ClinicCalendar calendar, ClinicProfiles profiles, CancellationToken ct)
    {
        var clinic = await profiles.CurrentAsync(session, ct);
        var employer = EmployerAccess.MaySee(user, employerId) ? await session.LoadAsync<EmployerAgreement>(employerId, ct) : null;
        if (employer is null) return Problems.NotFound($"employer {employerId} does not exist");
        var problems = new ValidationProblems();
        if (Months.Parse(month) is not { } period) problems.Add("month", "must be a month as yyyy-MM");
        if (format is not (null or "json" or "csv" or "pdf")) problems.Add("format", "must be json, csv or pdf");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

        var (start, end) = Months.Parse(month)!.Value;
        var names = new Dictionary<Guid, string>();
        if (employer.Terms.ShowNames)
        {
            var ids = employer.Commitments.Select(c => c.PatientId).Distinct().ToArray();
            foreach (var account in await session.LoadManyAsync<PatientAccount>(ct, ids)) names[account.Id] = account.Name;
        }

        var statement = EmployerBillingViews.Statement(employer, start, end, names, calendar.Today());
        return format switch
        {
            "csv" => Results.Text(EmployerBillingViews.ToCsv(statement), "text/csv", Encoding.UTF8),
            "pdf" => Results.File(PdfRenderer.Render(EmployerBillingViews.ToPdf(statement, clinic)), "application/pdf", $"statement-{month}.pdf"),
            _ => Results.Ok(statement)
        };
    }
}
