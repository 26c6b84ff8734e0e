using System.Text.RegularExpressions;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Remittances;

/// <param name="Treatment">contractual, denial, patient or informational.</param>
public record SetReasonCodeTreatment(string? Treatment);

public static partial class SetReasonCodeTreatmentEndpoint
{
    // A group (CO, OA, PI, PR), a hyphen and a claim adjustment reason code (1-3 digits, or a letter and digits: A1, P2...).
    [GeneratedRegex("^(CO|OA|PI|PR)-([A-Z]?[0-9]{1,3})$")]
    private static partial Regex CodePattern();

    public static ProblemDetails Validate(string code, SetReasonCodeTreatment command)
    {
        var problems = new ValidationProblems();
        if (!CodePattern().IsMatch(code)) problems.Add("code", "must be a group (CO, OA, PI or PR), a hyphen and a reason code, such as CO-45");
        ApiEnum.Parse<AdjustmentTreatment>(problems, "treatment", command.Treatment);
        return problems.ToProblemDetails();
    }

    /// <summary>How posting treats this group and reason code from now on (a posting already made stays as it was). The same again changes nothing.</summary>
    public static Outcome Decide(ReasonCodeTable? table, string code, SetReasonCodeTreatment command, DateTimeOffset now)
    {
        var (group, reason) = (code[..2], code[3..]);
        var treatment = ApiEnum.Parse<AdjustmentTreatment>(new ValidationProblems(), "treatment", command.Treatment)!.Value;
        if (ReasonCodes.Treatment(table, group, reason) == treatment && table?.Set.ContainsKey(code) == true)
            return Outcome.Replay(ReasonCodes.View(table).Codes.Single(r => r.Group == group && r.Reason == reason));
        var set = new ReasonCodeTreatmentSet(ReasonCodeTable.StreamId, group, reason, treatment, now);
        var after = table is null ? ReasonCodeTable.Create(set) : Snapshot.Copy(table);
        if (table is not null) after.Apply(set);
        return Outcome.Ok(ReasonCodes.View(after).Codes.Single(r => r.Group == group && r.Reason == reason)).Append(ReasonCodeTable.StreamId, set);
    }

    /// <summary>Sets how posting treats one group and reason code (CO-45, PR-2...).</summary>
    [WolverinePut("/api/reason-codes/{code}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    [ProducesResponseType<ReasonCodeRow>(StatusCodes.Status200OK)]
    public static async Task<IResult> Put(string code, SetReasonCodeTreatment command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<ReasonCodeTable>(ReasonCodeTable.StreamId, ct);
        var outcome = Decide(stream.Aggregate, code, command, clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}
