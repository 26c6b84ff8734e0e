using System.Globalization;
using System.Text.Json;
using JasperFx.Events;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Projections;

namespace KetamineBilling.Features.Analytics;

/// <summary>A month's claims of one payer, counted as <see cref="Kpis"/> defines its rates (claims by the month they were filed).</summary>
public sealed class ClaimTally
{
    public int Filed { get; set; }
    public int Answered { get; set; }

    /// <summary>Answered and never rejected.</summary>
    public int Clean { get; set; }

    public int Adjudicated { get; set; }

    /// <summary>Paid at the first adjudication and never appealed.</summary>
    public int FirstPass { get; set; }

    public int AdjudicatedLines { get; set; }
    public int DeniedLines { get; set; }

    public bool IsZero() => Filed == 0 && Answered == 0 && Clean == 0 && Adjudicated == 0 && FirstPass == 0 && AdjudicatedLines == 0 && DeniedLines == 0;

    public void Add(ClaimTally other, int sign)
    {
        Filed += sign * other.Filed;
        Answered += sign * other.Answered;
        Clean += sign * other.Clean;
        Adjudicated += sign * other.Adjudicated;
        FirstPass += sign * other.FirstPass;
        AdjudicatedLines += sign * other.AdjudicatedLines;
        DeniedLines += sign * other.DeniedLines;
    }
}

