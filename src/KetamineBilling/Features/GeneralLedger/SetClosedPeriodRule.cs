using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.GeneralLedger;

/// <param name="Rule">"refuse" (facts dated in a closed month are refused) or "move" (posted in the open period, flagged prior-period).</param>
public record SetClosedPeriodRule(string? Rule);

public static class SetClosedPeriodRuleEndpoint
{
    public static ProblemDetails Validate(SetClosedPeriodRule command)
    {
        var problems = new ValidationProblems();
        ApiEnum.Parse<ClosedPeriodRule>(problems, "rule", command.Rule);
        return problems.ToProblemDetails();
    }

    /// <summary>The rule from now on; the rule in force again changes nothing.</summary>
    public static Outcome Decide(Books? books, SetClosedPeriodRule command, DateTimeOffset now)
    {
        var rule = ApiEnum.Parse<ClosedPeriodRule>(new ValidationProblems(), "rule", command.Rule)!.Value;
        books ??= new Books { Id = Books.StreamId };
        if (books.Rule == rule) return Outcome.Replay(BooksPeriods.View(books));
        var set = new ClosedPeriodRuleSet(Books.StreamId, rule, now);
        return Outcome.Ok(BooksPeriods.View(books.After(set))).Append(Books.StreamId, set);
    }

    /// <summary>Sets what happens to a fact dated in a closed month: refused, or moved to the open period (until set: refused).</summary>
    [WolverinePut("/api/books/closed-period-rule"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("General ledger")]
    [ProducesResponseType<BooksView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Put(SetClosedPeriodRule command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Books>(Books.StreamId, ct);
        var outcome = Decide(stream.Aggregate, command, clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}
