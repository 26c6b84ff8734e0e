using System.Text;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Analytics;

/// <summary>One payer's figures for one month (and one code, when broken down by code), with the change from the month before.</summary>
/// <param name="Figures">By name (see <see cref="PayerPerformance.FigureNames"/>); a rate or an average with nothing to divide is null.</param>
/// <param name="Change">Each figure minus the same figure of the previous month (null when either is null or there is no previous month in range).</param>
/// <param name="TopDenialReasons">The CARC codes of the month's denied lines, most frequent first (at most three).</param>
public sealed record PayerMonthRow(
    Guid PayerId, string Payer, string Month, string? Code, IReadOnlyDictionary<string, decimal?> Figures, IReadOnlyDictionary<string, decimal?> Change,
    IReadOnlyList<DenialReason> TopDenialReasons);

/// <summary>A CARC code, the number of denied lines that carry it, and their billed amount.</summary>
public sealed record DenialReason(string Carc, int Lines, decimal Billed);

public sealed record PayerPerformanceReport(string From, string To, IReadOnlyList<string> Figures, IReadOnlyList<PayerMonthRow> ByMonth, IReadOnlyList<PayerMonthRow> ByCode);

/// <summary>
/// Payer performance by the month claims were filed (a cohort: what became of the claims filed that month), from
/// the claims' standing adjudications. Out-of-network reimbursements patients reported are counted by the month
/// they were received and never mixed into the in-network figures. Authorization approval rate: authorizations
/// requested that month and decided, the share approved.
/// </summary>
public static class PayerPerformance
{
    public static readonly string[] FigureNames =
    [
        "claimsFiled", "lines", "billed", "allowed", "paid", "patientResponsibility", "contractualAdjustments", "reimbursementRate",
        "averagePaidPerInfusion", "daysToPayMedian", "daysToPayP90", "deniedLines", "denialRateByCount", "denialRateByDollars",
        "authorizationsDecided", "authorizationApprovalRate", "outOfNetworkReimbursements", "outOfNetworkAmount"
    ];

    /// <summary>Codes billed as the drug of an infusion (96365): their payment counts toward the infusion's.</summary>
    private static readonly HashSet<string> DrugCodes = ["J3490", "S0013", "J0013"];

    public sealed record Line(Guid PayerId, string Month, string Code, Guid ClaimId, Guid SessionId, decimal Billed, bool Adjudicated, decimal Allowed, decimal Paid,
        decimal PatientResponsibility, decimal Contractual, bool Denied, IReadOnlyList<string> DenialReasons);

    /// <summary>What payer performance reads of a claim: its lines and standing adjudications, not its history.</summary>
    public sealed class ClaimFacts
    {
        public Guid Id { get; set; }
        public Guid PayerId { get; set; }
        public DateTimeOffset FiledAt { get; set; }
        public List<ClaimLine> Lines { get; set; } = [];
        public List<ClaimAdjudicated> Adjudications { get; set; } = [];

        public static ClaimFacts Of(Claim c) => new() { Id = c.Id, PayerId = c.PayerId, FiledAt = c.FiledAt, Lines = c.Lines, Adjudications = c.Adjudications };
    }

    /// <summary>The claims filed in the range, as facts: PostgreSQL sends only the fields the figures need.</summary>
    public static async Task<List<ClaimFacts>> FactsAsync(IQuerySession session, DateOnly first, DateOnly last, Guid? payerId, CancellationToken ct)
    {
        var query = session.Query<Claim>().FiledBetween(first, last);
        if (payerId is { } only) query = query.Where(c => c.PayerId == only);
        return (await query.Select(c => new ClaimFacts { Id = c.Id, PayerId = c.PayerId, FiledAt = c.FiledAt, Lines = c.Lines, Adjudications = c.Adjudications })
            .ToListAsync(ct)).ToList();
    }

    public static IEnumerable<Line> LinesOf(Claim claim, TimeZoneInfo zone) => LinesOf(ClaimFacts.Of(claim), zone);

