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
/// the claims' standing adjudications as <see cref="PayerMonthProjection"/> tallies them. Out-of-network reimbursements patients reported are counted by the month
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

    /// <summary>The infusion's code: its average paid counts the drug lines billed with it.</summary>
    public const string InfusionCode = "96365";

    /// <summary>Codes billed as the drug of an infusion (96365): their payment counts toward the infusion's.</summary>
    public static readonly HashSet<string> DrugCodes = ["J3490", "S0013", "J0013"];

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

    /// <summary>
    /// The report from the <see cref="PayerMonth"/> documents of the range (a few per payer and month, however many
    /// claims): as current as the asynchronous projection that keeps them, usually within a second of the ledger.
    /// </summary>
    public static async Task<PayerPerformanceReport> BuildAsync(
        IQuerySession session, string from, string to, Guid? payerId, string? code, CancellationToken ct)
    {
        var payers = (await session.Query<Payer>().ToListAsync(ct)).ToDictionary(p => p.Id, p => p.Name);
        var months = Months(from, to);
        var query = session.Query<PayerMonth>().Where(m => m.Month.IsOneOf(months.ToArray()));
        if (payerId is { } only) query = query.Where(m => m.PayerId == only);
        var stored = (await query.ToListAsync(ct)).ToDictionary(m => (m.PayerId, m.Month));
        var payerIds = stored.Keys.Select(k => k.PayerId).Distinct().OrderBy(id => payers.GetValueOrDefault(id, ""), StringComparer.Ordinal).ToList();
        var none = new PayerTally();

        var byMonth = new List<PayerMonthRow>();
        var byCode = new List<PayerMonthRow>();
        foreach (var payer in payerIds)
        {
            var name = payers.GetValueOrDefault(payer, "Unknown payer");
            PayerMonth? Of(string month) => stored.GetValueOrDefault((payer, month));
            byMonth.AddRange(Series(payer, name, null, months, month => Figures(Of(month)?.Total ?? none, withClaims: true), code is null));
            var codes = months.SelectMany(m => Of(m)?.ByCode.Keys ?? Enumerable.Empty<string>()).Distinct().Where(c => code is null || c == code).Order(StringComparer.Ordinal);
            foreach (var c in codes)
            {
                byCode.AddRange(Series(payer, name, c, months, month => Figures(Of(month)?.ByCode.GetValueOrDefault(c) ?? none, withClaims: false), true));
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

    /// <summary>The figures of a tally: sums as they are, rates and averages from them (null with nothing to divide).</summary>
    private static (Dictionary<string, decimal?>, IReadOnlyList<DenialReason>) Figures(PayerTally t, bool withClaims)
    {
        var reasons = t.Denials.Select(d => new DenialReason(d.Key, d.Value.Lines, d.Value.Billed))
            .OrderByDescending(r => r.Lines).ThenByDescending(r => r.Billed).ThenBy(r => r.Carc, StringComparer.Ordinal).Take(3).ToList();
        var days = withClaims ? t.DaysToPayValues() : [];
        return (new Dictionary<string, decimal?>
        {
            ["claimsFiled"] = withClaims ? t.Claims : null,
            ["lines"] = t.Lines,
            ["billed"] = t.Billed,
            ["allowed"] = t.Allowed,
            ["paid"] = t.Paid,
            ["patientResponsibility"] = t.PatientResponsibility,
            ["contractualAdjustments"] = t.Contractual,
            ["reimbursementRate"] = Rates.Of(t.Paid, t.Billed),
            ["averagePaidPerInfusion"] = t.Infusions == 0 ? null : Math.Round(t.InfusionPaid / t.Infusions, 2, MidpointRounding.ToEven),
            ["daysToPayMedian"] = withClaims ? Median(days) : null,
            ["daysToPayP90"] = withClaims ? Percentile(days, 90) : null,
            ["deniedLines"] = t.DeniedLines,
            ["denialRateByCount"] = Rates.Of(t.DeniedLines, t.AdjudicatedLines),
            ["denialRateByDollars"] = Rates.Of(t.DeniedBilled, t.AdjudicatedBilled),
            ["authorizationsDecided"] = withClaims ? t.AuthorizationsDecided : null,
            ["authorizationApprovalRate"] = withClaims ? Rates.Of(t.AuthorizationsApproved, t.AuthorizationsDecided) : null,
            ["outOfNetworkReimbursements"] = withClaims ? t.OutOfNetworkReimbursements : null,
            ["outOfNetworkAmount"] = withClaims ? t.OutOfNetworkAmount : null
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
        string? from, string? to, Guid? payerId, string? code, string? format, IQuerySession session, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        MonthRange.Parse(problems, from, to);
        if (code is not null && (code.Length is < 4 or > 5 || !code.All(char.IsLetterOrDigit))) problems.Add("code", "must be a HCPCS/CPT code (4-5 letters or digits)");
        if (format is not (null or "json" or "csv")) problems.Add("format", "must be json or csv");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        if (payerId is { } id && await session.LoadAsync<Payer>(id, ct) is null) return Problems.NotFound($"payer {id} does not exist");

        var report = await PayerPerformance.BuildAsync(session, from!, to!, payerId, code?.ToUpperInvariant(), ct);
        return format == "csv" ? CsvText.Download(PayerPerformanceCsv.Write(report), $"payer-performance-{from}-{to}.csv") : Results.Ok(report);
    }
}
