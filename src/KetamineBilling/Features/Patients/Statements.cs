using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Ui;
using KetamineBilling.Features.AccessAudit;
using System.Globalization;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using KetamineBilling.Infrastructure.Pdf;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Patients;

/// <param name="AmountDue">What the patient owes now: their open amounts less any unapplied credit.</param>
public sealed record PatientStatement(
    Guid PatientId,
    string PatientName,
    DateOnly From,
    DateOnly To,
    AccountFigures Opening,
    IReadOnlyList<LedgerEntry> Entries,
    decimal Charges,
    decimal Payments,
    decimal Adjustments,
    decimal Refunds,
    AccountFigures Closing,
    decimal AmountDue);

public static class Statements
{
    /// <summary>Money on paper as on screen: <see cref="Fmt.Money(decimal)"/> ("$1,234.56").</summary>
    public static string Usd(decimal amount) => Fmt.Money(amount);

    /// <summary>
    /// A period's activity between two as-of balances, folded from the events: the opening balance plus the
    /// period's charges, less its payments and adjustments, plus its refunds, is the closing balance.
    /// </summary>
    /// <param name="madeAt">When the statement was made (a statement run's): what was recorded later that day is not on it, so a
    /// reprint is what was sent.</param>
    public static async Task<PatientStatement?> BuildAsync(
        IQuerySession session, Guid patientId, DateOnly from, DateOnly to, TimeZoneInfo zone, CancellationToken ct, DateTimeOffset? madeAt = null)
    {
        var current = await session.LoadAsync<PatientAccount>(patientId, ct);
        if (current is null)
        {
            return null;
        }

        // A period before the account existed is an empty statement, not a missing patient.
        var end = Ledger.EndOf(to, zone);
        if (madeAt is { } made && made < end) end = made;
        var events = await session.Events.FetchStreamAsync(patientId, timestamp: end, token: ct);
        var cut = Ledger.EndOf(from.AddDays(-1), zone);
        var (opening, _) = Ledger.Fold(events.Where(e => e.Timestamp <= cut), zone);
        var (closing, entries) = Ledger.Fold(events, zone);
        var period = entries.Where(e => e.RecordedAt > cut).ToList();
        var closingFigures = AccountFigures.Of(closing);
        return new PatientStatement(patientId, current.Name, from, to, AccountFigures.Of(opening), period,
            period.Sum(e => e.Charges), period.Sum(e => e.Payments), period.Sum(e => e.Adjustments), period.Sum(e => e.Refunds),
            closingFigures, closingFigures.PatientDue - closingFigures.UnappliedCredit);
    }

    public static PdfDocumentModel StatementDocument(PatientStatement s, PatientAccount account, ClinicProfile clinic, DateOnly issuedOn) => new(
        "Patient Statement",
        $"Statement date {Fmt.Date(issuedOn)}",
        clinic.IssuerLines(),
        [
            ("Patient", s.PatientName),
            ("Date of birth", Fmt.Date(account.DateOfBirth)),
            ("Account", AccountReference(s.PatientId)),
            ("Period", $"{Fmt.Date(s.From)} to {Fmt.Date(s.To)}"),
            ("Amount due", Usd(Math.Max(s.AmountDue, 0m)))
        ],
        [
            new PdfSection("Account summary", Facts:
            [
                ("Opening balance", Usd(s.Opening.Balance)),
                ("Charges", Usd(s.Charges)),
                ("Payments", Usd(-s.Payments)),
                ("Adjustments", Usd(-s.Adjustments)),
                ("Refunds", Usd(s.Refunds)),
                ("Closing balance", Usd(s.Closing.Balance))
            ]),
            new PdfSection("Activity",
                Paragraphs: s.Entries.Count == 0 ? ["No activity in this period."] : null,
                Table: s.Entries.Count == 0 ? null : new PdfTable(
                    [
                        new PdfColumn("Posted", 1.5), new PdfColumn("Description", 3.0), new PdfColumn("Charges", 1.3, PdfAlign.Right),
                        new PdfColumn("Payments", 1.35, PdfAlign.Right), new PdfColumn("Adjustments", 1.6, PdfAlign.Right),
                        new PdfColumn("Refunds", 1.25, PdfAlign.Right), new PdfColumn("Balance", 1.3, PdfAlign.Right)
                    ],
                    s.Entries.Select(e => (IReadOnlyList<string>)
                    [
                        Fmt.Date(e.PostedOn), e.Description, Amount(e.Charges), Amount(e.Payments), Amount(e.Adjustments),
                        Amount(e.Refunds), Usd(e.Balance)
                    ]).ToList(),
                    ["", "Period total", Usd(s.Charges), Usd(s.Payments), Usd(s.Adjustments), Usd(s.Refunds), Usd(s.Closing.Balance)])),
            new PdfSection("Who owes the balance", Facts:
            [
                ("Opening: you (patient)", Usd(s.Opening.PatientDue)),
                ("Opening: others, pending", Usd(s.Opening.InsurancePending + s.Opening.EmployerDue + s.Opening.GrantPending + s.Opening.SponsorPending)),
                ("Closing: you (patient)", Usd(s.Closing.PatientDue)),
                ("Closing: insurance, pending", Usd(s.Closing.InsurancePending)),
                ("Closing: employer", Usd(s.Closing.EmployerDue)),
                ("Closing: grant, pending", Usd(s.Closing.GrantPending)),
                ("Closing: study sponsor, pending", Usd(s.Closing.SponsorPending)),
                ("Closing: unapplied credit", Usd(-s.Closing.UnappliedCredit))
            ])
        ],
        "Amounts pending with insurance, an employer, a grant or a study sponsor are not due from you unless they are later moved to you.");

