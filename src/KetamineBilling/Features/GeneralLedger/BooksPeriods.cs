using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.GeneralLedger;

/// <summary>One act on the books, as its history shows it: a close, a reopening (with its reason) or the rule set.</summary>
/// <param name="Act">"closed", "reopened" or "rule-set".</param>
public sealed record BooksAct(string Act, string? Month, string? Reason, ClosedPeriodRule? Rule, Actor Actor);

/// <summary>
/// The clinic's books: the rule for facts dated in a closed month, the closed months (oldest first), the day nothing posts on
/// or before (the last closed month's end), the next month that can be closed, and the history of every close and reopening.
/// No amounts: an Administrator reads it to reopen a month.
/// </summary>
public sealed record BooksView(
    ClosedPeriodRule Rule, IReadOnlyList<string> Closed, DateOnly? LockedThrough, string? NextToClose, IReadOnlyList<BooksAct>? History = null);

public static class BooksPeriods
{
    public static BooksView View(Books books, DateOnly? today = null)
    {
        var next = books.Closed.Count > 0 ? books.Closed[^1].AddMonths(1) : today is { } t ? new DateOnly(t.Year, t.Month, 1).AddMonths(-1) : (DateOnly?)null;
        return new BooksView(books.Rule, books.Closed.Select(Books.Name).ToList(), books.LockedThrough,
            next is { } n && (today is null || n.AddMonths(1) <= today) ? Books.Name(n) : null);
    }

    /// <summary>The books' state and their history, with who did each act and when.</summary>
    [WolverineGet("/api/books/periods"), Authorize(Policy = Policies.BooksPeriods)]
    [Tags("General ledger")]
    public static async Task<BooksView> Get(IQuerySession session, IGlobalStore accounts, ClinicCalendar calendar, CancellationToken ct)
    {
        var books = await Books.LoadAsync(session, ct) ?? new Books { Id = Books.StreamId };
        var events = await EventActors.OfStreamsAsync(session, accounts, [Books.StreamId], [typeof(MonthClosed), typeof(MonthReopened), typeof(ClosedPeriodRuleSet)], ct);
        var history = events.Select(x => x.Event.Data switch
        {
            MonthClosed c => new BooksAct("closed", Books.Name(c.Month), null, c.Rule, x.Actor),
            MonthReopened r => new BooksAct("reopened", Books.Name(r.Month), r.Reason, null, x.Actor),
            ClosedPeriodRuleSet s => new BooksAct("rule-set", null, null, s.Rule, x.Actor),
            _ => throw new InvalidOperationException()
        }).Reverse().ToList();
        return View(books, calendar.Today()) with { History = history };
    }

    /// <summary>
    /// The close report of a month: the latest close's (a month closed, reopened and closed again has one report a close:
    /// <c>all=true</c> lists them all, newest first). 404 while the month was never closed or the journal has not reached the close yet.
    /// </summary>
    [WolverineGet("/api/books/closes/{month}"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("General ledger")]
    public static async Task<IResult> GetReport(string month, bool? all, IQuerySession session, CancellationToken ct)
    {
        if (!Books.TryParseMonth(month, out var first))
        {
            var problems = new ValidationProblems();
            problems.Add("month", "must be a month as yyyy-MM");
            return problems.ToResult(StatusCodes.Status400BadRequest);
        }

        var reports = await session.Query<CloseReport>().Where(r => r.Month == first).OrderByDescending(r => r.Sequence).ToListAsync(ct);
        if (reports.Count == 0)
        {
            var books = await Books.LoadAsync(session, ct);
            return Outcome.NotFound(books?.Closed.Contains(first) == true
                ? $"the close report of {Books.Title(first)} is being made: the journal has not reached the close yet"
                : $"{Books.Title(first)} has not been closed").ToResult();
        }

        // Accounts are named as the clinic's chart names them now.
        var chart = await ClinicChart.LoadAsync(session, ct);
        foreach (var report in reports)
            report.TrialBalance = report.TrialBalance.Select(r => r with { Number = chart[r.Account].Number, Name = chart[r.Account].Name }).ToList();
        return all == true ? Results.Ok(reports) : Results.Ok(reports[0]);
    }
}
