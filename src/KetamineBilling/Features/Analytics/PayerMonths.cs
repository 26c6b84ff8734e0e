using KetamineBilling.Infrastructure;
using JasperFx.Events;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.PriorAuthorizations;
using Marten;
using Marten.Events.Projections;

namespace KetamineBilling.Features.Analytics;

/// <summary>A CARC's denied lines and their billed amount, as counted so far.</summary>
public sealed class DenialTally
{
    public int Lines { get; set; }
    public decimal Billed { get; set; }
}

/// <summary>
/// Sums that add up across claims, authorizations and reimbursements: everything a payer-month figure is computed
/// from (<see cref="PayerPerformance"/>). Days to pay are kept as a histogram so the median and p90 stay exact.
/// </summary>
public sealed class PayerTally
{
    public int Claims { get; set; }
    public int Lines { get; set; }
    public decimal Billed { get; set; }
    public decimal Allowed { get; set; }
    public decimal Paid { get; set; }
    public decimal PatientResponsibility { get; set; }
    public decimal Contractual { get; set; }
    public int AdjudicatedLines { get; set; }
    public decimal AdjudicatedBilled { get; set; }
    public int DeniedLines { get; set; }
    public decimal DeniedBilled { get; set; }

    /// <summary>Adjudicated infusion lines (96365) and what was paid for them with their drug lines.</summary>
    public int Infusions { get; set; }

    public decimal InfusionPaid { get; set; }

    /// <summary>Days from filing to the first payment, and how many claims took that long.</summary>
    public SortedDictionary<int, int> DaysToPay { get; set; } = [];

    public SortedDictionary<string, DenialTally> Denials { get; set; } = new(StringComparer.Ordinal);

    public int AuthorizationsRequested { get; set; }
    public int AuthorizationsDecided { get; set; }
    public int AuthorizationsApproved { get; set; }
    public int OutOfNetworkReimbursements { get; set; }
    public decimal OutOfNetworkAmount { get; set; }

    /// <summary>Nothing counted at all (a change that takes away exactly what it adds is zero too).</summary>
    public bool IsZero() =>
        Claims == 0 && Lines == 0 && Billed == 0m && Allowed == 0m && Paid == 0m && PatientResponsibility == 0m && Contractual == 0m &&
        AdjudicatedLines == 0 && AdjudicatedBilled == 0m && DeniedLines == 0 && DeniedBilled == 0m && Infusions == 0 && InfusionPaid == 0m &&
        DaysToPay.Count == 0 && Denials.Count == 0 && AuthorizationsRequested == 0 && AuthorizationsDecided == 0 && AuthorizationsApproved == 0 &&
        OutOfNetworkReimbursements == 0 && OutOfNetworkAmount == 0m;

    /// <summary>The tally of some claim lines (<see cref="PayerPerformance.LinesOf(PayerPerformance.ClaimFacts, TimeZoneInfo)"/>).</summary>
    public static PayerTally OfLines(IReadOnlyList<PayerPerformance.Line> lines)
    {
        var adjudicated = lines.Where(l => l.Adjudicated).ToList();
        var denied = adjudicated.Where(l => l.Denied).ToList();
        var infusions = adjudicated.Where(l => l.Code == PayerPerformance.InfusionCode).ToList();
        var tally = new PayerTally
        {
            Claims = lines.Select(l => l.ClaimId).Distinct().Count(),
            Lines = lines.Count,
            Billed = lines.Sum(l => l.Billed),
            Allowed = adjudicated.Sum(l => l.Allowed),
            Paid = lines.Sum(l => l.Paid),
            PatientResponsibility = lines.Sum(l => l.PatientResponsibility),
            Contractual = lines.Sum(l => l.Contractual),
            AdjudicatedLines = adjudicated.Count,
            AdjudicatedBilled = adjudicated.Sum(l => l.Billed),
            DeniedLines = denied.Count,
            DeniedBilled = denied.Sum(l => l.Billed),
            Infusions = infusions.Count,
            InfusionPaid = infusions.Sum(i => i.Paid + adjudicated
                .Where(d => d.ClaimId == i.ClaimId && d.SessionId == i.SessionId && PayerPerformance.DrugCodes.Contains(d.Code)).Sum(d => d.Paid))
        };
        foreach (var line in denied)
        {
            foreach (var reason in line.DenialReasons)
            {
                var d = tally.Denials.TryGetValue(reason, out var found) ? found : tally.Denials[reason] = new DenialTally();
                d.Lines++;
                d.Billed += line.Billed;
            }
        }

        return tally;
    }

