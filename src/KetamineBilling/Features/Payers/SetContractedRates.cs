using KetamineBilling.Infrastructure;
using System.Text.RegularExpressions;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Payers;

/// <param name="Allowed">The contracted allowed amount for one unit of the code.</param>
public record ContractedRate(string? Code, decimal? Allowed);

/// <summary>The payer's whole contracted-rate table: it replaces the one before (an empty list: no contract).</summary>
public record SetContractedRates(IReadOnlyList<ContractedRate>? Rates);

public static partial class SetContractedRatesEndpoint
{
    [GeneratedRegex("^[A-Z0-9]{5}$")]
    private static partial Regex ProcedureCode();

    public const int MaxRates = 200;

    public static ProblemDetails Validate(SetContractedRates command)
    {
        var problems = new ValidationProblems();
        if (command.Rates is null) problems.Add("rates", "is required: the whole table, [] for none");
        else if (command.Rates.Count > MaxRates) problems.Add("rates", $"must hold at most {MaxRates} codes");
        else
        {
            for (var i = 0; i < command.Rates.Count; i++)
            {
                var rate = command.Rates[i];
                if (rate?.Code is not { } code || !ProcedureCode().IsMatch(code.Trim().ToUpperInvariant()))
                    problems.Add($"rates[{i}].code", "must be a CPT or HCPCS code (5 letters or digits)");
                problems.RequireMoney($"rates[{i}].allowed", rate?.Allowed, 100_000m);
            }

            if (!problems.Any && command.Rates.Select(r => r.Code!.Trim().ToUpperInvariant()).Distinct().Count() != command.Rates.Count)
                problems.Add("rates", "must not name a code twice");
        }

        return problems.ToProblemDetails();
    }

    /// <summary>The table as it reads from now on (reference data, changed in place); the same table again changes nothing.</summary>
    public static Outcome Decide(Guid id, Payer? payer, SetContractedRates command)
    {
        if (payer is null) return Outcome.NotFound($"payer {id} does not exist");
        var rates = command.Rates!.ToDictionary(r => r.Code!.Trim().ToUpperInvariant(), r => r.Allowed!.Value);
        if (rates.Count == payer.ContractedRates.Count && rates.All(r => payer.ContractedRates.GetValueOrDefault(r.Key) == r.Value)) return Outcome.Replay(payer);
        payer.ContractedRates = rates;
        return Outcome.Ok(payer);
    }

    [WolverinePut("/api/payers/{id}/contracted-rates"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Payers")]
    public static async Task<IResult> Put(Guid id, SetContractedRates command, IDocumentSession session, CancellationToken ct)
    {
        var outcome = Decide(id, await session.LoadAsync<Payer>(id, ct), command);
        if (outcome is Outcome.Accepted { Answer: Payer changed })
        {
            session.Store(changed);
            await session.SaveChangesAsync(ct);
        }

        return outcome.ToResult();
    }
}