    private static string Amount(decimal amount) => amount == 0 ? "" : Usd(amount);

    /// <summary>A short account reference for paper: the id's last eight hex digits (its first are a timestamp).</summary>
    public static string AccountReference(Guid patientId) => patientId.ToString("N")[^8..].ToUpperInvariant();

    public static PdfDocumentModel ReceiptDocument(
        PatientAccount account, DateOnly dateOfService, IReadOnlyList<AccountSession> sessions, IReadOnlyDictionary<string, Provider> providers,
        ClinicProfile clinic, DateOnly issuedOn)
    {
        var lines = sessions.SelectMany(s => s.Lines.Select(l => (Session: s, Line: l))).ToList();
        var charged = lines.Sum(x => x.Line.Charge);
        var adjusted = lines.Sum(x => x.Line.Adjusted);
        var paid = lines.Sum(x => x.Line.PatientPaid);
        // What insurance does not reimburse: the charge less what the payer paid and wrote off.
        var insurancePaid = lines.Sum(x => x.Line.InsurancePaid);
        var notReimbursed = charged - adjusted - insurancePaid;
        var payments = account.Payments
            .Where(p => !p.Reversed)
            .Select(p => (Payment: p, Amount: p.Applied.Where(a => sessions.Any(s => s.SessionId == a.SessionId)).Sum(a => a.Amount)))
            .Where(x => x.Amount > 0)
            .ToList();
        var providerLines = sessions.Select(s => s.ProviderId).Distinct()
            .Select(id => id is not null && providers.TryGetValue(id, out var p) ? $"{p.Name}{(p.Credentials is null ? "" : ", " + p.Credentials)} (NPI {p.Npi})" : id ?? "")
            .ToList();
        return new PdfDocumentModel(
            "Itemized Receipt",
            $"Date of service {Fmt.Date(dateOfService)}",
            clinic.IssuerLines(),
            [
                ("Patient", account.Name),
                ("Date of birth", Fmt.Date(account.DateOfBirth)),
                ("Date of service", Fmt.Date(dateOfService)),
                ("Provider", string.Join("; ", providerLines)),
                ("Clinic tax ID", clinic.TaxId),
                ("Diagnosis", string.Join(", ", sessions.SelectMany(s => s.DiagnosisCodes).Distinct())),
                ("Issued", Fmt.Date(issuedOn))
            ],
            [
                new PdfSection("Services",
                    Table: new PdfTable(
                        [
                            new PdfColumn("Code", 0.9), new PdfColumn("Description", 3.0), new PdfColumn("Units", 0.8, PdfAlign.Right),
                            new PdfColumn("Charged", 1.1, PdfAlign.Right), new PdfColumn("Discount", 1.1, PdfAlign.Right),
                            new PdfColumn("Insurance paid", 1.6, PdfAlign.Right), new PdfColumn("Patient paid", 1.5, PdfAlign.Right)
                        ],
                        lines.Select(x => (IReadOnlyList<string>)
                        [
                            x.Line.Code, x.Line.Description, x.Line.Units.ToString(CultureInfo.InvariantCulture), Usd(x.Line.Charge),
                            Usd(x.Line.Adjusted), Usd(x.Line.InsurancePaid), Usd(x.Line.PatientPaid)
                        ]).ToList(),
                        ["", "Total", "", Usd(charged), Usd(adjusted), Usd(insurancePaid), Usd(paid)])),
                new PdfSection("Payments for this date of service",
                    Paragraphs: payments.Count == 0 ? ["No payment has been applied to this date of service yet."] : null,
                    Table: payments.Count == 0 ? null : new PdfTable(
                        [new PdfColumn("Received", 1.2), new PdfColumn("Method", 1), new PdfColumn("Reference", 3), new PdfColumn("Amount", 1.2, PdfAlign.Right)],
                        payments.Select(x => (IReadOnlyList<string>)
                        [
                            Fmt.Date(x.Payment.ReceivedOn), ApiEnum.Name(x.Payment.Method).ToUpperInvariant(), x.Payment.Reference ?? "", Usd(x.Amount)
                        ]).ToList())),
                new PdfSection("Summary", Facts:
                [
                    ("Amount charged", Usd(charged)),
                    ("Paid by patient", Usd(paid)),
                    ("Not reimbursed by insurance", Usd(notReimbursed))
                ])
            ],
            "This receipt itemizes one date of service for FSA/HSA reimbursement. It is not a balance-forward statement.");
    }
}

