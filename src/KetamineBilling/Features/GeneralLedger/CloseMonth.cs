using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.GeneralLedger;

/// <param name="Month">The month to close, as yyyy-MM: one that has ended, right after the last closed one.</param>
public record CloseMonth(string? Month);

public static class CloseMonthEndpoint
{
    public static ProblemDetails Validate(CloseMonth command)
    {
        var problems = new ValidationProblems();
        if (!Books.TryParseMonth(command.Month, out _)) problems.Add("month", "is required, a month as yyyy-MM");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Closes the month: it must have ended (its last day before the clinic's today), and follow the last closed month (the first
    /// close may be any ended month: it locks every day before it too). Closing a closed month again changes nothing.
    /// </summary>
    public static Outcome Decide(Books? books, CloseMonth command, DateOnly today, DateTimeOffset now)
    {
        Books.TryParseMonth(command.Month, out var month);
        books ??= new Books { Id = Books.StreamId };
        if (books.Closed.Contains(month)) return Outcome.Replay(BooksPeriods.View(books));
        var last = books.Closed.Count == 0 ? (DateOnly?)null : books.Closed[^1];
        if (last is { } before && month < before)
            return Outcome.Conflict($"{Books.Title(month)} is before {Books.Title(books.Closed[0])}, the first closed month: it is locked with it");
        if (last is { } previous && month != previous.AddMonths(1))
            return Outcome.Reject("month", $"months close in order: close {Books.Title(previous.AddMonths(1))} first");
        if (month.AddMonths(1) > today)
            return Outcome.Reject("month", $"{Books.Title(month)} has not ended: it can be closed from {Fmt.Date(month.AddMonths(1))}");

        var closed = new MonthClosed(Books.StreamId, month, books.Rule, now);
        return Outcome.Ok(BooksPeriods.View(books.After(closed))).Append(Books.StreamId, closed);
    }

    /// <summary>
    /// Closes a month: from now on nothing posts in it or before it (facts dated there are refused or moved to the open period, as
    /// the clinic chose), and the close report (its A/R roll-forward by party) is kept once the journal has posted up to the close.
    /// </summary>
    [WolverinePost("/api/books/closes"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("General ledger")]
    [ProducesResponseType<BooksView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Post(CloseMonth command, IDocumentSession session, ClinicCalendar calendar, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Books>(Books.StreamId, ct);
        var outcome = Decide(stream.Aggregate, command, calendar.Today(), clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}