    /// <summary>Adds (sign 1) or takes away (sign -1) another tally; emptied histogram and denial entries are removed.</summary>
    public void Add(PayerTally other, int sign)
    {
        Claims += sign * other.Claims;
        Lines += sign * other.Lines;
        Billed += sign * other.Billed;
        Allowed += sign * other.Allowed;
        Paid += sign * other.Paid;
        PatientResponsibility += sign * other.PatientResponsibility;
        Contractual += sign * other.Contractual;
        AdjudicatedLines += sign * other.AdjudicatedLines;
        AdjudicatedBilled += sign * other.AdjudicatedBilled;
        DeniedLines += sign * other.DeniedLines;
        DeniedBilled += sign * other.DeniedBilled;
        Infusions += sign * other.Infusions;
        InfusionPaid += sign * other.InfusionPaid;
        AuthorizationsRequested += sign * other.AuthorizationsRequested;
        AuthorizationsDecided += sign * other.AuthorizationsDecided;
        AuthorizationsApproved += sign * other.AuthorizationsApproved;
        OutOfNetworkReimbursements += sign * other.OutOfNetworkReimbursements;
        OutOfNetworkAmount += sign * other.OutOfNetworkAmount;
        foreach (var (days, count) in other.DaysToPay)
        {
            var now = DaysToPay.GetValueOrDefault(days) + sign * count;
            if (now == 0) DaysToPay.Remove(days);
            else DaysToPay[days] = now;
        }

        foreach (var (reason, denial) in other.Denials)
        {
            var d = Denials.TryGetValue(reason, out var found) ? found : Denials[reason] = new DenialTally();
            d.Lines += sign * denial.Lines;
            d.Billed += sign * denial.Billed;
            if (d.Lines == 0 && d.Billed == 0m) Denials.Remove(reason);
        }
    }

    /// <summary>The days-to-pay values, one per claim, in order.</summary>
    public IReadOnlyList<int> DaysToPayValues() => DaysToPay.SelectMany(kv => Enumerable.Repeat(kv.Key, kv.Value)).ToList();
}

/// <summary>One payer's month (claims by the month they were filed): its tally and one per billed code.</summary>
public sealed class PayerMonth
{
    /// <summary>"{payer id}:{yyyy-MM}".</summary>
    public string Id { get; set; } = "";

    public Guid PayerId { get; set; }

    public string Month { get; set; } = "";

    public PayerTally Total { get; set; } = new();

    public SortedDictionary<string, PayerTally> ByCode { get; set; } = new(StringComparer.Ordinal);

    public static string IdOf(Guid payerId, string month) => $"{payerId:N}:{month}";

    public bool IsZero() => Total.IsZero() && ByCode.Count == 0;

    public void Add(PayerMonthShare share, int sign)
    {
        Total.Add(share.Total, sign);
        foreach (var (code, tally) in share.ByCode)
        {
            var mine = ByCode.TryGetValue(code, out var found) ? found : ByCode[code] = new PayerTally();
            mine.Add(tally, sign);
            if (mine.IsZero()) ByCode.Remove(code);
        }
    }
}

/// <summary>What one claim or authorization adds to one payer-month.</summary>
public sealed record PayerMonthShare(Guid PayerId, string Month, PayerTally Total, IReadOnlyDictionary<string, PayerTally> ByCode);

