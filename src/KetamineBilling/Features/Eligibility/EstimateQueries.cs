using System.Globalization;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Studies;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Infrastructure.Pdf;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Eligibility;

public static class EstimateQueries
{
    public const int MaxLines = 20;
    public const int DefaultIntervalDays = 3;

    /// <summary>
    /// The plan a query names: <c>sessions</c> (1-52), <c>lines</c> as <c>CODE:UNITS</c> separated by commas (each session's),
    /// <c>firstOn</c> (default today), <c>intervalDays</c> (1-60, default 3), <c>coverageId</c> and <c>description</c>. Null with the
    /// field and rule when the query is not one.
    /// </summary>
    public static (SeriesPlan? Plan, string? Field, string? Rule) Parse(
        int? sessions, string? lines, DateOnly? firstOn, int? intervalDays, Guid? coverageId, string? description, DateOnly today, decimal? packagePrice = null)
    {
        if (packagePrice is { } package && (package <= 0 || package > 1_000_000m || decimal.Round(package, 2) != package))
            return (null, "packagePrice", "must be more than $0.00, at most $1,000,000.00, in cents");
        if (sessions is not { } count || count is < 1 or > 52) return (null, "sessions", "must be from 1 to 52");
        if (intervalDays is < 1 or > 60) return (null, "intervalDays", "must be from 1 to 60");
        if (firstOn is { } first && (first < today.AddYears(-1) || first > today.AddYears(2)))
            return (null, "firstOn", $"must be within a year before and two years after today ({today:yyyy-MM-dd})");
        var parsed = new List<EstimateLineInput>();
        foreach (var part in (lines ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var bits = part.Split(':');
            if (bits.Length != 2 || bits[0].Trim().Length != 5 || !int.TryParse(bits[1], NumberStyles.None, CultureInfo.InvariantCulture, out var units) || units is < 1 or > 999)
                return (null, "lines", $"\"{part}\" is not CODE:UNITS (a five-character code, 1 to 999 units), e.g. 96365:1,J0013:56");
            parsed.Add(new EstimateLineInput(bits[0].Trim().ToUpperInvariant(), units));
        }

        if (parsed.Count is 0 or > MaxLines) return (null, "lines", $"must name 1 to {MaxLines} CODE:UNITS lines billed at each session");
        var text = string.IsNullOrWhiteSpace(description) ? $"Series of {count} session(s)" : description.Trim();
        if (text.Length > 200) return (null, "description", "must be at most 200 characters");
        return (new SeriesPlan(text, count, parsed, firstOn ?? today, intervalDays ?? DefaultIntervalDays, coverageId, packagePrice), null, null);
    }

    /// <summary>The estimate, or a problem: a code without a price (422 naming lines), a coverage that is not the patient's (422).</summary>
    public static async Task<(SeriesEstimate? Estimate, IResult? Problem)> EstimateAsync(
        PatientAccount account, SeriesPlan plan, IQuerySession session, DateOnly today, CancellationToken ct)
    {
        var patientId = account.Id;
        if (plan.CoverageId is { } coverageId && account.Coverages.All(c => c.CoverageId != coverageId))
            return (null, Problems.Invalid("coverageId", $"{coverageId} is not one of the patient's insurance coverages"));
        var schedule = await session.LoadAsync<FeeSchedule>(FeeSchedule.StreamId, ct);
        for (var i = 0; i < plan.Lines.Count; i++)
        {
            if (schedule?.PriceOn(plan.Lines[i].Code!, plan.FirstOn) is null)
                return (null, Problems.Invalid("lines", $"{plan.Lines[i].Code} has no price in the fee schedule on {Fmt.Date(plan.FirstOn)}"));
        }

        var payers = (await session.Query<Payer>().ToListAsync(ct)).ToDictionary(p => p.Id);
        var coverage = plan.CoverageId is { } id ? account.Coverages.First(c => c.CoverageId == id) : account.InsuranceOn(plan.FirstOn).FirstOrDefault();
        IReadOnlyList<Claim> claims = coverage is null ? []
            : await session.Query<Claim>().Where(c => c.PayerId == coverage.PayerId).OrderByDescending(c => c.FiledAt).Take(SeriesEstimates.ObservedClaims).ToListAsync(ct);
        var authorizations = await session.Query<PriorAuthorization>().Where(a => a.PatientId == patientId).ToListAsync(ct);
        var employers = await session.Query<EmployerAgreement>().Where(a => a.EnrolledPatientIds.Contains(patientId)).ToListAsync(ct);
        var grants = await session.Query<Grant>().Where(g => g.PatientId == patientId).ToListAsync(ct);
        var studies = await session.Query<Study>().Where(s => s.SubjectPatientIds.Contains(patientId)).ToListAsync(ct);
        return (SeriesEstimates.Estimate(account, plan, schedule!, payers.GetValueOrDefault, claims, authorizations, employers, grants, studies, today), null);
    }

    /// <summary>
    /// What a planned series would cost the patient under their insurance (with the range the payer's payments allow) and
    /// paying cash, what an employer, grant or study would cover, and which way is cheaper. Writes nothing.
    /// </summary>
    [PhiRead("estimate")]
    [WolverineGet("/api/patients/{patientId}/estimate"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Eligibility")]
    public static async Task<IResult> Get(
        Guid patientId, int? sessions, string? lines, DateOnly? firstOn, int? intervalDays, Guid? coverageId, string? description, decimal? packagePrice,
        IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        // The patient first: another clinic's patient is a 404 whatever the query.
        if (await session.LoadAsync<PatientAccount>(patientId, ct) is not { } account) return Problems.NotFound($"patient {patientId} does not exist");
        var (plan, field, rule) = Parse(sessions, lines, firstOn, intervalDays, coverageId, description, calendar.Today(), packagePrice);
        if (plan is null) return Problems.Invalid(field!, rule!, StatusCodes.Status400BadRequest);
        var (estimate, problem) = await EstimateAsync(account, plan, session, calendar.Today(), ct);
        return problem ?? Results.Ok(estimate);
    }

    /// <summary>The same estimate as a PDF to hand an insured patient: the comparison, each figure with its range and basis.</summary>
    [PhiRead("estimate-pdf")]
    [WolverineGet("/api/patients/{patientId}/estimate.pdf"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Eligibility")]
    public static async Task<IResult> Pdf(
        Guid patientId, int? sessions, string? lines, DateOnly? firstOn, int? intervalDays, Guid? coverageId, string? description, decimal? packagePrice,
        IQuerySession session, ClinicProfiles profiles, ClinicCalendar calendar, CancellationToken ct)
    {
        if (await session.LoadAsync<PatientAccount>(patientId, ct) is not { } account) return Problems.NotFound($"patient {patientId} does not exist");
        var (plan, field, rule) = Parse(sessions, lines, firstOn, intervalDays, coverageId, description, calendar.Today(), packagePrice);
        if (plan is null) return Problems.Invalid(field!, rule!, StatusCodes.Status400BadRequest);
        var (estimate, problem) = await EstimateAsync(account, plan, session, calendar.Today(), ct);
        if (problem is not null) return problem;
        var clinic = await profiles.CurrentAsync(session, ct);
        return Results.File(PdfRenderer.Render(CostEstimateDocument(account, estimate!, clinic, calendar.Today())), "application/pdf",
            $"cost-estimate-{calendar.Today():yyyyMMdd}.pdf");
    }

    private static string Range(EstimateRange r) => r.ToString();

    public static PdfDocumentModel CostEstimateDocument(PatientAccount account, SeriesEstimate e, ClinicProfile clinic, DateOnly issuedOn)
    {
        var sections = new List<PdfSection>();
        if (e.Insurance is { } i)
        {
            sections.Add(new PdfSection($"With your insurance: {i.Payer}{(i.Plan is { } plan ? $", {plan}" : "")}",
                Facts:
                [
                    ("Eligibility", i.CheckedOn is { } on ? $"{(i.Active == true ? "active" : i.Active == false ? "inactive" : "not answered")}, as the plan answered on {Fmt.Date(on)}" : "not checked with the plan"),
                    ("Deductible left", Fmt.Money(i.DeductibleLeft)), ("Out-of-pocket maximum left", Fmt.Money(i.OutOfPocketLeft)),
                    ("Coinsurance", i.Coinsurance is { } c ? $"{c:0.##}%" : "-"), ("Copay", Fmt.Money(i.Copay)),
                    ("Sessions the plan covers", $"{i.CoveredSessions} of {e.Sessions}"),
                    ("The plan is expected to allow", Range(i.Allowed)), ("The plan is expected to pay", Range(i.PlanPays)),
                    ("You would pay", Range(i.PatientPays)),
                    .. i.CopayProgram > 0 ? new[] { ("Copay assistance may pay", Fmt.Money(i.CopayProgram)), ("You would pay after it", Range(i.PatientAfterProgram)) } : [],
                    ("How sure", i.Confidence)
                ],
                Table: new PdfTable(
                    [new PdfColumn("Code", 0.9), new PdfColumn("Description", 3.0), new PdfColumn("Units", 0.7, PdfAlign.Right), new PdfColumn("Charge", 1.1, PdfAlign.Right),
                        new PdfColumn("Expected allowed", 1.4, PdfAlign.Right), new PdfColumn("Basis", 1.3)],
                    i.Lines.Select(l => (IReadOnlyList<string>)[l.Code, l.Description, l.Units.ToString(CultureInfo.InvariantCulture), Statements.Usd(l.Charge), Range(l.Allowed),
                        l.Basis == "observed" ? $"{l.Observations} payment(s)" : l.Basis]).ToList()),
                Paragraphs: i.Notes));
        }

        sections.Add(new PdfSection("Paying the clinic directly (self-pay)",
            Table: new PdfTable(
                [new PdfColumn("Code", 0.9), new PdfColumn("Description", 3.0), new PdfColumn("Units", 0.7, PdfAlign.Right), new PdfColumn("Price", 1.1, PdfAlign.Right),
                    new PdfColumn("Amount", 1.1, PdfAlign.Right)],
                e.SelfPay.Lines.Select(l => (IReadOnlyList<string>)[l.Code, l.Description, l.Units.ToString(CultureInfo.InvariantCulture), Statements.Usd(l.UnitPrice), Statements.Usd(l.Amount)]).ToList(),
                ["", "Total", "", "", Statements.Usd(e.SelfPay.Total)]),
            Paragraphs:
            [
                .. e.SelfPay.Package is { } package ? new[] { $"The clinic's package price for the series: {Fmt.Money(package)}." } : [],
                $"With the clinic's sliding scale (by household income): {string.Join("; ", e.SelfPay.SlidingScale.Select(s => $"{s.Percent:0}% off, {Fmt.Money(s.Total)}"))}."
            ]));
        if (e.Sponsors.Count > 0)
            sections.Add(new PdfSection("Other help on file", Paragraphs: e.Sponsors.Select(s => $"{s.Name} ({s.Kind}) would cover {Fmt.Money(s.Covers)}; you would pay {Fmt.Money(s.PatientPays)}: {s.Detail}.").ToList()));
        sections.Add(new PdfSection("Which is cheaper", Paragraphs: [e.Advice]));
        return new PdfDocumentModel("Cost estimate", $"Issued {Fmt.Date(issuedOn)}", clinic.IssuerLines(),
            [("Patient", account.Name), ("Date of birth", Fmt.Date(account.DateOfBirth)), ("Treatment", e.Description),
                ("Planned", $"{e.Sessions} session(s), {Fmt.Date(e.FirstOn)} to {Fmt.Date(e.LastOn)}")],
            sections,
            "This is an estimate, not a bill or a guarantee: what your plan pays is decided when it processes each claim. Amounts under insurance come from your plan's " +
            "eligibility answer and what it paid this clinic before; they change as your deductible and out-of-pocket amounts are met.");
    }
}