    /// <summary>The claim lines with what their standing adjudications say about them.</summary>
    public static IEnumerable<Line> LinesOf(ClaimFacts claim, TimeZoneInfo zone)
    {
        var month = Month(claim.FiledAt, zone);
        foreach (var line in claim.Lines)
        {
            var answers = claim.Adjudications.SelectMany(a => a.Lines).Where(l => l.LineNumber == line.LineNumber).ToList();
            var paid = answers.Sum(a => a.Paid);
            var pr = answers.SelectMany(a => a.Adjustments).Where(x => x.Group == "PR").Sum(x => x.Amount);
            var denied = answers.Count > 0 && paid == 0 && pr == 0;
            var others = answers.SelectMany(a => a.Adjustments).Where(x => x.Group != "PR").ToList();
            yield return new Line(claim.PayerId, month, line.Code, claim.Id, line.SessionId, line.Charge, answers.Count > 0, answers.Sum(a => a.Allowed), paid, pr,
                denied ? 0m : others.Sum(x => x.Amount), denied, denied ? others.Select(x => x.Reason).Distinct().ToList() : []);
        }
    }

    public static string Month(DateTimeOffset at, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(at, zone).ToString("yyyy-MM");

    /// <summary>Days from filing to the first adjudication that paid something; null if none has.</summary>
    public static int? DaysToPay(ClaimFacts claim, TimeZoneInfo zone)
    {
        var first = claim.Adjudications.Where(a => a.Paid > 0).OrderBy(a => a.AdjudicatedAt).FirstOrDefault();
        return first is null ? null : Local(first.AdjudicatedAt, zone).DayNumber - Local(claim.FiledAt, zone).DayNumber;
    }

    private static DateOnly Local(DateTimeOffset at, TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);

    /// <summary>The median: the middle value, or the mean of the two middle values.</summary>
    public static decimal? Median(IReadOnlyList<int> values)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToList();
        var mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2m;
    }

