using System.Text.RegularExpressions;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.GeneralLedger;

/// <param name="Number">The account's number in the clinic's accounting package: 1-20 letters, digits, '-' or '.'.</param>
/// <param name="Name">Its name there (QuickBooks Desktop's import finds accounts by name): 1-100 characters, no tab or line break.</param>
public record SetChartAccount(string? Number, string? Name);

public static partial class SetChartAccountEndpoint
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9.\\-]{0,19}$")]
    private static partial Regex NumberPattern();

    public static ProblemDetails Validate(string account, SetChartAccount command)
    {
        var problems = new ValidationProblems();
        if (command.Number is null || !NumberPattern().IsMatch(command.Number.Trim()))
            problems.Add("number", "is required: 1 to 20 letters, digits, '-' or '.', starting with a letter or digit");
        if (string.IsNullOrWhiteSpace(command.Name)) problems.Add("name", "is required");
        else if (command.Name.Trim().Length > 100) problems.Add("name", "must be at most 100 characters");
        else if (command.Name.IndexOfAny(['\t', '\r', '\n']) >= 0) problems.Add("name", "must not hold a tab or a line break");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// The account's number and name from now on, in every view and export (numbers and names are unique in a chart: an
    /// accounting package finds an account by either). The same again changes nothing.
    /// </summary>
    public static Outcome Decide(ClinicChart? chart, string account, SetChartAccount command, DateTimeOffset now)
    {
        if (Enum.GetValues<GlAccount>().Where(a => ApiEnum.Name(a) == account).Select(a => (GlAccount?)a).FirstOrDefault() is not { } gl)
            return Outcome.NotFound($"the chart has no account '{account}': see GET /api/books/accounts");
        var (number, name) = (command.Number!.Trim(), command.Name!.Trim());
        var accounts = ClinicChart.Accounts(chart);
        var current = accounts.Single(a => a.Account == gl);
        if (current.Number == number && current.Name == name) return Outcome.Replay(current);
        var problems = new ValidationProblems();
        if (accounts.FirstOrDefault(a => a.Account != gl && string.Equals(a.Number, number, StringComparison.OrdinalIgnoreCase)) is { } byNumber)
            problems.Add("number", $"is the number of {byNumber.Name} already");
        if (accounts.FirstOrDefault(a => a.Account != gl && string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)) is { } byName)
            problems.Add("name", $"is the name of account {byName.Number} already");
        if (problems.Any) return Outcome.Reject(problems);
        var set = new ChartAccountSet(ClinicChart.StreamId, gl, number, name, now);
        return Outcome.Ok(current with { Number = number, Name = name }).Append(ClinicChart.StreamId, set);
    }

    /// <summary>Gives one of the platform's accounts the clinic's own number and name.</summary>
    [WolverinePut("/api/books/accounts/{account}"), Authorize(Policy = Policies.FinanceOrBilling)]
    [Tags("General ledger")]
    [ProducesResponseType<ChartAccount>(StatusCodes.Status200OK)]
    public static async Task<IResult> Put(string account, SetChartAccount command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<ClinicChart>(ClinicChart.StreamId, ct);
        var outcome = Decide(stream.Aggregate, account, command, clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}
