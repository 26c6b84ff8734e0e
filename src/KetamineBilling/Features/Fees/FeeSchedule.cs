using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Aggregation;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Fees;

/// <summary>
/// The clinic's prices, one stream for the whole schedule: a price is set for a code from a date on,
/// and never edited; a later price from a later date supersedes it for sessions delivered from then.
/// </summary>
/// <param name="Price">The list price: what every session is charged.</param>
/// <param name="CashPrice">What a self-pay patient pays, when lower: the difference is granted as a discount.</param>
public record FeePriceSet(
    Guid FeeScheduleId,
    string Code,
    string Description,
    decimal Price,
    DateOnly EffectiveFrom,
    DateTimeOffset SetAt,
    decimal? CashPrice = null);

public sealed record FeePrice(string Description, decimal Price, DateOnly EffectiveFrom, decimal? CashPrice = null);

/// <summary>The schedule as read and as decided on (inline, so a price set is visible at once).</summary>
public sealed class FeeSchedule
{
    /// <summary>The clinic has one fee schedule; its stream id is fixed.</summary>
    public static readonly Guid StreamId = new("6b6e3e0b-3f7c-4a55-9b1e-0f0b5f6c2a01");

    public Guid Id { get; set; }

    public int Version { get; set; }

    /// <summary>Code -> prices ordered by effective date.</summary>
    public Dictionary<string, List<FeePrice>> Codes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The price in force for a code on a date, or null when the code has none then.</summary>
    public FeePrice? PriceOn(string code, DateOnly date) =>
        Codes.TryGetValue(code, out var prices)
            ? prices.LastOrDefault(p => p.EffectiveFrom <= date)
            : null;

    public bool Knows(string code) => Codes.ContainsKey(code);
}

public partial class FeeScheduleProjection : SingleStreamProjection<FeeSchedule, Guid>
{
    public FeeSchedule Create(FeePriceSet e) => Apply(e, new FeeSchedule { Id = e.FeeScheduleId });

    public FeeSchedule Apply(FeePriceSet e, FeeSchedule schedule)
    {
        if (!schedule.Codes.TryGetValue(e.Code, out var prices))
        {
            prices = [];
            schedule.Codes[e.Code] = prices;
        }

        // A second price for the same effective date replaces the first: it was a correction made
        // before any session could rely on the date in question being priced differently.
        prices.RemoveAll(p => p.EffectiveFrom == e.EffectiveFrom);
        prices.Add(new FeePrice(e.Description, e.Price, e.EffectiveFrom, e.CashPrice));
        prices.Sort((a, b) => a.EffectiveFrom.CompareTo(b.EffectiveFrom));
        return schedule;
    }
}

public sealed record FeeScheduleLine(string Code, string Description, decimal Price, decimal? CashPrice, DateOnly EffectiveFrom, IReadOnlyList<FeePrice> History);

public static class GetFeeScheduleEndpoint
{
    [WolverineGet("/api/fee-schedule"), Authorize(Policy = Policies.Staff)]
    [Tags("Fee schedule")]
    public static async Task<IReadOnlyList<FeeScheduleLine>> Get(
        IQuerySession session, ClinicCalendar calendar, DateOnly? asOf, CancellationToken ct)
    {
        var schedule = await session.LoadAsync<FeeSchedule>(FeeSchedule.StreamId, ct);
        var on = asOf ?? calendar.Today();
        return schedule is null
            ? []
            : schedule.Codes.OrderBy(c => c.Key, StringComparer.Ordinal)
                .Where(c => c.Value.Any(p => p.EffectiveFrom <= on))
                .Select(c => SetFeePriceEndpoint.Line(c.Key, c.Value, on))
                .ToList();
    }

}
