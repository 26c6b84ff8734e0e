using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.GeneralLedger;

/// <param name="Reason">Why the month is opened again: kept with the act, for the audit.</param>
public record ReopenMonth(string? Reason);

public static class ReopenMonthEndpoint
{
    public static ProblemDetails Validate(string month, ReopenMonth command)
    {
        var problems = new ValidationProblems();
        if (!Books.TryParseMonth(month, out _)) problems.Add("month", "must be a month as yyyy-MM");
        if (string.IsNullOrWhiteSpace(command.Reason) || command.Reason.Trim().Length < 10)
            problems.Add("reason", "is required: at least 10 characters saying why the month is opened again");
        else if (command.Reason.Length > 500) problems.Add("reason", "must be at most 500 characters");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Opens the last closed month again (months reopen from the latest, as they close). The same reopening again, with the same
    /// reason, changes nothing.
    /// </summary>
    public static Outcome Decide(Books? books, DateOnly month, ReopenMonth command, DateTimeOffset now)
    {
        books ??= new Books { Id = Books.StreamId };
        var reason = command.Reason!.Trim();
        if (!books.Closed.Contains(month))
        {
            return books.LastReopened is { } last && last.Month == month && last.Reason == reason
                ? Outcome.Replay(BooksPeriods.View(books))
                : Outcome.Conflict($"{Books.Title(month)} is not closed");
        }

        if (books.Closed[^1] != month) return Outcome.Conflict($"reopen {Books.Title(books.Closed[^1])} first: months reopen from the latest closed one");
        var reopened = new MonthReopened(Books.StreamId, month, reason, now);
        return Outcome.Ok(BooksPeriods.View(books.After(reopened))).Append(Books.StreamId, reopened);
    }

    /// <summary>Opens the last closed month again: an Administrator's act, with the reason, kept in the books' history.</summary>
    [WolverinePost("/api/books/closes/{month}/reopen"), Authorize(Policy = Policies.Administrator)]
    [Tags("General ledger")]
    [ProducesResponseType<BooksView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Post(string month, ReopenMonth command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        Books.TryParseMonth(month, out var first);
        var stream = await session.Events.FetchForWriting<Books>(Books.StreamId, ct);
        if (stream.Aggregate is null) return Outcome.Conflict($"{Books.Title(first)} is not closed").ToResult();
        var outcome = Decide(stream.Aggregate, first, command, clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}
