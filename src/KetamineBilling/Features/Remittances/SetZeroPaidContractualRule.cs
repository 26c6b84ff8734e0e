using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Remittances;

/// <param name="Treatment">denial (the default: kept open with the payer) or contractual (written off).</param>
public record SetZeroPaidContractualRule(string? Treatment);

public static class SetZeroPaidContractualRuleEndpoint
{
    public static ProblemDetails Validate(SetZeroPaidContractualRule command)
    {
        var problems = new ValidationProblems();
        if (ApiEnum.Parse<AdjustmentTreatment>(problems, "treatment", command.Treatment) is { } t && t is not (AdjustmentTreatment.Denial or AdjustmentTreatment.Contractual))
            problems.Add("treatment", "must be denial or contractual");
        return problems.ToProblemDetails();
    }

    /// <summary>How a line the payer paid nothing on, adjusted in full with CO-45, posts from now on. The same again changes nothing.</summary>
    public static Outcome Decide(ReasonCodeTable? table, SetZeroPaidContractualRule command, DateTimeOffset now)
    {
        var treatment = ApiEnum.Parse<AdjustmentTreatment>(new ValidationProblems(), "treatment", command.Treatment)!.Value;
        if ((table?.ZeroPaidContractual ?? AdjustmentTreatment.Denial) == treatment) return Outcome.Replay(ReasonCodes.View(table));
        var set = new ZeroPaidContractualRuleSet(ReasonCodeTable.StreamId, treatment, now);
        var after = table is null ? ReasonCodeTable.Create(set) : Snapshot.Copy(table);
        if (table is not null) after.Apply(set);
        return Outcome.Ok(ReasonCodes.View(after)).Append(ReasonCodeTable.StreamId, set);
    }

    [WolverinePut("/api/reason-codes/zero-paid-contractual"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    [ProducesResponseType<ReasonCodeTableView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Put(SetZeroPaidContractualRule command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<ReasonCodeTable>(ReasonCodeTable.StreamId, ct);
        var outcome = Decide(stream.Aggregate, command, clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}