/// <summary>
/// The projection's memory of a claim or an authorization: the facts it counted them by, so that when a later event
/// changes them (an adjudication, a reversal, a decision) it can take away exactly what it added and add the new share.
/// Folded from the stream's own events: a rebuild does not depend on any other read model.
/// </summary>
public sealed class PayerMonthSource
{
    public Guid Id { get; set; }
    public Guid PayerId { get; set; }

    /// <summary>A claim's filing time.</summary>
    public DateTimeOffset? FiledAt { get; set; }

    public List<ClaimLine> Lines { get; set; } = [];
    public List<ClaimAdjudicated> Adjudications { get; set; } = [];

    /// <summary>A claim replaced or voided: its service counts on its replacement, or not at all.</summary>
    public bool Superseded { get; set; }

    /// <summary>An authorization's request day and status.</summary>
    public DateOnly? RequestedOn { get; set; }

    public AuthorizationStatus? Status { get; set; }

    /// <summary>
    /// The time zone its share was counted in (the clinic's when it was last folded): taken away in the same one, so a clinic
    /// that changes its zone keeps every month's sums whole (a rebuild then counts all of them in the new zone).
    /// </summary>
    public string? CountedIn { get; set; }

    /// <summary>The source after one more event of its stream (null: not a source this projection counts).</summary>
    public static PayerMonthSource? Fold(PayerMonthSource? source, object e) => e switch
    {
        ClaimFiled f => new PayerMonthSource { Id = f.ClaimId, PayerId = f.PayerId, FiledAt = f.FiledAt, Lines = [.. f.Lines] },
        ClaimAdjudicated a when source is not null => source.With(s => s.Adjudications.Add(a)),
        ClaimReplaced or ClaimVoided when source is not null => source.With(s => s.Superseded = true),
        ClaimAdjudicationReversed when source is not null => source.With(s =>
        {
            if (s.Adjudications.Count > 0) s.Adjudications.RemoveAt(s.Adjudications.Count - 1);
        }),
        PriorAuthorizationRequested r => new PayerMonthSource
            { Id = r.AuthorizationId, PayerId = r.PayerId, RequestedOn = r.RequestedOn, Status = AuthorizationStatus.Requested },
        PriorAuthorizationApproved when source is not null => source.With(s => s.Status = AuthorizationStatus.Approved),
        PriorAuthorizationDenied when source is not null => source.With(s => s.Status = AuthorizationStatus.Denied),
        PriorAuthorizationExpired when source is not null => source.With(s => s.Status = AuthorizationStatus.Expired),
        _ => source
    };

    private PayerMonthSource With(Action<PayerMonthSource> change)
    {
        change(this);
        return this;
    }

    /// <summary>What this source adds to its payer-month, as <see cref="PayerPerformance"/> counts it.</summary>
    public PayerMonthShare Share(TimeZoneInfo zone)
    {
        if (FiledAt is { } superseded && Superseded)
            return new PayerMonthShare(PayerId, PayerPerformance.Month(superseded, zone), new PayerTally(), new Dictionary<string, PayerTally>());
        if (FiledAt is { } filed)
        {
            var facts = new PayerPerformance.ClaimFacts { Id = Id, PayerId = PayerId, FiledAt = filed, Lines = Lines, Adjudications = Adjudications };
            var lines = PayerPerformance.LinesOf(facts, zone).ToList();
            var total = PayerTally.OfLines(lines);
            if (PayerPerformance.DaysToPay(facts, zone) is { } days) total.DaysToPay[days] = 1;
            return new PayerMonthShare(PayerId, PayerPerformance.Month(filed, zone), total,
                lines.GroupBy(l => l.Code).ToDictionary(g => g.Key, g => PayerTally.OfLines(g.ToList())));
        }

        var decided = Status is not AuthorizationStatus.Requested;
        return new PayerMonthShare(PayerId, RequestedOn!.Value.ToString("yyyy-MM"), new PayerTally
        {
            AuthorizationsRequested = 1,
            AuthorizationsDecided = decided ? 1 : 0,
            AuthorizationsApproved = decided && Status is not AuthorizationStatus.Denied ? 1 : 0
        }, new Dictionary<string, PayerTally>());
    }
}

