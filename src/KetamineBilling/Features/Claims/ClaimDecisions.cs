using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Features.Claims;

/// <summary>
/// The claim's own rules, shared by its commands and by posting (which lives with Remittances): legal state changes,
/// and the claim-stream events a payer's answer makes. Pure: the claim as it is in, events or a refusal out.
/// filed → acknowledged | rejected; acknowledged → rejected; adjudicated (paid, partially paid, denied) →
/// appealed | closed; appealed → re-adjudicated | closed; rejected → closed. Anything else is a 409.
/// </summary>
public static class ClaimDecisions
{
    /// <summary>The states a payer's answer (an 835 claim payment or a paper EOB) may post to.</summary>
    private static readonly ClaimStatus[] Adjudicable =
        [ClaimStatus.Filed, ClaimStatus.Acknowledged, ClaimStatus.Appealed, ClaimStatus.Paid, ClaimStatus.PartiallyPaid, ClaimStatus.Denied,
         // The payer's own answers to a claim replaced or voided still post (its reversal of the original's payment).
         ClaimStatus.Replaced, ClaimStatus.Voided];

    /// <summary>The states a claim is corrected (replaced) or voided from: the payer has adjudicated it.</summary>
    public static readonly ClaimStatus[] Correctable = [ClaimStatus.Paid, ClaimStatus.PartiallyPaid, ClaimStatus.Denied];

    /// <summary>The shape of a payer's claim number given by hand (REF*F8): 1 to 50 characters, no X12 delimiter.</summary>
    public static void CheckPayerClaimNumber(ValidationProblems problems, string? number)
    {
        if (number is null) return;
        if (string.IsNullOrWhiteSpace(number) || number.Trim().Length > 50) problems.Add("payerClaimNumber", "must be 1 to 50 characters");
        X12.X12Text.Check(problems, "payerClaimNumber", number);
    }

    /// <summary>
    /// The payer's claim control number a replacement or void names (REF*F8): the one its 835 gave, else the one the
    /// request gives (from a paper EOB); a 422 when neither.
    /// </summary>
    public static (string? Number, Outcome.Rejected? Problem) PayerClaimNumber(Claim claim, string? given)
    {
        if (claim.PayerClaimNumber is { } known)
        {
            return given is null || given.Trim() == known
                ? (known, null)
                : (null, Outcome.Reject("payerClaimNumber", $"the payer's answer gave claim number {known}: leave it out or give that one"));
        }

        return string.IsNullOrWhiteSpace(given)
            ? (null, Outcome.Reject("payerClaimNumber", "is required: no answer of the payer's gave its claim number (CLP07); take it from the EOB"))
            : (given.Trim(), null);
    }

    /// <summary>A 409 when the claim's state does not allow <paramref name="action"/>; else null.</summary>
    public static Outcome.Rejected? Illegal(Claim claim, string action, params ClaimStatus[] from) =>
        from.Contains(claim.Status) ? null : Outcome.Conflict($"a claim that is {ApiEnum.Name(claim.Status)} cannot be {action}");

    /// <summary>The reason every state change but acknowledging requires (shape only).</summary>
    public static ProblemDetails ValidateReason(string? reason)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reason", reason, 500);
        return problems.ToProblemDetails();
    }

    /// <summary>The claim as it reads after one more event (a command's answer).</summary>
    public static ClaimView After(Claim claim, params IEnumerable<object> events)
    {
        var copy = Snapshot.Copy(claim);
        foreach (var e in events) copy.Fold(e);
        return ClaimView.From(copy);
    }

    /// <summary>Why nothing may post to the claim now (rejected or closed), or null.</summary>
    public static string? NotAdjudicable(Claim claim) =>
        Adjudicable.Contains(claim.Status) ? null : $"claim {claim.ControlNumber} is {claim.Status.ToString().ToLowerInvariant()}: nothing posts to it";

    /// <summary>
    /// The payer's adjudication of the claim's lines. Denied means the payer refused every line, not that it paid
    /// nothing: a line applied in full to the deductible (PR) is processed, not denied.
    /// </summary>
    /// <param name="denied">For each of <paramref name="lines"/>: whether the payer denied it.</param>
    /// <param name="partlyDenied">Whether the payer denied part of a line it paid (a denial code beside a payment).</param>
    public static ClaimAdjudicated Adjudicated(
        Claim claim, Guid? remittanceId, string source, IReadOnlyList<AdjudicatedLine> lines, IReadOnlyList<bool> denied, decimal paid,
        decimal patientResponsibility, string? payerClaimNumber, DateTimeOffset now, bool partlyDenied = false, string? forwardedTo = null)
    {
        var outcome = denied.All(d => d) ? ClaimStatus.Denied : denied.Any(d => d) || partlyDenied ? ClaimStatus.PartiallyPaid : ClaimStatus.Paid;
        return new ClaimAdjudicated(claim.Id, remittanceId, source, outcome, lines, paid, patientResponsibility, payerClaimNumber, now, forwardedTo);
    }

    /// <summary>The payer took its last adjudication back (CLP02 = 22).</summary>
    public static ClaimAdjudicationReversed AdjudicationReversed(Claim claim, Guid? remittanceId, string source, DateTimeOffset now) =>
        new(claim.Id, remittanceId, source, now);
}
