using KetamineBilling.Features.Employers;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Analytics;

/// <summary>The from..to months (yyyy-MM) an analytics question is asked for.</summary>
public static class MonthRange
{
    public const int MaxMonths = 36;

    /// <summary>The first day of from and the last day of to, or null with the problems named on from and to.</summary>
    public static (DateOnly Start, DateOnly End)? Parse(ValidationProblems problems, string? from, string? to)
    {
        var start = Months.Parse(from);
        var end = Months.Parse(to);
        if (start is null) problems.Add("from", "is required, a month as yyyy-MM");
        if (end is null) problems.Add("to", "is required, a month as yyyy-MM");
        if (start is not { } s || end is not { } e) return null;
        if (e.Start < s.Start) problems.Add("to", "must not be before from");
        else if (e.Start > s.Start.AddMonths(MaxMonths - 1)) problems.Add("to", $"must be at most {MaxMonths} months from from");
        return (s.Start, e.End);
    }

    /// <summary>
    /// Claims filed from the first day to the last (clinic days), asked of PostgreSQL by the indexed filing time with a
    /// day's margin each side (time zones); the exact clinic-day test is left to the caller.
    /// </summary>
    public static IQueryable<Claims.Claim> FiledBetween(this IQueryable<Claims.Claim> claims, DateOnly first, DateOnly last)
    {
        var lower = new DateTimeOffset(first.AddDays(-1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var upper = new DateTimeOffset(last.AddDays(2).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        return claims.Where(c => c.FiledAt >= lower && c.FiledAt < upper);
    }
}