/// <summary>
/// Keeps <see cref="PayerMonth"/> documents: asynchronous, so claim postings do not pay for it and a payer-trends
/// read is a handful of small documents however many claims there are (ADR 0009). Each batch loads the sources its
/// events touch, takes away their old share, folds the events, adds the new share, and writes the payer-months once.
/// </summary>
public sealed class PayerMonthProjection(Func<string, CancellationToken, ValueTask<TimeZoneInfo>> zoneOf) : IProjection
{
    public const string Name = "PayerMonths";

    public static readonly Type[] EventTypes =
    [
        typeof(ClaimFiled), typeof(ClaimAdjudicated), typeof(ClaimAdjudicationReversed), typeof(ClaimReplaced), typeof(ClaimVoided), typeof(PriorAuthorizationRequested),
        typeof(PriorAuthorizationApproved), typeof(PriorAuthorizationDenied), typeof(PriorAuthorizationExpired), typeof(OutOfNetworkReimbursementReported)
    ];

    public async Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var changes = new Dictionary<string, PayerMonth>();

        void Change(PayerMonthShare share, int sign)
        {
            var id = PayerMonth.IdOf(share.PayerId, share.Month);
            if (!changes.TryGetValue(id, out var delta)) changes[id] = delta = new PayerMonth { Id = id, PayerId = share.PayerId, Month = share.Month };
            delta.Add(share, sign);
        }

        var streams = events.Where(e => e.Data is not OutOfNetworkReimbursementReported && EventTypes.Contains(e.EventType)).GroupBy(e => e.StreamId).ToList();
        if (streams.Count > 0)
        {
            // The shard is the clinic's (events are partitioned by clinic), and so is the session: its months are in its zone.
            var zone = await zoneOf(operations.TenantId, cancellation);
            var sources = (await operations.LoadManyAsync<PayerMonthSource>(cancellation, streams.Select(s => s.Key).ToArray())).ToDictionary(s => s.Id);
            foreach (var stream in streams)
            {
                var source = sources.GetValueOrDefault(stream.Key);
                if (source is not null) Change(source.Share(source.CountedIn is { } counted && ClinicCalendar.TryFindZone(counted, out var was) ? was : zone), -1);
                foreach (var e in stream) source = PayerMonthSource.Fold(source, e.Data);
                if (source is null) continue;
                source.CountedIn = zone.Id;
                Change(source.Share(zone), 1);
                operations.Store(source);
            }
        }

        foreach (var reimbursement in events.Select(e => e.Data).OfType<OutOfNetworkReimbursementReported>())
        {
            Change(new PayerMonthShare(reimbursement.PayerId, reimbursement.ReceivedOn.ToString("yyyy-MM"),
                new PayerTally { OutOfNetworkReimbursements = 1, OutOfNetworkAmount = reimbursement.Amount }, new Dictionary<string, PayerTally>()), 1);
        }

        if (changes.Count == 0) return;
        var stored = (await operations.LoadManyAsync<PayerMonth>(cancellation, changes.Keys.ToArray())).ToDictionary(m => m.Id);
        foreach (var (id, delta) in changes)
        {
            var month = stored.GetValueOrDefault(id) ?? new PayerMonth { Id = id, PayerId = delta.PayerId, Month = delta.Month };
            month.Add(new PayerMonthShare(delta.PayerId, delta.Month, delta.Total, delta.ByCode), 1);
            if (month.IsZero()) operations.Delete<PayerMonth>(id);
            else operations.Store(month);
        }
    }
}
