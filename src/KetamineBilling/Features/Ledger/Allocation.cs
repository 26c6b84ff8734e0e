namespace KetamineBilling.Features.Ledger;

/// <summary>
/// How money is spread over lines (or invoices, or anything with room for it). The two rules every area uses, written
/// once: fill in order, and prorate with the rounding remainder on the last line.
/// </summary>
public static class Allocation
{
    /// <summary>Fills each item's room in order until the amount runs out; items without room are passed over.</summary>
    public static List<(T Item, decimal Amount)> FillInOrder<T>(IEnumerable<T> items, decimal amount, Func<T, decimal> room)
    {
        var taken = new List<(T, decimal)>();
        foreach (var item in items)
        {
            if (amount <= 0) break;
            var take = Math.Min(amount, room(item));
            if (take <= 0) continue;
            taken.Add((item, take));
            amount -= take;
        }

        return taken;
    }

    /// <summary>
    /// Spreads an amount over items in proportion to their weights, each share rounded to the cent (<see cref="Money.Round"/>)
    /// and capped at the item's weight, the rounding remainder on the last item, so the shares add up to the amount exactly
    /// (or to the total weight, when the amount is more). When the last item has less room than the remainder, what is left
    /// goes to the first items with room. Items with a share of zero are left out.
    /// </summary>
    public static List<(T Item, decimal Amount)> Prorate<T>(IReadOnlyList<T> items, decimal amount, Func<T, decimal> weight)
    {
        var total = items.Sum(weight);
        if (total <= 0 || amount <= 0) return [];

        amount = Math.Min(amount, total);
        var shares = new decimal[items.Count];
        var remaining = amount;
        for (var i = 0; i < items.Count; i++)
        {
            var share = i == items.Count - 1 ? remaining : Math.Min(Money.Round(amount * weight(items[i]) / total), remaining);
            share = Math.Max(Math.Min(share, weight(items[i])), 0);
            shares[i] = share;
            remaining -= share;
        }

        for (var i = 0; remaining > 0 && i < items.Count; i++)
        {
            var take = Math.Min(weight(items[i]) - shares[i], remaining);
            if (take <= 0) continue;
            shares[i] += take;
            remaining -= take;
        }

        return items.Select((item, i) => (item, shares[i])).Where(x => x.Item2 > 0).ToList();
    }
}
