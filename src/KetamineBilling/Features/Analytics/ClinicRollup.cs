using System.Security.Claims;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Analytics;

/// <summary>One payer's claims of the period, as payer performance counts them (summed over the months).</summary>
public sealed record PayerSummary(string Payer, int ClaimsFiled, int Lines, int DeniedLines, decimal Billed, decimal Allowed, decimal Paid, decimal? PaidShareOfBilled);

/// <summary>A clinic's figures of the period (or the roll-up's total): its KPIs, its A/R by age today, its payers.</summary>
public sealed record ClinicFigures(
    string Clinic, string Name, decimal GrossCharges, decimal Collections, decimal ContractualAdjustments, decimal CurrentReceivables,
    decimal? DaysInAr, decimal? GrossCollectionRate, decimal? NetCollectionRate, int ClaimsFiled, int ClaimsAnswered,
    AgingRow Aging, IReadOnlyList<PayerSummary> Payers);

/// <param name="Clinics">Each clinic the caller works for, by name.</param>
/// <param name="Total">Every clinic together: money added up, rates and days in A/R computed again from the sums (never averaged).</param>
public sealed record ClinicRollupReport(string From, string To, DateOnly AsOf, IReadOnlyList<ClinicFigures> Clinics, ClinicFigures Total);

/// <summary>
/// A billing company's view across its clinics (issue 16): each clinic's KPIs, aging and payer performance, read in that
/// clinic's own session (the clinic's data only, as its own reports read it), and the total of the clinics the caller
/// works for. A clinic the caller does not work for is never read.
/// </summary>
public static class ClinicRollup
{
    public static ClinicFigures Of(string clinic, string name, KpiReport kpis, ArAgingReport aging, PayerPerformanceReport payers) => new(
        clinic, name, kpis.GrossCharges, kpis.Collections, kpis.ContractualAdjustments, kpis.CurrentReceivables, kpis.DaysInAr,
        kpis.GrossCollectionRate, kpis.NetCollectionRate, kpis.ClaimsFiled, kpis.ClaimsAnswered, aging.Total with { Name = name },
        PayersOf(payers.ByMonth));

    private static IReadOnlyList<PayerSummary> PayersOf(IEnumerable<PayerMonthRow> rows) =>
        rows.GroupBy(r => r.Payer, StringComparer.Ordinal)
            .Select(g => Summary(g.Key, g.Sum(r => Count(r, "claimsFiled")), g.Sum(r => Count(r, "lines")), g.Sum(r => Count(r, "deniedLines")),
                g.Sum(r => Money(r, "billed")), g.Sum(r => Money(r, "allowed")), g.Sum(r => Money(r, "paid"))))
            .OrderByDescending(p => p.Billed).ThenBy(p => p.Payer, StringComparer.Ordinal).ToList();

    private static int Count(PayerMonthRow row, string figure) => (int)(row.Figures.GetValueOrDefault(figure) ?? 0);

    private static decimal Money(PayerMonthRow row, string figure) => row.Figures.GetValueOrDefault(figure) ?? 0m;

    private static PayerSummary Summary(string payer, int claims, int lines, int denied, decimal billed, decimal allowed, decimal paid) =>
        new(payer, claims, lines, denied, billed, allowed, paid, Rates.Of(paid, billed));

    /// <summary>
    /// The clinics together: amounts and counts added up; the rates and days in A/R from the sums, as a clinic's own are
    /// computed from its amounts; payers of the same name (the same insurer billed by several clinics) together.
    /// </summary>
    public static ClinicFigures Total(IReadOnlyList<ClinicFigures> clinics, int days)
    {
        var gross = clinics.Sum(c => c.GrossCharges);
        var collected = clinics.Sum(c => c.Collections);
        var contractual = clinics.Sum(c => c.ContractualAdjustments);
        var receivables = clinics.Sum(c => c.CurrentReceivables);
        var aging = new AgingRow(null, null, "All clinics",
            clinics.Sum(c => c.Aging.Days0To30), clinics.Sum(c => c.Aging.Days31To60), clinics.Sum(c => c.Aging.Days61To90),
            clinics.Sum(c => c.Aging.Days91To120), clinics.Sum(c => c.Aging.Over120), clinics.Sum(c => c.Aging.Total), clinics.Sum(c => c.Aging.Sessions));
        var payers = clinics.SelectMany(c => c.Payers).GroupBy(p => p.Payer, StringComparer.Ordinal)
            .Select(g => Summary(g.Key, g.Sum(p => p.ClaimsFiled), g.Sum(p => p.Lines), g.Sum(p => p.DeniedLines), g.Sum(p => p.Billed), g.Sum(p => p.Allowed), g.Sum(p => p.Paid)))
            .OrderByDescending(p => p.Billed).ThenBy(p => p.Payer, StringComparer.Ordinal).ToList();
        return new ClinicFigures("*", "All clinics", gross, collected, contractual, receivables,
            gross == 0 ? null : Math.Round(receivables / (gross / days), 1, MidpointRounding.ToEven),
            Rates.Of(collected, gross), Rates.Of(collected, gross - contractual),
            clinics.Sum(c => c.ClaimsFiled), clinics.Sum(c => c.ClaimsAnswered), aging, payers);
    }
}

public static class ClinicRollupEndpoint
{
    /// <summary>Each clinic the caller works for, and all of them together, for the months from..to (aging: today).</summary>
    [WolverineGet("/api/analytics/clinics"), Authorize(Policy = Policies.FinanceOrBilling), NotTenanted]
    [Tags("Analytics")]
    public static async Task<IResult> Get(string? from, string? to, ClaimsPrincipal user, UserAccounts accounts, Clinics clinics,
        IDocumentStore store, ClinicCalendar calendar, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        var range = MonthRange.Parse(problems, from, to);
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        var (start, end) = range!.Value;

        var mine = await AccountChanges.CallerClinicsAsync(user, accounts, ct);
        var names = (await clinics.ListAsync(ct)).ToDictionary(c => c.Id, c => c.Name);
        var today = calendar.Today();
        var figures = new List<ClinicFigures>();
        foreach (var clinic in mine.Where(names.ContainsKey))
        {
            await using var session = store.QuerySession(clinic);
            figures.Add(ClinicRollup.Of(clinic, names[clinic],
                await Kpis.BuildAsync(session, start, end, from!, to!, null, ct),
                await ArAging.BuildAsync(session, today, ct),
                await PayerPerformance.BuildAsync(session, from!, to!, null, null, ct)));
        }

        figures = figures.OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        return Results.Ok(new ClinicRollupReport(from!, to!, today, figures, ClinicRollup.Total(figures, end.DayNumber - start.DayNumber + 1)));
    }
}