/// <summary>
/// What a month adds to the KPIs: charges and collections by source ("{source}|{payer id or empty}"), contractual
/// adjustments and claim counts by payer ("N" format).
/// </summary>
public sealed class KpiFigures
{
    public SortedDictionary<string, decimal> Charges { get; set; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, decimal> Collections { get; set; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, decimal> Contractual { get; set; } = new(StringComparer.Ordinal);
    public SortedDictionary<string, ClaimTally> Claims { get; set; } = new(StringComparer.Ordinal);

    public bool IsZero() => Charges.Count == 0 && Collections.Count == 0 && Contractual.Count == 0 && Claims.Count == 0;

    public static string Key(string source, Guid? payer) => $"{source}|{payer?.ToString("N") ?? ""}";

    public static (string Source, Guid? Payer) Parse(string key)
    {
        var bar = key.IndexOf('|', StringComparison.Ordinal);
        return (key[..bar], bar == key.Length - 1 ? null : Guid.ParseExact(key[(bar + 1)..], "N"));
    }

    public void Add(KpiFigures other, int sign)
    {
        Sum(Charges, other.Charges, sign);
        Sum(Collections, other.Collections, sign);
        Sum(Contractual, other.Contractual, sign);
        foreach (var (payer, tally) in other.Claims)
        {
            var mine = Claims.TryGetValue(payer, out var found) ? found : Claims[payer] = new ClaimTally();
            mine.Add(tally, sign);
            if (mine.IsZero()) Claims.Remove(payer);
        }
    }

    public static void Sum(SortedDictionary<string, decimal> into, IReadOnlyDictionary<string, decimal> amounts, int sign)
    {
        foreach (var (key, amount) in amounts)
        {
            var now = into.GetValueOrDefault(key) + sign * amount;
            if (now == 0m) into.Remove(key);
            else into[key] = now;
        }
    }
}

/// <summary>One month's KPI figures of the clinic ("yyyy-MM"): a 12-month report reads twelve of these.</summary>
public sealed class KpiMonth
{
    public string Id { get; set; } = "";
    public KpiFigures Figures { get; set; } = new();
}

/// <summary>Every open amount now, and the insurance share open on the sessions of each payer's claims (by the session's first claim).</summary>
public sealed class KpiReceivables
{
    public const string Only = "receivables";

    public string Id { get; set; } = Only;
    public decimal Total { get; set; }
    public SortedDictionary<string, decimal> ByPayer { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The KPI projection's memory of one account ("account:{id}") or claim ("claim:{id}"): the figures it added by month
/// and what it added to the receivables, taken away as they were when the account or claim changes (so a change of
/// the clinic's time zone never unbalances a month).
/// </summary>
public sealed class KpiSource
{
    public string Id { get; set; } = "";
    public SortedDictionary<string, KpiFigures> Months { get; set; } = new(StringComparer.Ordinal);
    public decimal Open { get; set; }
    public SortedDictionary<string, decimal> OpenByPayer { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Keeps the KPI read model (ADR 0017): per month, charges and collections by source, contractual adjustments and claim
/// counts by payer; the receivables now. Accounts and claims are read from their inline documents after their events
/// (the ledger's and the claim's own arithmetic); employer, grant and sponsor payments are folded from their events.
/// </summary>
public sealed class KpiProjection(Func<string, CancellationToken, ValueTask<TimeZoneInfo>> zoneOf) : IProjection
{
    public const string Name = "Kpis";

    public static readonly Type[] AccountEventTypes = Persistence.FoldedBy(typeof(PatientAccount));
    public static readonly Type[] ClaimEventTypes = Persistence.FoldedBy(typeof(Claim));
    public static readonly Type[] PaymentEventTypes = [typeof(EmployerPaymentReceived), typeof(GrantFundsReceived), typeof(SponsorPaymentReceived)];

    public static IEnumerable<Type> EventTypes => AccountEventTypes.Concat(ClaimEventTypes).Concat(PaymentEventTypes).Distinct();

    public static string MonthOf(DateOnly day) => day.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var months = new Dictionary<string, KpiFigures>(StringComparer.Ordinal);
        KpiFigures Month(string month) => months.TryGetValue(month, out var m) ? m : months[month] = new KpiFigures();
        var receivables = new KpiReceivables();

        foreach (var e in events)
        {
            var (source, amount, on) = e.Data switch
            {
                EmployerPaymentReceived p => ("employer", p.Amount, p.ReceivedOn),
                GrantFundsReceived f => ("grant", f.Amount, f.ReceivedOn),
                SponsorPaymentReceived p => ("sponsor", p.Amount, p.ReceivedOn),
                _ => (null, 0m, default)
            };
            if (source is not null) KpiFigures.Sum(Month(MonthOf(on)).Collections, new Dictionary<string, decimal> { [KpiFigures.Key(source, null)] = amount }, 1);
        }

        var accountIds = events.Where(e => AccountEventTypes.Contains(e.EventType)).Select(e => e.StreamId).Distinct().ToArray();
        var claimIds = events.Where(e => ClaimEventTypes.Contains(e.EventType)).Select(e => e.StreamId).Distinct().ToArray();
        if (accountIds.Length + claimIds.Length > 0)
        {
            // The shard is the clinic's, so is the session: times are dated in its zone.
            var zone = await zoneOf(operations.TenantId, cancellation);
            var memories = (await operations.LoadManyAsync<KpiSource>(cancellation,
                accountIds.Select(id => $"account:{id}").Concat(claimIds.Select(id => $"claim:{id}")).ToArray())).ToDictionary(s => s.Id, StringComparer.Ordinal);

            void Change(KpiSource? before, KpiSource after)
            {
                if (before is not null && Same(before, after)) return;
                Count(before, -1);
                Count(after, 1);
                if (after.Months.Count == 0 && after.Open == 0m && after.OpenByPayer.Count == 0)
                {
                    if (before is not null) operations.Delete<KpiSource>(after.Id);
                }
                else
                {
                    operations.Store(after);
                }
            }

            void Count(KpiSource? source, int sign)
            {
                if (source is null) return;
                foreach (var (month, figures) in source.Months) Month(month).Add(figures, sign);
                receivables.Total += sign * source.Open;
                KpiFigures.Sum(receivables.ByPayer, source.OpenByPayer, sign);
            }

            if (accountIds.Length > 0)
            {
                var accounts = (await operations.LoadManyAsync<PatientAccount>(cancellation, accountIds)).ToDictionary(a => a.Id);
                foreach (var id in accountIds)
                {
                    var key = $"account:{id}";
                    Change(memories.GetValueOrDefault(key), accounts.TryGetValue(id, out var account) ? Of(account, zone) : new KpiSource { Id = key });
                }
            }

            if (claimIds.Length > 0)
            {
                var claims = (await operations.LoadManyAsync<Claim>(cancellation, claimIds)).ToDictionary(c => c.Id);
                foreach (var id in claimIds)
                {
                    var key = $"claim:{id}";
                    Change(memories.GetValueOrDefault(key), claims.TryGetValue(id, out var claim) ? Of(claim, zone) : new KpiSource { Id = key });
                }
            }
        }

        var changed = months.Where(m => !m.Value.IsZero()).ToList();
        if (changed.Count > 0)
        {
            var stored = (await operations.LoadManyAsync<KpiMonth>(cancellation, changed.Select(m => m.Key).ToArray())).ToDictionary(m => m.Id, StringComparer.Ordinal);
            foreach (var (id, delta) in changed)
            {
                var month = stored.GetValueOrDefault(id) ?? new KpiMonth { Id = id };
                month.Figures.Add(delta, 1);
                if (month.Figures.IsZero()) operations.Delete<KpiMonth>(id);
                else operations.Store(month);
            }
        }

        if (receivables.Total != 0m || receivables.ByPayer.Count > 0)
        {
            var current = await operations.LoadAsync<KpiReceivables>(KpiReceivables.Only, cancellation) ?? new KpiReceivables();
            current.Total += receivables.Total;
            KpiFigures.Sum(current.ByPayer, receivables.ByPayer, 1);
            operations.Store(current);
        }
    }

    private static bool Same(KpiSource a, KpiSource b) => JsonSerializer.Serialize(a) == JsonSerializer.Serialize(b);

    /// <summary>An account's charges (by the month of service, to the first claim's payer or the first funding source), collections and receivables.</summary>
    public static KpiSource Of(PatientAccount account, TimeZoneInfo zone)
    {
        var source = new KpiSource { Id = $"account:{account.Id}" };
        KpiFigures Month(DateOnly day)
        {
            var month = MonthOf(day);
            return source.Months.TryGetValue(month, out var m) ? m : source.Months[month] = new KpiFigures();
        }

        static void Add(SortedDictionary<string, decimal> into, string key, decimal amount) => KpiFigures.Sum(into, new Dictionary<string, decimal> { [key] = amount }, 1);
        DateOnly Local(DateTimeOffset t) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(t, zone).DateTime);

        foreach (var s in account.Sessions.Where(s => !s.Voided))
        {
            var key = s.Claims.FirstOrDefault() is { } claim
                ? KpiFigures.Key("insurance", claim.PayerId)
                : KpiFigures.Key(s.Funding.FirstOrDefault() switch
                {
                    FundingSource.Insurance => "insurance (not billed)",
                    FundingSource.Employer => "employer",
                    FundingSource.Grant => "grant",
                    FundingSource.Study => "sponsor",
                    _ => "self-pay"
                }, null);
            Add(Month(s.DeliveredOn).Charges, key, s.Charge);
            if (s.Claims.FirstOrDefault() is { } first)
            {
                var open = s.Lines.Sum(l => l.Open.Insurance);
                if (open != 0m) Add(source.OpenByPayer, first.PayerId.ToString("N"), open);
            }
        }

        foreach (var p in account.Payments.Where(p => !p.Reversed)) Add(Month(p.ReceivedOn).Collections, KpiFigures.Key("self-pay", null), p.Amount);
        // What reached the clinic from a collection agency: its net (the commission is the agency's, never the clinic's cash).
        foreach (var r in account.Placements.SelectMany(p => p.Recoveries)) Add(Month(r.ReceivedOn).Collections, KpiFigures.Key("collection agency", null), r.Net);
        foreach (var r in account.Refunds) Add(Month(Local(r.IssuedAt)).Collections, KpiFigures.Key("self-pay", null), -r.Amount);
        foreach (var posting in account.InsurancePostings)
        {
            var month = Month(Local(posting.PostedAt));
            Add(month.Collections, KpiFigures.Key("insurance", posting.PayerId), posting.Paid);
            Add(month.Contractual, posting.PayerId.ToString("N"), posting.Lines.Sum(l => l.Contractual));
        }

        foreach (var empty in source.Months.Where(m => m.Value.IsZero()).Select(m => m.Key).ToList()) source.Months.Remove(empty);
        source.Open = account.Open().Total;
        return source;
    }

    /// <summary>A claim's counts in the month it was filed (the clinic's date), under its payer.</summary>
    public static KpiSource Of(Claim claim, TimeZoneInfo zone)
    {
        // A claim replaced or voided counts nothing: its service counts once, on its replacement (or not at all).
        if (claim.Superseded) return new KpiSource { Id = $"claim:{claim.Id}" };
        var adjudicated = claim.Adjudications.Count > 0 || claim.History.Any(h => h.What.StartsWith("Adjudicated", StringComparison.Ordinal));
        var answered = claim.Status != ClaimStatus.Filed;
        var lines = PayerPerformance.LinesOf(claim, zone).Where(l => l.Adjudicated).ToList();
        var tally = new ClaimTally
        {
            Filed = 1,
            Answered = answered ? 1 : 0,
            Clean = answered && claim.Status != ClaimStatus.Rejected && !claim.History.Any(h => h.What.StartsWith("Rejected", StringComparison.Ordinal)) ? 1 : 0,
            Adjudicated = adjudicated ? 1 : 0,
            FirstPass = adjudicated && claim.Adjudications.Count > 0 && claim.Adjudications[0].Outcome == ClaimStatus.Paid
                        && !claim.History.Any(h => h.What.StartsWith("Appealed", StringComparison.Ordinal)) ? 1 : 0,
            AdjudicatedLines = lines.Count,
            DeniedLines = lines.Count(l => l.Denied)
        };
        var month = MonthOf(DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(claim.FiledAt, zone).DateTime));
        var figures = new KpiFigures();
        figures.Claims[claim.PayerId.ToString("N")] = tally;
        return new KpiSource { Id = $"claim:{claim.Id}", Months = new(StringComparer.Ordinal) { [month] = figures } };
    }
}
