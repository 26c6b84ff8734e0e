using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Claims;

/// <param name="Disposition">What happens to what is still open with insurance on the claim's lines (a final
/// denial): "bill-patient" moves it to the patient, "write-off" adjusts it off. Required when anything is open.</param>
public record CloseClaim(string? Reason, string? Disposition = null);

public static class CloseClaimEndpoint
{
    public static ProblemDetails Validate(CloseClaim command) => ClaimDecisions.ValidateReason(command.Reason);

    /// <summary>
    /// Closes the claim. What is still open with insurance on its lines is billed to the patient or written off, as
    /// the command says; sessions the payer never processed, or denied, are given back.
    /// </summary>
    public static Outcome Decide(Claim claim, PatientAccount account, CloseClaim command, DateTimeOffset now)
    {
        if (ClaimDecisions.Illegal(claim, "closed", ClaimStatus.Filed, ClaimStatus.Acknowledged, ClaimStatus.Paid, ClaimStatus.PartiallyPaid, ClaimStatus.Denied,
                ClaimStatus.Appealed, ClaimStatus.Rejected) is { } conflict)
            return conflict;
        var e = new ClaimClosed(claim.Id, command.Reason!.Trim(), now);
        var outcome = Outcome.Ok(ClaimDecisions.After(claim, e)).Append(claim.Id, e);
        if (claim.Status == ClaimStatus.Rejected) return outcome;

        var open = claim.Lines
            .Select(l => (Claim: l, Line: account.Line(l.SessionId, l.SessionLineNumber)))
            .Where(x => x.Line is { Open.Insurance: > 0 } && !account.Session(x.Claim.SessionId)!.Voided)
            .Select(x => new LineAmount(x.Claim.SessionId, x.Claim.SessionLineNumber, x.Line!.Open.Insurance))
            .ToList();
        if (open.Count > 0)
        {
            if (command.Disposition is not ("bill-patient" or "write-off"))
                return Outcome.Reject("disposition", $"{Fmt.Money(open.Sum(x => x.Amount))} is still open with insurance: say bill-patient or write-off");
            var reason = $"claim {claim.ControlNumber} closed: {e.Reason}";
            outcome = outcome.Append(claim.PatientId, command.Disposition == "bill-patient"
                ? InsuranceOnAccount.BilledToPatient(claim.PatientId, open, reason, e.ClosedAt)
                : InsuranceOnAccount.WrittenOff(claim.PatientId, open, reason, e.ClosedAt));
        }

        // Sessions the payer never processed, or denied, may go on another (corrected) claim; processed ones stay with this one.
        if (claim.Adjudications.Count == 0 || claim.Status == ClaimStatus.Denied)
        {
            outcome = outcome.Append(claim.PatientId, InsuranceOnAccount.Released(claim.PatientId, claim.Id, claim.Lines.Select(l => l.SessionId).Distinct().ToList(),
                $"claim closed: {e.Reason}", e.ClosedAt));
        }

        return outcome;
    }

    [WolverinePost("/api/claims/{claimId}/close"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<(IResult, Events)> Post(
        CloseClaim command, [WriteAggregate("claimId", OnMissing = OnMissing.ProblemDetailsWith404)] Claim claim, IDocumentSession session,
        TimeProvider clock, CancellationToken ct)
    {
        // The patient stream is fetched for writing: its version check holds against a concurrent change to the account.
        var account = await session.Events.FetchForWriting<PatientAccount>(claim.PatientId, ct);
        var outcome = Decide(claim, account.Aggregate!, command, clock.GetUtcNow());
        if (outcome.EventsFor(claim.PatientId) is { Count: > 0 } patientEvents) account.AppendMany(patientEvents);
        return (outcome.ToResult(), [.. outcome.EventsFor(claim.Id)]);
    }
}