    /// <summary>The nearest-rank percentile: the smallest value with at least p% of the values at or below it.</summary>
    public static decimal? Percentile(IReadOnlyList<int> values, int p)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100m * sorted.Count);
        return sorted[Math.Max(rank, 1) - 1];
    }

    public static async Task<PayerPerformanceReport> BuildAsync(
        IQuerySession session, string from, string to, Guid? payerId, string? code, TimeZoneInfo zone, CancellationToken ct)
    {
        var payers = (await session.Query<Payer>().ToListAsync(ct)).ToDictionary(p => p.Id, p => p.Name);
        bool InRange(string month) => string.CompareOrdinal(month, from) >= 0 && string.CompareOrdinal(month, to) <= 0;
        var first = Employers.Months.Parse(from)!.Value.Start;
        var last = Employers.Months.Parse(to)!.Value.End;
        var claims = (await FactsAsync(session, first, last, payerId, ct))
            .Where(c => InRange(Month(c.FiledAt, zone)))
            .ToList();
        var authorizations = (await session.Query<PriorAuthorization>().ToListAsync(ct))
            .Where(a => payerId is null || a.PayerId == payerId)
            .Select(a => (a.PayerId, Month: a.RequestedOn.ToString("yyyy-MM"), a.Status))
            .Where(a => InRange(a.Month))
            .ToList();
        // Only the accounts that have a reported reimbursement (a handful), not every account.
        var outOfNetwork = (await session.Query<PatientAccount>().Where(a => a.OutOfNetworkReimbursements.Any()).ToListAsync(ct))
            .SelectMany(a => a.OutOfNetworkReimbursements)
            .Where(r => payerId is null || r.PayerId == payerId)
            .Select(r => (r.PayerId, Month: r.ReceivedOn.ToString("yyyy-MM"), r.Amount))
            .Where(r => InRange(r.Month))
            .ToList();

        var lines = claims.SelectMany(c => LinesOf(c, zone)).ToList();
        var daysToPay = claims.Select(c => (c.PayerId, Month: Month(c.FiledAt, zone), Days: DaysToPay(c, zone))).Where(x => x.Days is not null).ToList();
        var months = Months(from, to);
        var payerIds = lines.Select(l => l.PayerId).Concat(authorizations.Select(a => a.PayerId)).Concat(outOfNetwork.Select(o => o.PayerId)).Distinct()
            .OrderBy(id => payers.GetValueOrDefault(id, ""), StringComparer.Ordinal).ToList();

        var byMonth = new List<PayerMonthRow>();
        var byCode = new List<PayerMonthRow>();
        foreach (var payer in payerIds)
        {
            var name = payers.GetValueOrDefault(payer, "Unknown payer");
            byMonth.AddRange(Series(payer, name, null, months, month =>
            {
                var auth = authorizations.Where(a => a.PayerId == payer && a.Month == month && a.Status != AuthorizationStatus.Requested).ToList();
                var oon = outOfNetwork.Where(o => o.PayerId == payer && o.Month == month).ToList();
                return Figures(
                    lines.Where(l => l.PayerId == payer && l.Month == month).ToList(),
                    daysToPay.Where(d => d.PayerId == payer && d.Month == month).Select(d => d.Days!.Value).ToList(),
                    auth.Count, auth.Count(a => a.Status != AuthorizationStatus.Denied), oon.Count, oon.Sum(o => o.Amount), withClaims: true);
            }, code is null));
            foreach (var c in lines.Where(l => l.PayerId == payer).Select(l => l.Code).Distinct().Where(c => code is null || c == code).Order(StringComparer.Ordinal))
            {
                byCode.AddRange(Series(payer, name, c, months, month =>
                    Figures(lines.Where(l => l.PayerId == payer && l.Month == month && l.Code == c).ToList(), [], 0, 0, 0, 0m, withClaims: false), true));
            }
        }

        return new PayerPerformanceReport(from, to, FigureNames, byMonth, byCode);
    }

    private static IEnumerable<PayerMonthRow> Series(
        Guid payer, string name, string? code, IReadOnlyList<string> months, Func<string, (Dictionary<string, decimal?>, IReadOnlyList<DenialReason>)> figuresOf, bool include)
    {
        if (!include) yield break;
        Dictionary<string, decimal?>? previous = null;
        foreach (var month in months)
        {
            var (figures, reasons) = figuresOf(month);
            var change = figures.ToDictionary(f => f.Key,
                f => previous is not null && f.Value is { } now && previous[f.Key] is { } before ? now - before : (decimal?)null);
            yield return new PayerMonthRow(payer, name, month, code, figures, change, reasons);
            previous = figures;
        }
    }

    private static (Dictionary<string, decimal?>, IReadOnlyList<DenialReason>) Figures(
        IReadOnlyList<Line> lines, IReadOnlyList<int> daysToPay, int authorizationsDecided, int authorizationsApproved, int oonCount, decimal oonAmount, bool withClaims)
    {
        var adjudicated = lines.Where(l => l.Adjudicated).ToList();
        var denied = adjudicated.Where(l => l.Denied).ToList();
        var infusions = adjudicated.Where(l => l.Code == "96365").ToList();
        var infusionPaid = infusions.Sum(i => i.Paid + adjudicated.Where(d => d.ClaimId == i.ClaimId && d.SessionId == i.SessionId && DrugCodes.Contains(d.Code)).Sum(d => d.Paid));
        var billed = lines.Sum(l => l.Billed);
        var reasons = denied.SelectMany(l => l.DenialReasons.Select(r => (Reason: r, Line: l))).GroupBy(x => x.Reason)
            .Select(g => new DenialReason(g.Key, g.Count(), g.Sum(x => x.Line.Billed)))
            .OrderByDescending(r => r.Lines).ThenByDescending(r => r.Billed).ThenBy(r => r.Carc, StringComparer.Ordinal).Take(3).ToList();
        return (new Dictionary<string, decimal?>
        {
            ["claimsFiled"] = withClaims ? lines.Select(l => l.ClaimId).Distinct().Count() : null,
            ["lines"] = lines.Count,
            ["billed"] = billed,
            ["allowed"] = adjudicated.Sum(l => l.Allowed),
            ["paid"] = lines.Sum(l => l.Paid),
            ["patientResponsibility"] = lines.Sum(l => l.PatientResponsibility),
            ["contractualAdjustments"] = lines.Sum(l => l.Contractual),
            ["reimbursementRate"] = Rates.Of(lines.Sum(l => l.Paid), billed),
            ["averagePaidPerInfusion"] = infusions.Count == 0 ? null : Math.Round(infusionPaid / infusions.Count, 2, MidpointRounding.ToEven),
            ["daysToPayMedian"] = withClaims ? Median(daysToPay) : null,
            ["daysToPayP90"] = withClaims ? Percentile(daysToPay, 90) : null,
            ["deniedLines"] = denied.Count,
            ["denialRateByCount"] = Rates.Of(denied.Count, adjudicated.Count),
            ["denialRateByDollars"] = Rates.Of(denied.Sum(l => l.Billed), adjudicated.Sum(l => l.Billed)),
            ["authorizationsDecided"] = withClaims ? authorizationsDecided : null,
            ["authorizationApprovalRate"] = withClaims ? Rates.Of(authorizationsApproved, authorizationsDecided) : null,
            ["outOfNetworkReimbursements"] = withClaims ? oonCount : null,
            ["outOfNetworkAmount"] = withClaims ? oonAmount : null
        }, reasons);
    }

    public static IReadOnlyList<string> Months(string from, string to)
    {
        var months = new List<string>();
        var (start, _) = KetamineBilling.Features.Employers.Months.Parse(from)!.Value;
        var (last, _) = KetamineBilling.Features.Employers.Months.Parse(to)!.Value;
        for (var m = start; m <= last; m = m.AddMonths(1)) months.Add(m.ToString("yyyy-MM"));
        return months;
    }
}

