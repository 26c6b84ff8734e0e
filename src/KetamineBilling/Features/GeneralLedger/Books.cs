using KetamineBilling.Features.GeneralLedger;
using System.Globalization;
using System.Text.Json.Serialization;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.GeneralLedger;

/// <summary>What happens to a fact dated in a closed month (the clinic's choice).</summary>
public enum ClosedPeriodRule
{
    /// <summary>The command is refused (422 naming the date's field): date it in the open period, or have an Administrator reopen the month.</summary>
    [JsonStringEnumMemberName("refuse")] Refuse,

    /// <summary>The fact is recorded with its own date, and the journal posts it on the open period's first day, flagged prior-period.</summary>
    [JsonStringEnumMemberName("move")] Move
}

/// <summary>A month is closed: nothing posts in it, or before it, from now on. Months close in order, each after it has ended.</summary>
/// <param name="Month">The month's first day.</param>
public record MonthClosed(Guid BooksId, DateOnly Month, ClosedPeriodRule Rule, DateTimeOffset ClosedAt);

/// <summary>The last closed month is open again (an Administrator's act, with the reason).</summary>
public record MonthReopened(Guid BooksId, DateOnly Month, string Reason, DateTimeOffset ReopenedAt);

/// <summary>The clinic's choice for facts dated in a closed month.</summary>
public record ClosedPeriodRuleSet(Guid BooksId, ClosedPeriodRule Rule, DateTimeOffset SetAt);

public sealed record Reopening(DateOnly Month, string Reason);

/// <summary>The clinic's books: which months are closed and the rule for facts dated in them (one stream a clinic).</summary>
public sealed class Books
{
    public static readonly Guid StreamId = new("b00c5e11-7a3d-4c2e-9f61-2d8e0a4b7c90");

    public Guid Id { get; set; }
    public int Version { get; set; }
    public ClosedPeriodRule Rule { get; set; } = ClosedPeriodRule.Refuse;

    /// <summary>The closed months, oldest first (contiguous: each closes right after the one before).</summary>
    public List<DateOnly> Closed { get; set; } = [];

    /// <summary>The last reopening (a repeat of it, once the month is open, changes nothing).</summary>
    public Reopening? LastReopened { get; set; }

    /// <summary>The last day of the last closed month: nothing posts on or before it. Null while no month is closed.</summary>
    [JsonIgnore]
    public DateOnly? LockedThrough => Closed.Count == 0 ? null : Closed[^1].AddMonths(1).AddDays(-1);

    public static Books Create(MonthClosed e) => new Books { Id = e.BooksId }.With(e);
    public static Books Create(ClosedPeriodRuleSet e) => new Books { Id = e.BooksId }.With(e);

    public void Apply(MonthClosed e) => With(e);
    public void Apply(ClosedPeriodRuleSet e) => With(e);

    public void Apply(MonthReopened e)
    {
        if (Closed.Count > 0 && Closed[^1] == e.Month) Closed.RemoveAt(Closed.Count - 1);
        LastReopened = new Reopening(e.Month, e.Reason);
    }

    private Books With(MonthClosed e)
    {
        if (!Closed.Contains(e.Month)) Closed.Add(e.Month);
        return this;
    }

    private Books With(ClosedPeriodRuleSet e)
    {
        Rule = e.Rule;
        return this;
    }

    /// <summary>The books as they will be once <paramref name="e"/> is appended (this copy unchanged): a decision's answer.</summary>
    public Books After(object e)
    {
        var after = new Books { Id = Id, Version = Version, Rule = Rule, Closed = [.. Closed], LastReopened = LastReopened };
        switch (e)
        {
            case MonthClosed closed: after.Apply(closed); break;
            case MonthReopened reopened: after.Apply(reopened); break;
            case ClosedPeriodRuleSet set: after.Apply(set); break;
        }

        return after;
    }

    public static string Name(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
    public static string Title(DateOnly month) => month.ToString("MMMM yyyy", CultureInfo.InvariantCulture);

    /// <summary>"yyyy-MM" as the month's first day.</summary>
    public static bool TryParseMonth(string? value, out DateOnly month) =>
        DateOnly.TryParseExact($"{value}-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out month);

    public static Task<Books?> LoadAsync(IQuerySession session, CancellationToken ct) => session.LoadAsync<Books>(StreamId, ct);
}

/// <summary>
/// The one check a command recording a dated fact makes against the closed months: under the clinic's "refuse" rule a date on
/// or before the last closed month's end is refused, naming the field; under "move" it is accepted (the journal posts it in
/// the open period, flagged prior-period). The journal keeps closed months unchanged either way (<see cref="JournalProjection"/>).
/// </summary>
public static class ClosedPeriods
{
    /// <summary>
    /// A new fact's outcome under the rule: refused when its date is in a closed month and the rule is "refuse". A replay (or a
    /// refusal) passes unchanged, so a request made before the close still gets its answer.
    /// </summary>
    public static Outcome Guard(Outcome outcome, Books? books, DateOnly? date, string field) =>
        outcome is Outcome.Accepted && Check(books, date, field) is { } refused ? refused : outcome;

    public static Outcome.Rejected? Check(Books? books, DateOnly? date, string field)
    {
        if (books?.LockedThrough is not { } locked || date is not { } day || day > locked || books.Rule != ClosedPeriodRule.Refuse) return null;
        return Outcome.Reject(field,
            $"{Fmt.Date(day)} is in a closed period (the books are closed through {Books.Title(books.Closed[^1])}): date it on or after {Fmt.Date(locked.AddDays(1))}, or have an Administrator reopen the month");
    }
}
