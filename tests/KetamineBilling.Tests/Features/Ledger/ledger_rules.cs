using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Tests.Features.Ledger;

/// <summary>The shared money rules (Features/Ledger), without a host: fill in order, prorate with the remainder on the last line, rounding.</summary>
public class ledger_rules
{
    private sealed record Item(string Name, decimal Room);

    private static readonly Item A = new("a", 30.00m), Empty = new("empty", 0m), C = new("c", 50.00m);

    private static List<(string, decimal)> Names<T>(List<(T Item, decimal Amount)> taken, Func<T, string> name) =>
        taken.Select(t => (name(t.Item), t.Amount)).ToList();

    [Fact]
    public void fill_in_order_fills_each_room_in_turn_and_passes_over_items_without_room()
    {
        var taken = Allocation.FillInOrder([A, Empty, C], 60.00m, i => i.Room);
        Assert.Equal([("a", 30.00m), ("c", 30.00m)], Names(taken, i => i.Name));
    }

    [Fact]
    public void fill_in_order_stops_when_the_rooms_are_full_and_leaves_the_rest_untaken()
    {
        var taken = Allocation.FillInOrder([A, C], 100.00m, i => i.Room);
        Assert.Equal([("a", 30.00m), ("c", 50.00m)], Names(taken, i => i.Name));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5.00")]
    public void fill_in_order_takes_nothing_of_a_zero_or_negative_amount(string amount) =>
        Assert.Empty(Allocation.FillInOrder([A, C], decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), i => i.Room));

    [Fact]
    public void prorate_puts_the_rounding_remainder_on_the_last_line_and_the_shares_add_up_exactly()
    {
        var shares = Allocation.Prorate([100m, 100m, 100m], 100.00m, w => w);
        Assert.Equal([33.33m, 33.33m, 33.34m], shares.Select(s => s.Amount));
        Assert.Equal(100.00m, shares.Sum(s => s.Amount));
    }

    [Fact]
    public void prorate_shares_are_in_proportion_to_the_weights()
    {
        var shares = Allocation.Prorate([450.00m, 150.00m], 120.00m, w => w);
        Assert.Equal([90.00m, 30.00m], shares.Select(s => s.Amount));
    }

    [Fact]
    public void prorate_caps_each_share_at_its_weight_when_the_amount_is_more_than_the_total()
    {
        var shares = Allocation.Prorate([10.00m, 20.00m], 50.00m, w => w);
        Assert.Equal([10.00m, 20.00m], shares.Select(s => s.Amount));
    }

    [Fact]
    public void prorate_passes_the_remainder_on_to_the_first_items_with_room_when_the_last_has_none()
    {
        // Rounded shares 1.90 + 1.37 + 2.64 leave 0.02 for the last line, which has room for 0.01: the other cent goes to the first.
        var shares = Allocation.Prorate([2.16m, 1.56m, 3.00m, 0.01m], 5.93m, w => w);
        Assert.Equal([1.91m, 1.37m, 2.64m, 0.01m], shares.Select(s => s.Amount));
        Assert.Equal(5.93m, shares.Sum(s => s.Amount));
    }

    [Fact]
    public void prorate_leaves_out_items_whose_share_is_zero()
    {
        var shares = Allocation.Prorate([0m, 40.00m, 60.00m], 10.00m, w => w);
        Assert.Equal([(40.00m, 4.00m), (60.00m, 6.00m)], shares);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1.00")]
    public void prorate_spreads_nothing_of_a_zero_or_negative_amount(string amount) =>
        Assert.Empty(Allocation.Prorate([10.00m, 20.00m], decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), w => w));

    [Fact]
    public void prorate_spreads_nothing_over_items_without_weight() =>
        Assert.Empty(Allocation.Prorate([0m, 0m], 10.00m, w => w));

    [Theory]
    [InlineData("1.005", "1.01")]
    [InlineData("1.004", "1.00")]
    [InlineData("-1.005", "-1.01")]
    [InlineData("2.675", "2.68")]
    [InlineData("10", "10.00")]
    public void money_rounds_to_the_cent_half_away_from_zero(string amount, string rounded)
    {
        var parse = (string s) => decimal.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(parse(rounded), Money.Round(parse(amount)));
    }
}