public static class PayerPerformanceCsv
{
    public static string Write(PayerPerformanceReport report)
    {
        var text = new StringBuilder();
        var header = "view,payer_id,payer,month,code," + string.Join(',', report.Figures.Select(Snake)) + "," +
                     string.Join(',', report.Figures.Select(f => "change_" + Snake(f))) + ",top_denial_reasons\n";
        text.Append(header);
        foreach (var (view, rows) in new[] { ("by-month", report.ByMonth), ("by-code", report.ByCode) })
        {
            foreach (var r in rows)
            {
                text.Append(string.Join(',',
                    view, r.PayerId, CsvText.Field(r.Payer), r.Month, CsvText.Field(r.Code),
                    string.Join(',', report.Figures.Select(f => Number(r.Figures[f]))),
                    string.Join(',', report.Figures.Select(f => Number(r.Change[f]))),
                    CsvText.Field(string.Join("; ", r.TopDenialReasons.Select(d => $"{d.Carc} ({d.Lines})")))));
                text.Append('\n');
            }
        }

        return text.ToString();
    }

    private static string Number(decimal? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";

    private static string Snake(string name) => string.Concat(name.Select(c => char.IsUpper(c) ? "_" + char.ToLowerInvariant(c) : c.ToString()));
}

public static class PayerPerformanceEndpoint
{
    /// <summary>Payer performance by payer and month and by payer, month and code, for the months claims were filed in.</summary>
    /// <param name="from">First month, yyyy-MM.</param>
    /// <param name="to">Last month, yyyy-MM (at most 36 months after from).</param>
    /// <param name="format">json (default) or csv.</param>
    [WolverineGet("/api/analytics/payers"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("Analytics")]
    public static async Task<IResult> Get(
        string? from, string? to, Guid? payerId, string? code, string? format, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        MonthRange.Parse(problems, from, to);
        if (code is not null && (code.Length is < 4 or > 5 || !code.All(char.IsLetterOrDigit))) problems.Add("code", "must be a HCPCS/CPT code (4-5 letters or digits)");
        if (format is not (null or "json" or "csv")) problems.Add("format", "must be json or csv");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        if (payerId is { } id && await session.LoadAsync<Payer>(id, ct) is null) return Problems.NotFound($"payer {id} does not exist");

        var report = await PayerPerformance.BuildAsync(session, from!, to!, payerId, code?.ToUpperInvariant(), calendar.Zone, ct);
        return format == "csv" ? CsvText.Download(PayerPerformanceCsv.Write(report), $"payer-performance-{from}-{to}.csv") : Results.Ok(report);
    }
}
