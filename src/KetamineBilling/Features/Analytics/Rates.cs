namespace KetamineBilling.Features.Analytics;

public static class Rates
{
    /// <summary>part / whole to 4 decimals (banker's rounding); null when there is nothing to divide by.</summary>
    public static decimal? Of(decimal part, decimal whole) => whole == 0 ? null : Math.Round(part / whole, 4, MidpointRounding.ToEven);
}
