using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Analytics;

/// <summary>A share of the whole: charges or collections of one source.</summary>
public sealed record MixShare(string Source, Guid? PayerId, decimal Amount, decimal? Share);

/// <summary>
/// Revenue-cycle KPIs for a period (months, by the clinic's calendar), of the whole clinic or of one payer (PayerId).
/// Definitions in docs/api.md.
/// </summary>
public sealed record KpiReport(
    string From, string To, Guid? PayerId, int Days, decimal GrossCharges, decimal Collections, decimal ContractualAdjustments, decimal CurrentReceivables,
    decimal? DaysInAr, decimal? GrossCollectionRate, decimal? NetCollectionRate, decimal? DenialRate, decimal? CleanClaimRate, decimal? FirstPassResolutionRate,
    int ClaimsFiled, int ClaimsAnswered, IReadOnlyList<MixShare> PayerMixByCharges, IReadOnlyList<MixShare> PayerMixByCollections);

public static class Kpis
{
    /// <summary>
    /// The report from the KPI read model (<see cref="KpiProjection"/>): the months' documents of the range and the
    /// receivables, a dozen small documents for a year whatever the store's size.
    /// </summary>
    /// <param name="payerId">
    /// One payer only: charges of the sessions on its claims, its payments and adjustments, what it still owes, its claims;
    /// no patient, employer, grant or sponsor money.
    /// </param>
    public static async Task<KpiReport> BuildAsync(
        IQuerySession session, DateOnly start, DateOnly end, string from, string to, Guid? payerId, CancellationToken ct)
    {
        var ids = new List<string>();
        for (var month = new DateOnly(start.Year, start.Month, 1); month <= end; month = month.AddMonths(1)) ids.Add(KpiProjection.MonthOf(month));
        var months = await session.LoadManyAsync<KpiMonth>(ct, ids);
        var payers = (await session.Query<Payer>().Select(p => new { p.Id, p.Name }).ToListAsync(ct)).ToDictionary(p => p.Id, p => p.Name);
        var payer = payerId?.ToString("N");
        bool OfPayer(Guid? id) => payerId is null || id == payerId;

        var charges = new Dictionary<(string, Guid?), decimal>();
        var collections = new Dictionary<(string, Guid?), decimal>();
        var contractual = 0m;
        var claims = new ClaimTally();
        foreach (var figures in months.Select(m => m.Figures))
        {
            foreach (var (key, amount) in figures.Charges)
            {
                var (source, id) = KpiFigures.Parse(key);
                if (OfPayer(id)) charges[(source, id)] = charges.GetValueOrDefault((source, id)) + amount;
            }

            foreach (var (key, amount) in figures.Collections)
            {
                var (source, id) = KpiFigures.Parse(key);
                if (OfPayer(id)) collections[(source, id)] = collections.GetValueOrDefault((source, id)) + amount;
            }

            contractual += figures.Contractual.Where(c => payer is null || c.Key == payer).Sum(c => c.Value);
            foreach (var tally in figures.Claims.Where(c => payer is null || c.Key == payer).Select(c => c.Value)) claims.Add(tally, 1);
        }

        var stored = await session.LoadAsync<KpiReceivables>(KpiReceivables.Only, ct) ?? new KpiReceivables();
        var receivables = payer is null ? stored.Total : stored.ByPayer.GetValueOrDefault(payer);
        return Report(from, to, payerId, start, end, payers, charges, collections, contractual, receivables, claims);
    }

    private static KpiReport Report(
        string from, string to, Guid? payerId, DateOnly start, DateOnly end, Dictionary<Guid, string> payers, Dictionary<(string Source, Guid? Payer), decimal> charges,
        Dictionary<(string Source, Guid? Payer), decimal> collections, decimal contractual, decimal receivables, ClaimTally claims)
    {
        var gross = charges.Values.Sum();
        var collected = collections.Values.Sum();
        var days = end.DayNumber - start.DayNumber + 1;

        List<MixShare> Mix(Dictionary<(string Source, Guid? Payer), decimal> amounts, decimal total) =>
            amounts.Where(x => x.Value != 0)
                .Select(x => new MixShare(x.Key.Payer is { } id ? payers.GetValueOrDefault(id, "Unknown payer") : x.Key.Source, x.Key.Payer, x.Value, Rates.Of(x.Value, total)))
                .OrderByDescending(m => m.Amount).ThenBy(m => m.Source, StringComparer.Ordinal).ThenBy(m => m.PayerId).ToList();

        return new KpiReport(from, to, payerId, days, gross, collected, contractual, receivables,
            gross == 0 ? null : Math.Round(receivables / (gross / days), 1, MidpointRounding.ToEven),
            Rates.Of(collected, gross), Rates.Of(collected, gross - contractual),
            Rates.Of(claims.DeniedLines, claims.AdjudicatedLines),
            Rates.Of(claims.Clean, claims.Answered),
            Rates.Of(claims.FirstPass, claims.Adjudicated),
            claims.Filed, claims.Answered, Mix(charges, gross), Mix(collections, collected));
    }

    /// <summary>
    /// The same report computed from every account, claim, employer, grant and study document: the definition the read
    /// model must equal (tests compare the two after random work). It reads the whole ledger, so it is never served.
    /// </summary>
    public static async Task<KpiReport> FromLedgerAsync(
        IQuerySession session, DateOnly start, DateOnly end, string from, string to, Guid? payerId, TimeZoneInfo zone, CancellationToken ct)
    {
        bool OfPayer(Guid? payer) => payerId is null || payer == payerId;
        bool In(DateOnly d) => d >= start && d <= end;
        bool At(DateTimeOffset t) => In(DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(t, zone).DateTime));

