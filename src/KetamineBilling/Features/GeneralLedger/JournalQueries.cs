using System.Globalization;
using System.Text;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.GeneralLedger;

/// <summary>A journal line as exported: the clinic's number and name for the account.</summary>
public sealed record JournalLineView(GlAccount Account, string Number, string Name, decimal Debit, decimal Credit);

/// <param name="OriginalDate">A prior-period posting's own date (a fact dated in a month closed before it was recorded); else null.</param>
public sealed record JournalEntryView(
    string Reference, long Sequence, DateOnly Date, string Source, string Description, IReadOnlyList<JournalLineView> Lines, DateOnly? OriginalDate = null);

/// <summary>A period's journal: every entry dated in it, oldest first, and its totals (debits always equal credits).</summary>
public sealed record JournalPeriod(DateOnly From, DateOnly To, int Entries, decimal Debits, decimal Credits, IReadOnlyList<JournalEntryView> Items, int Page, int PageSize);

/// <summary>One account's movement over a period: what it held before, its debits and credits, what it holds after (debit positive).</summary>
public sealed record TrialBalanceRow(GlAccount Account, string Number, string Name, GlAccountType Type, decimal Opening, decimal Debits, decimal Credits, decimal Closing);

public sealed record TrialBalance(DateOnly From, DateOnly To, IReadOnlyList<TrialBalanceRow> Rows, decimal Debits, decimal Credits, decimal ClosingTotal);

public static class JournalQueries
{
    private static ValidationProblems Period(string? from, string? to, out DateOnly start, out DateOnly end)
    {
        var problems = new ValidationProblems();
        start = end = default;
        if (from is null || !DateOnly.TryParseExact(from, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out start))
            problems.Add("from", "is required, a date as yyyy-MM-dd");
        if (to is null || !DateOnly.TryParseExact(to, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out end))
            problems.Add("to", "is required, a date as yyyy-MM-dd");
        else if (!problems.Any && end < start) problems.Add("to", "must not be before from");
        else if (!problems.Any && end.DayNumber - start.DayNumber > 731) problems.Add("to", "must be at most two years after from");
        return problems;
    }

    public static async Task<IReadOnlyList<JournalEntry>> EntriesAsync(IQuerySession session, DateOnly from, DateOnly to, CancellationToken ct) =>
        await session.Query<JournalEntry>().Where(e => e.Date >= from && e.Date <= to).OrderBy(e => e.Date).ThenBy(e => e.Sequence).ToListAsync(ct);

    public static JournalEntryView View(JournalEntry e, Chart chart) => new(e.Reference, e.Sequence, e.Date, e.Source, e.Description,
        e.Lines.Select(l => new JournalLineView(l.Account, chart[l.Account].Number, chart[l.Account].Name, l.Debit, l.Credit)).ToList(), e.OriginalDate);

    /// <summary>The description an export carries: a prior-period posting says so, with its own date.</summary>
    public static string ExportDescription(JournalEntry e) =>
        e.OriginalDate is { } original ? $"{e.Description} (prior period: dated {original.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture)})" : e.Description;

