using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Ledger;

/// <summary>Money is decimal, exact, in dollars and cents (ADR 0002).</summary>
public static class Money
{
    public const decimal Max = 1_000_000m;

    /// <summary>Cents, half away from zero: the one rounding rule wherever a share or percentage is computed.</summary>
    public static decimal Round(decimal amount) => Math.Round(amount, 2, MidpointRounding.AwayFromZero);

    /// <summary>An amount a caller sends: more than zero, at most two decimals.</summary>
    public static void RequirePositive(this ValidationProblems problems, string field, decimal? value)
    {
        if (value is not { } amount)
        {
            problems.Add(field, "is required");
        }
        else if (amount <= 0 || amount > Max || decimal.Round(amount, 2) != amount)
        {
            problems.Add(field, $"must be more than 0 and at most {Max} with at most two decimals");
        }
    }
}