public static class StatementEndpoints
{
    private static (DateOnly From, DateOnly To)? Period(DateOnly? from, DateOnly? to, DateOnly today, out IResult? problem)
    {
        problem = null;
        var end = to ?? today;
        var start = from ?? new DateOnly(end.Year, end.Month, 1);
        var problems = new ValidationProblems();
        if (start > end) problems.Add("from", "must be on or before to");
        if (end > today) problems.Add("to", "must not be in the future");
        if (end.DayNumber - start.DayNumber > 3660) problems.Add("from", "the period may span at most ten years");
        if (!problems.Any) return (start, end);
        problem = problems.ToResult(StatusCodes.Status400BadRequest);
        return null;
    }

    [PhiRead("statement")]
    [WolverineGet("/api/patients/{patientId}/statement"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(
        Guid patientId, DateOnly? from, DateOnly? to, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        if (Period(from, to, calendar.Today(), out var problem) is not { } period) return problem!;
        var statement = await Statements.BuildAsync(session, patientId, period.From, period.To, calendar.Zone, ct);
        return statement is null ? Problems.NotFound($"patient {patientId} does not exist") : Results.Ok(statement);
    }

    [PhiRead("statement-pdf")]
    [WolverineGet("/api/patients/{patientId}/statement.pdf"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> GetPdf(
        Guid patientId, DateOnly? from, DateOnly? to, IQuerySession session, ClinicCalendar calendar, ClinicProfiles profiles, CancellationToken ct)
    {
        var clinic = await profiles.CurrentAsync(session, ct);
        if (Period(from, to, calendar.Today(), out var problem) is not { } period) return problem!;
        var statement = await Statements.BuildAsync(session, patientId, period.From, period.To, calendar.Zone, ct);
        var account = await session.LoadAsync<PatientAccount>(patientId, ct);
        if (statement is null || account is null) return Problems.NotFound($"patient {patientId} does not exist");
        var pdf = PdfRenderer.Render(Statements.StatementDocument(statement, account, clinic, calendar.Today()));
        return Results.File(pdf, "application/pdf", $"statement-{period.From:yyyyMMdd}-{period.To:yyyyMMdd}.pdf");
    }

    [PhiRead("receipt")]
    [WolverineGet("/api/patients/{patientId}/receipts/{dateOfService}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> GetReceipt(
        Guid patientId, string dateOfService, IQuerySession session, ClinicCalendar calendar, ClinicProfiles profiles, CancellationToken ct)
    {
        var clinic = await profiles.CurrentAsync(session, ct);
        if (!DateOnly.TryParseExact(dateOfService.Replace(".pdf", ""), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return Problems.Invalid("dateOfService", "must be a date (yyyy-MM-dd)", StatusCodes.Status400BadRequest);
        }

        var account = await session.LoadAsync<PatientAccount>(patientId, ct);
        if (account is null) return Problems.NotFound($"patient {patientId} does not exist");
        var sessions = account.Sessions.Where(s => s.DeliveredOn == date && !s.Voided).ToList();
        if (sessions.Count == 0) return Problems.NotFound($"the patient has no session on {Fmt.Date(date)}");
        var providerIds = sessions.Select(s => s.ProviderId).OfType<string>().Distinct().ToArray();
        var providers = (await session.LoadManyAsync<Provider>(ct, providerIds)).ToDictionary(p => p.Id);
        var pdf = PdfRenderer.Render(Statements.ReceiptDocument(account, date, sessions, providers, clinic, calendar.Today()));
        return Results.File(pdf, "application/pdf", $"receipt-{date:yyyyMMdd}.pdf");
    }
}
