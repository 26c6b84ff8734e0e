using System.Text.RegularExpressions;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Fees;

/// <param name="EffectiveFrom">The first date of service the price applies to; today when left out.</param>
/// <param name="CashPrice">The self-pay price, at most the list price; none when left out.</param>
public record SetFeePrice(string Description, decimal? Price, DateOnly? EffectiveFrom, decimal? CashPrice = null);

public static partial class SetFeePriceEndpoint
{
    public const decimal MaxPrice = 100_000m;

    // CPT (five digits, or four and a letter for category II/III) and HCPCS level II (a letter and four digits).
    [GeneratedRegex("^[A-Z0-9]{4}[A-Z0-9]$")]
    private static partial Regex ProcedureCode();

    public static ProblemDetails Validate(string code, SetFeePrice command)
    {
        var problems = new ValidationProblems();
        if (!ProcedureCode().IsMatch(code.ToUpperInvariant()))
        {
            problems.Add("code", "must be a five-character CPT or HCPCS code such as 96365 or J3490");
        }

        problems.RequireText("description", command.Description, 200);
        problems.Check("description", command.Description);
        problems.RequireMoney("price", command.Price, MaxPrice);
        if (command.CashPrice is { } cash)
        {
            problems.RequireMoney("cashPrice", cash, MaxPrice);
            if (command.Price is { } price && cash > price)
            {
                problems.Add("cashPrice", "must not exceed the list price");
            }
        }
        if (command.EffectiveFrom is { Year: < 2000 })
        {
            problems.Add("effectiveFrom", "must be on or after 2000-01-01");
        }

        return problems.ToProblemDetails();
    }

    /// <summary>
    /// A new price from a date on, answered with the code's line as it then reads; a replay (nothing recorded) when the
    /// schedule already says exactly this from that date.
    /// </summary>
    public static Outcome Decide(FeeSchedule? schedule, string code, SetFeePrice command, DateOnly today, DateTimeOffset now)
    {
        var effectiveFrom = command.EffectiveFrom ?? today;
        var description = command.Description.Trim();
        var prices = schedule?.Codes.GetValueOrDefault(code);
        var current = prices?.FirstOrDefault(p => p.EffectiveFrom == effectiveFrom);
        if (prices is not null && current is not null && current.Price == command.Price && current.Description == description && current.CashPrice == command.CashPrice)
        {
            return Outcome.Replay(Line(code, prices, today));
        }

        var set = new FeePriceSet(FeeSchedule.StreamId, code, description, command.Price!.Value, effectiveFrom, now, command.CashPrice);
        // The code's prices as they read once the event is applied, on a copy: the schedule handed in is not changed.
        var after = new FeeScheduleProjection().Apply(set, new FeeSchedule { Id = FeeSchedule.StreamId, Codes = { [code] = [.. prices ?? []] } });
        return Outcome.Ok(Line(code, after.Codes[code], today)).Append(FeeSchedule.StreamId, set);
    }

    [WolverinePut("/api/fee-schedule/{code}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Fee schedule")]
    [ProducesResponseType<FeeScheduleLine>(StatusCodes.Status200OK)]
    public static async Task<IResult> Put(
        string code, SetFeePrice command, IDocumentSession session, ClinicCalendar calendar, TimeProvider clock, CancellationToken ct)
    {
        code = code.ToUpperInvariant();
        var stream = await session.Events.FetchForWriting<FeeSchedule>(FeeSchedule.StreamId, ct);
        var outcome = Decide(stream.Aggregate, code, command, calendar.Today(), clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }

    internal static FeeScheduleLine Line(string code, List<FeePrice> prices, DateOnly on)
    {
        var current = prices.LastOrDefault(p => p.EffectiveFrom <= on) ?? prices[^1];
        return new FeeScheduleLine(code, current.Description, current.Price, current.CashPrice, current.EffectiveFrom, prices);
    }
}
