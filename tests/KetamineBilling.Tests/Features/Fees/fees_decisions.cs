using KetamineBilling.Features.Fees;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Fees;

/// <summary>The pure decision behind PUT /api/fee-schedule/{code}, without a host.</summary>
public class fees_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = new(2026, 6, 1);
    private static readonly DateOnly January = new(2026, 1, 1);

    private static FeeSchedule Schedule(params FeePriceSet[] prices)
    {
        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        foreach (var price in prices) new FeeScheduleProjection().Apply(price, schedule);
        return schedule;
    }

    private static FeePriceSet Set(string code, decimal price, DateOnly from, decimal? cash = null) =>
        new(FeeSchedule.StreamId, code, "IV infusion", price, from, Now.AddDays(-30), cash);

    [Fact]
    public void a_new_price_is_set_from_today_when_no_date_is_given_and_answered_with_the_codes_line()
    {
        var outcome = SetFeePriceEndpoint.Decide(null, "96365", new SetFeePrice("  IV infusion ", 450.00m, null, 400.00m), Today, Now);

        Assert.Equal([new FeePriceSet(FeeSchedule.StreamId, "96365", "IV infusion", 450.00m, Today, Now, 400.00m)], outcome.EventsFor(FeeSchedule.StreamId));
        var line = Assert.IsType<FeeScheduleLine>(Assert.IsType<Outcome.Accepted>(outcome).Answer);
        Assert.Equal(("96365", 450.00m, 400.00m, Today), (line.Code, line.Price, line.CashPrice, line.EffectiveFrom));
        Assert.Single(line.History);
    }

    [Fact]
    public void a_later_price_joins_the_history_and_the_schedule_handed_in_is_not_changed()
    {
        var schedule = Schedule(Set("96365", 450.00m, January));
        var outcome = SetFeePriceEndpoint.Decide(schedule, "96365", new SetFeePrice("IV infusion", 475.50m, new DateOnly(2026, 5, 1)), Today, Now);

        var set = Assert.IsType<FeePriceSet>(Assert.Single(outcome.EventsFor(FeeSchedule.StreamId)));
        Assert.Equal((475.50m, new DateOnly(2026, 5, 1)), (set.Price, set.EffectiveFrom));
        var line = Assert.IsType<FeeScheduleLine>(Assert.IsType<Outcome.Accepted>(outcome).Answer);
        Assert.Equal(475.50m, line.Price);
        Assert.Equal([January, new DateOnly(2026, 5, 1)], line.History.Select(p => p.EffectiveFrom));
        Assert.Single(schedule.Codes["96365"]);
    }

    [Fact]
    public void the_same_price_again_for_the_same_date_is_a_replay_with_nothing_recorded()
    {
        var schedule = Schedule(Set("96365", 450.00m, January, 400.00m));
        var outcome = SetFeePriceEndpoint.Decide(schedule, "96365", new SetFeePrice("IV infusion", 450.00m, January, 400.00m), Today, Now);

        var replay = Assert.IsType<Outcome.Replayed>(outcome);
        Assert.Equal(450.00m, Assert.IsType<FeeScheduleLine>(replay.Answer).Price);
        Assert.Empty(outcome.AllEvents);
    }

    [Fact]
    public void another_price_for_the_same_date_corrects_it()
    {
        var schedule = Schedule(Set("96365", 450.00m, January, 400.00m));
        var outcome = SetFeePriceEndpoint.Decide(schedule, "96365", new SetFeePrice("IV infusion", 450.00m, January), Today, Now);

        Assert.Null(Assert.IsType<FeePriceSet>(Assert.Single(outcome.EventsFor(FeeSchedule.StreamId))).CashPrice);
        var line = Assert.IsType<FeeScheduleLine>(Assert.IsType<Outcome.Accepted>(outcome).Answer);
        Assert.Single(line.History);
        Assert.Null(line.CashPrice);
    }
}
