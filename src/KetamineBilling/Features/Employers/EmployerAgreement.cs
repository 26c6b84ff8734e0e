using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Employers;

// The employer agreement stream (one per employer paying the clinic directly). It guards: caps per employee
// and plan year; a session is committed once; payments apply to open invoices only, once per reference.

/// <param name="RatePerSession">A fixed amount per covered session (capped at its covered charges), or</param>
/// <param name="CoveragePercent">a percentage of the covered charges.</param>
/// <param name="CoveredCodes">Codes the employer pays for; empty means all.</param>
/// <param name="ShowNames">Whether statements may name employees; otherwise a pseudonymous member id only.</param>
public record EmployerTerms(
    decimal? RatePerSession, decimal? CoveragePercent, IReadOnlyList<string> CoveredCodes, decimal? CapPerEmployeePerYear,
    int? CapSessionsPerEmployeePerYear, int PaymentTermsDays, bool ShowNames);

public record EmployerRegistered(Guid EmployerId, string Name, string? BillingContact, EmployerTerms Terms, DateTimeOffset RegisteredAt);

public record EmployeeEnrolled(Guid EmployerId, Guid PatientId, string MemberId, int PlanYear, DateTimeOffset EnrolledAt);

public record EmploymentEnded(Guid EmployerId, Guid PatientId, DateOnly EndedOn, DateTimeOffset EndedAt);

public record CommittedLine(int LineNumber, decimal Amount);

/// <param name="CappedBy">When the cap cut the commitment: "money" or "sessions".</param>
public record DirectPayCommitted(
    Guid EmployerId, Guid PatientId, string MemberId, Guid SessionId, DateOnly DeliveredOn, int PlanYear, decimal Amount, IReadOnlyList<CommittedLine> Lines,
    string? CappedBy, DateTimeOffset CommittedAt);

/// <summary>The session was voided before it was invoiced: the employer owes nothing for it.</summary>
public record DirectPayReleased(Guid EmployerId, Guid SessionId, string Reason, DateTimeOffset ReleasedAt);

public record InvoiceLine(Guid SessionId, string MemberId, DateOnly DeliveredOn, decimal Amount);

public record EmployerInvoiceIssued(
    Guid EmployerId, Guid InvoiceId, string Number, DateOnly PeriodStart, DateOnly PeriodEnd, IReadOnlyList<InvoiceLine> Lines, decimal Total,
    DateOnly IssuedOn, DateOnly DueOn, DateTimeOffset IssuedAt);

public record InvoiceApplication(Guid InvoiceId, decimal Amount);

public record EmployerPaymentReceived(
    Guid EmployerId, Guid PaymentId, string Reference, decimal Amount, DateOnly ReceivedOn, IReadOnlyList<InvoiceApplication> Applications, DateTimeOffset RecordedAt);

public sealed record Enrollment(Guid PatientId, string MemberId, int PlanYear, DateOnly? EndedOn);

public sealed class Commitment
{
    public Guid SessionId { get; set; }
    public Guid PatientId { get; set; }
    public string MemberId { get; set; } = "";
    public DateOnly DeliveredOn { get; set; }
    public int PlanYear { get; set; }
    public decimal Amount { get; set; }
    public List<CommittedLine> Lines { get; set; } = [];
    public string? CappedBy { get; set; }
    public Guid? InvoiceId { get; set; }
    public decimal Paid { get; set; }
}

public sealed class Invoice
{
    public Guid InvoiceId { get; set; }
    public string Number { get; set; } = "";
    public DateOnly PeriodStart { get; set; }
    public DateOnly PeriodEnd { get; set; }
    public List<InvoiceLine> Lines { get; set; } = [];
    public decimal Total { get; set; }
    public DateOnly IssuedOn { get; set; }
    public DateOnly DueOn { get; set; }
    public decimal Paid { get; set; }
    public decimal Open => Total - Paid;
}

public sealed class EmployerAgreement
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public string Name { get; set; } = "";
    public string? BillingContact { get; set; }
    public EmployerTerms Terms { get; set; } = new(null, null, [], null, null, 30, false);
    public List<Enrollment> Enrollments { get; set; } = [];

    /// <summary>Patients with an enrolment, for finding an employee's employer with one query.</summary>
    public List<Guid> EnrolledPatientIds { get; set; } = [];

    public List<Commitment> Commitments { get; set; } = [];
    public List<Invoice> Invoices { get; set; } = [];
    public List<EmployerPaymentReceived> Payments { get; set; } = [];

    public static EmployerAgreement Create(EmployerRegistered e) => new() { Id = e.EmployerId, Name = e.Name, BillingContact = e.BillingContact, Terms = e.Terms };

    public void Apply(EmployeeEnrolled e)
    {
        Enrollments.RemoveAll(x => x.PatientId == e.PatientId && x.PlanYear == e.PlanYear);
        Enrollments.Add(new Enrollment(e.PatientId, e.MemberId, e.PlanYear, null));
        if (!EnrolledPatientIds.Contains(e.PatientId)) EnrolledPatientIds.Add(e.PatientId);
    }

    public void Apply(EmploymentEnded e)
    {
        for (var i = 0; i < Enrollments.Count; i++)
        {
            if (Enrollments[i].PatientId == e.PatientId && Enrollments[i].EndedOn is null) Enrollments[i] = Enrollments[i] with { EndedOn = e.EndedOn };
        }
    }

    public void Apply(DirectPayCommitted e) => Commitments.Add(new Commitment
    {
        SessionId = e.SessionId, PatientId = e.PatientId, MemberId = e.MemberId, DeliveredOn = e.DeliveredOn, PlanYear = e.PlanYear, Amount = e.Amount,
        Lines = [.. e.Lines], CappedBy = e.CappedBy
    });

    public void Apply(DirectPayReleased e) => Commitments.RemoveAll(c => c.SessionId == e.SessionId);

    public void Apply(EmployerInvoiceIssued e)
    {
        Invoices.Add(new Invoice
        {
            InvoiceId = e.InvoiceId, Number = e.Number, PeriodStart = e.PeriodStart, PeriodEnd = e.PeriodEnd, Lines = [.. e.Lines], Total = e.Total,
            IssuedOn = e.IssuedOn, DueOn = e.DueOn
        });
        foreach (var line in e.Lines)
        {
            Commitments.First(c => c.SessionId == line.SessionId).InvoiceId = e.InvoiceId;
        }
    }

    public void Apply(EmployerPaymentReceived e)
    {
        Payments.Add(e);
        foreach (var application in e.Applications)
        {
            var invoice = Invoices.First(i => i.InvoiceId == application.InvoiceId);
            invoice.Paid += application.Amount;
            // Within an invoice, payments pay its sessions oldest first.
            var sessions = Commitments.Where(c => c.InvoiceId == invoice.InvoiceId).OrderBy(c => c.DeliveredOn).ToList();
            foreach (var (commitment, take) in Allocation.FillInOrder(sessions, application.Amount, c => c.Amount - c.Paid))
            {
                commitment.Paid += take;
            }
        }
    }

    public Enrollment? EnrollmentFor(Guid patientId, DateOnly on) =>
        Enrollments.FirstOrDefault(e => e.PatientId == patientId && e.PlanYear == on.Year && (e.EndedOn is null || on <= e.EndedOn));
}