        var payers = (await session.Query<Payer>().ToListAsync(ct)).ToDictionary(p => p.Id, p => p.Name);
        var accounts = await session.Query<PatientAccount>().ToListAsync(ct);
        var claims = (await session.Query<Claim>().FiledBetween(start, end).ToListAsync(ct)).Where(c => OfPayer(c.PayerId)).ToList();
        var employers = await session.Query<EmployerAgreement>().ToListAsync(ct);
        var grants = await session.Query<Grant>().ToListAsync(ct);
        var studies = await session.Query<Study>().ToListAsync(ct);

        // Charges of the period's sessions, by who they were billed to: the claim's payer, else the first funding named.
        var charges = new Dictionary<(string, Guid?), decimal>();
        void Charge(string source, Guid? payer, decimal amount)
        {
            if (OfPayer(payer)) charges[(source, payer)] = charges.GetValueOrDefault((source, payer)) + amount;
        }

        foreach (var s in accounts.SelectMany(a => a.Sessions).Where(s => !s.Voided && In(s.DeliveredOn)))
        {
            if (s.Claims.FirstOrDefault() is { } claim) Charge("insurance", claim.PayerId, s.Charge);
            else Charge(s.Funding.FirstOrDefault() switch
            {
                FundingSource.Insurance => "insurance (not billed)",
                FundingSource.Employer => "employer",
                FundingSource.Grant => "grant",
                FundingSource.Study => "sponsor",
                _ => "self-pay"
            }, null, s.Charge);
        }

        var collections = new Dictionary<(string, Guid?), decimal>();
        void Collect(string source, Guid? payer, decimal amount)
        {
            if (OfPayer(payer)) collections[(source, payer)] = collections.GetValueOrDefault((source, payer)) + amount;
        }

        var contractual = 0m;
        foreach (var account in accounts)
        {
            foreach (var p in account.Payments.Where(p => !p.Reversed && In(p.ReceivedOn))) Collect("self-pay", null, p.Amount);
            foreach (var r in account.Refunds.Where(r => At(r.IssuedAt))) Collect("self-pay", null, -r.Amount);
            foreach (var r in account.Placements.SelectMany(p => p.Recoveries).Where(r => In(r.ReceivedOn))) Collect("collection agency", null, r.Net);
            foreach (var posting in account.InsurancePostings.Where(p => At(p.PostedAt) && OfPayer(p.PayerId)))
            {
                Collect("insurance", posting.PayerId, posting.Paid);
                contractual += posting.Lines.Sum(l => l.Contractual);
            }
        }

        foreach (var p in employers.SelectMany(e => e.Payments).Where(p => In(p.ReceivedOn))) Collect("employer", null, p.Amount);
        foreach (var f in grants.SelectMany(g => g.Funds).Where(f => In(f.ReceivedOn))) Collect("grant", null, f.Amount);
        foreach (var p in studies.SelectMany(s => s.Payments).Where(p => In(p.ReceivedOn))) Collect("sponsor", null, p.Amount);

        // Every open amount now; of one payer: what it still owes on the sessions of its claims.
        var receivables = payerId is null
            ? accounts.Sum(a => a.Open().Total)
            : accounts.SelectMany(a => a.Sessions).Where(s => !s.Voided && s.Claims.FirstOrDefault()?.PayerId == payerId).Sum(s => s.Lines.Sum(l => l.Open.Insurance));

        // A claim replaced or voided counts nothing: its service counts once, on its replacement (or not at all).
        var filed = claims.Where(c => At(c.FiledAt) && !c.Superseded).ToList();
        var answered = filed.Where(c => c.Status != ClaimStatus.Filed).ToList();
        var adjudicatedLines = filed.SelectMany(c => PayerPerformance.LinesOf(c, zone)).Where(l => l.Adjudicated).ToList();
        var adjudicated = filed.Where(c => c.Adjudications.Count > 0 || c.History.Any(h => h.What.StartsWith("Adjudicated", StringComparison.Ordinal))).ToList();
        var firstPass = adjudicated.Count(c => c.Adjudications.Count > 0 && c.Adjudications[0].Outcome == ClaimStatus.Paid
                                               && !c.History.Any(h => h.What.StartsWith("Appealed", StringComparison.Ordinal)));
        var tally = new ClaimTally
        {
            Filed = filed.Count, Answered = answered.Count,
            Clean = answered.Count(c => c.Status != ClaimStatus.Rejected && !c.History.Any(h => h.What.StartsWith("Rejected", StringComparison.Ordinal))),
            Adjudicated = adjudicated.Count, FirstPass = firstPass, AdjudicatedLines = adjudicatedLines.Count, DeniedLines = adjudicatedLines.Count(l => l.Denied)
        };
        return Report(from, to, payerId, start, end, payers, charges, collections, contractual, receivables, tally);
    }
}

public static class KpiEndpoint
{
    /// <summary>Revenue-cycle KPIs for the months from..to (standard definitions in the API docs).</summary>
    [WolverineGet("/api/analytics/kpis"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("Analytics")]
    /// <param name="payerId">One payer's KPIs only (its claims, payments, adjustments and what it owes).</param>
    public static async Task<IResult> Get(string? from, string? to, Guid? payerId, IQuerySession session, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        var range = MonthRange.Parse(problems, from, to);
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        if (payerId is { } id && await session.LoadAsync<Payer>(id, ct) is null) return Problems.NotFound($"payer {id} does not exist");
        return Results.Ok(await Kpis.BuildAsync(session, range!.Value.Start, range.Value.End, from!, to!, payerId, ct));
    }
}