    /// <summary>
    /// The journal of the days from..to (posting dates, inclusive): JSON in pages, or the whole period as CSV (the columns of a
    /// QuickBooks Online journal import) or as an IIF file (QuickBooks Desktop's import: one GENERAL JOURNAL transaction an entry).
    /// </summary>
    [WolverineGet("/api/books/journal"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("General ledger")]
    public static async Task<IResult> Get(string? from, string? to, string? format, int? page, int? pageSize, IQuerySession session, CancellationToken ct)
    {
        var problems = Period(from, to, out var start, out var end);
        if (format is not (null or "json" or "csv" or "iif")) problems.Add("format", "must be json, csv or iif");
        if (page is < 1) problems.Add("page", "must be 1 or more");
        if (pageSize is < 1 or > 500) problems.Add("pageSize", "must be from 1 to 500");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

        var chart = await ClinicChart.LoadAsync(session, ct);
        var name = $"journal-{start:yyyy-MM-dd}-to-{end:yyyy-MM-dd}";
        if (format == "csv") return CsvText.Download(Csv(await EntriesAsync(session, start, end, ct), chart), $"{name}.csv");
        if (format == "iif") return Results.File(Encoding.UTF8.GetBytes(Iif(await EntriesAsync(session, start, end, ct), chart)), "text/plain; charset=utf-8", $"{name}.iif");

        // A page of entries from the database; the period's count and totals from the trial balance (month tallies and cut days).
        var (p, size) = (page ?? 1, pageSize ?? 100);
        var inPeriod = session.Query<JournalEntry>().Where(e => e.Date >= start && e.Date <= end);
        var count = await inPeriod.CountAsync(ct);
        var items = await inPeriod.OrderBy(e => e.Date).ThenBy(e => e.Sequence).Skip((p - 1) * size).Take(size).ToListAsync(ct);
        var trial = await TrialBalanceAsync(session, start, end, ct, chart);
        return Results.Ok(new JournalPeriod(start, end, count, trial.Debits, trial.Credits, items.Select(e => View(e, chart)).ToList(), p, size));
    }

    /// <summary>Every account's opening balance, debits, credits and closing balance over the days from..to.</summary>
    [WolverineGet("/api/books/trial-balance"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("General ledger")]
    public static async Task<IResult> GetTrialBalance(string? from, string? to, IQuerySession session, CancellationToken ct)
    {
        var problems = Period(from, to, out var start, out var end);
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        return Results.Ok(await TrialBalanceAsync(session, start, end, ct, await ClinicChart.LoadAsync(session, ct)));
    }

    /// <summary>
    /// The trial balance from the month tallies (<see cref="JournalMonth"/>) for every whole month before and within the period,
    /// and the entries only for the days of the months its ends cut: a few documents a month, whatever the store's size.
    /// </summary>
    public static async Task<TrialBalance> TrialBalanceAsync(IQuerySession session, DateOnly from, DateOnly to, CancellationToken ct, Chart? chart = null)
    {
        static DateOnly MonthOf(DateOnly d) => new(d.Year, d.Month, 1);
        var (opening, debits, credits) = (new Dictionary<string, decimal>(), new Dictionary<string, decimal>(), new Dictionary<string, decimal>());
        static void Sum(Dictionary<string, decimal> into, IReadOnlyDictionary<string, decimal> amounts, int sign = 1)
        {
            foreach (var (k, v) in amounts) into[k] = into.GetValueOrDefault(k) + sign * v;
        }

        // Whole months: those before the period's first month open it; those inside it (from the 1st to the month's end) are its movement.
        var firstWhole = from.Day == 1 ? from : MonthOf(from).AddMonths(1);
        var afterLastWhole = to == MonthOf(to).AddMonths(1).AddDays(-1) ? MonthOf(to).AddMonths(1) : MonthOf(to);
        foreach (var month in await session.Query<JournalMonth>().Where(m => m.Month < afterLastWhole).ToListAsync(ct))
        {
            if (month.Month < MonthOf(from))
            {
                Sum(opening, month.Debits);
                Sum(opening, month.Credits, -1);
            }
            else if (month.Month >= firstWhole)
            {
                Sum(debits, month.Debits);
                Sum(credits, month.Credits);
            }
        }

        // Days of a cut month: before the period they open it, inside it they are its movement.
        var days = new List<(DateOnly From, DateOnly To)>();
        if (from.Day != 1) days.Add((MonthOf(from), to < firstWhole ? to : firstWhole.AddDays(-1)));
        if (afterLastWhole == MonthOf(to) && MonthOf(to) >= firstWhole) days.Add((MonthOf(to), to));
        foreach (var (start, end) in days)
        {
            foreach (var entry in await EntriesAsync(session, start, end, ct))
            {
                foreach (var line in entry.Lines)
                {
                    var key = line.Account.ToString();
                    if (entry.Date < from)
                    {
                        opening[key] = opening.GetValueOrDefault(key) + line.Debit - line.Credit;
                    }
                    else
                    {
                        debits[key] = debits.GetValueOrDefault(key) + line.Debit;
                        credits[key] = credits.GetValueOrDefault(key) + line.Credit;
                    }
                }
            }
        }

        var rows = (chart ?? Chart.Default).Accounts.Select(a =>
        {
            var key = a.Account.ToString();
            var (before, d, c) = (opening.GetValueOrDefault(key), debits.GetValueOrDefault(key), credits.GetValueOrDefault(key));
            return new TrialBalanceRow(a.Account, a.Number, a.Name, a.Type, before, d, c, before + d - c);
        }).Where(r => r is not { Opening: 0m, Debits: 0m, Credits: 0m }).ToList();
        return new TrialBalance(from, to, rows, rows.Sum(r => r.Debits), rows.Sum(r => r.Credits), rows.Sum(r => r.Closing));
    }

    public static string Csv(IEnumerable<JournalEntry> entries, Chart? chart = null)
    {
        chart ??= Chart.Default;
        var text = new StringBuilder("JournalNo,JournalDate,AccountNumber,AccountName,Debits,Credits,Description,Source\n");
        foreach (var e in entries)
        {
            foreach (var l in e.Lines)
            {
                text.Append(string.Join(',', e.Reference, CsvText.Date(e.Date), chart[l.Account].Number, CsvText.Field(chart[l.Account].Name),
                    l.Debit == 0 ? "" : CsvText.Money(l.Debit), l.Credit == 0 ? "" : CsvText.Money(l.Credit), CsvText.Field(ExportDescription(e)), e.Source)).Append('\n');
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// QuickBooks Desktop's IIF: a header for transactions and their splits, then each entry as a GENERAL JOURNAL transaction
    /// (its first line) with its other lines as splits; amounts are debits positive, credits negative; accounts by name.
    /// </summary>
    public static string Iif(IEnumerable<JournalEntry> entries, Chart? chart = null)
    {
        chart ??= Chart.Default;
        static string Clean(string value) => value.Replace('\t', ' ').Replace('\r', ' ').Replace('\n', ' ').Replace("\"", "'", StringComparison.Ordinal);
        var text = new StringBuilder();
        text.Append("!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tAMOUNT\tDOCNUM\tMEMO\n");
        text.Append("!SPL\tSPLID\tTRNSTYPE\tDATE\tACCNT\tAMOUNT\tDOCNUM\tMEMO\n");
        text.Append("!ENDTRNS\n");
        foreach (var e in entries)
        {
            var date = e.Date.ToString("MM/dd/yyyy", CultureInfo.InvariantCulture);
            for (var i = 0; i < e.Lines.Count; i++)
            {
                var l = e.Lines[i];
                text.Append(i == 0 ? "TRNS" : "SPL").Append("\t\tGENERAL JOURNAL\t").Append(date).Append('\t').Append(Clean(chart[l.Account].Name)).Append('\t')
                    .Append((l.Debit - l.Credit).ToString("0.00", CultureInfo.InvariantCulture)).Append('\t').Append(e.Reference).Append('\t')
                    .Append(Clean(ExportDescription(e))).Append('\n');
            }

            text.Append("ENDTRNS\n");
        }

        return text.ToString();
    }

    /// <summary>The clinic's chart of accounts: each account the journal posts to, with the clinic's number and name for it, and its type.</summary>
    [WolverineGet("/api/books/accounts"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("General ledger")]
    public static async Task<IReadOnlyList<ChartAccount>> GetAccounts(IQuerySession session, CancellationToken ct) => (await ClinicChart.LoadAsync(session, ct)).Accounts;
}
