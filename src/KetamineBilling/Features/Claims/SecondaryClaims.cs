using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Claims;

/// <summary>
/// Coordination of benefits (ADR 0021, docs/x12.md "Secondary claims"): when the primary payer's answer leaves the patient
/// something to pay and the patient has a secondary coverage active on the dates of service (another plan, or a drug maker's
/// copay-assistance program acting as secondary), the secondary claim is filed at once, ready for the next 837 batch. It
/// carries the primary's decision (2320/2330/2430) and moves what the patient was left to pay back to insurance until the
/// secondary answers. Called by posting (an 835 or a paper EOB) in the same transaction as the primary's adjudication.
/// </summary>
public static class SecondaryClaims
{
    /// <summary>The secondary claim of a primary claim: the same id wherever and however often it is worked out.</summary>
    public static Guid IdOf(Guid primaryClaimId) => DeterministicGuid.From(primaryClaimId, "secondary-claim");

    /// <summary>
    /// The secondary claim for <paramref name="primary"/> as it stands after its adjudication, against the account after the
    /// posting; null when none is due (no patient responsibility left, no secondary coverage, one already prepared, or the
    /// claim is itself a secondary claim).
    /// </summary>
    /// <param name="adjudicatedOn">The day of the primary's answer (its 835's check date; DTP*573); the day posted when not given.</param>
    public static Outcome.Accepted? Prepare(Claim primary, PatientAccount account, DateTimeOffset now, DateOnly? adjudicatedOn = null)
    {
        if (primary.PriorPayer is not null || primary.SecondaryClaimId is not null || primary.Superseded) return null;
        if (primary.Adjudications.LastOrDefault() is not { PatientResponsibility: > 0 } adjudication) return null;
        if (account.Coverages.FirstOrDefault(c => c.CoverageId == primary.CoverageId) is not { Priority: CoveragePriority.Primary }) return null;
        var dates = primary.Lines.Select(l => l.DateOfService).Distinct().ToList();
        // A secondary plan first; else a copay-assistance program billed through a payer (it pays what the plans leave).
        var secondary = account.Coverages
                            .Where(c => c.Priority == CoveragePriority.Secondary && c.PayerId != primary.PayerId && dates.All(c.ActiveOn))
                            .OrderBy(c => c.ActiveFrom).LastOrDefault()
                        ?? account.CopayAssistance.Select(p => p.AsCoverage()).OfType<CoverageRecorded>()
                            .Where(c => c.PayerId != primary.PayerId && dates.All(c.ActiveOn)).OrderBy(c => c.ActiveFrom).LastOrDefault();
        if (secondary is null) return null;

        Outcome.Accepted NotPrepared(string reason) =>
            primary.SecondaryNotPrepared == reason ? Outcome.Ok(null) : Outcome.Ok(null).Append(primary.Id, new SecondaryClaimNotPrepared(primary.Id, secondary.CoverageId, reason, now));

        if (adjudication.ForwardedTo is { } forwardedTo)
            return NotPrepared($"the primary payer forwarded the claim to {forwardedTo} (crossover, CLP02 19/20/21): that payer answers it, so no claim is sent");

        var sessions = primary.Lines.Select(l => l.SessionId).Distinct().Select(account.Session).ToList();
        if (sessions.Any(s => s is null || s.Voided)) return NotPrepared("a session of the claim is voided or no longer on the account");
        if (sessions.Any(s => s!.Claims.Any(c => c.PayerId == secondary.PayerId)))
            return NotPrepared("a session of the claim is already on an open claim to the secondary payer");

        var warnings = new List<string>();
        if (secondary.AnnualMaximum is { } maximum)
        {
            var year = dates.Min().Year;
            var used = account.PaidByPayer(secondary.PayerId, year);
            if (used >= maximum)
                return NotPrepared($"the secondary coverage's annual maximum of {Fmt.Money(maximum)} for {year} is used ({Fmt.Money(used)} paid): the patient owes the rest");
            if (maximum - used < adjudication.PatientResponsibility)
                warnings.Add($"{Fmt.Money(maximum - used)} of the annual maximum of {Fmt.Money(maximum)} remains for {year}: beyond it the patient owes");
        }

        var id = IdOf(primary.Id);
        // A line's authorization counts for the payer that granted it only.
        var lines = primary.Lines.Select(l => l with
        {
            AuthorizationNumber = account.Session(l.SessionId)!.AuthorizationPayerId == secondary.PayerId ? account.Session(l.SessionId)!.AuthorizationNumber : null
        }).ToList();
        var prior = new PriorPayer(primary.Id, primary.PayerId, primary.CoverageId, primary.ControlNumber, adjudication.PayerClaimNumber ?? primary.PayerClaimNumber,
            adjudicatedOn ?? DateOnly.FromDateTime(adjudication.AdjudicatedAt.UtcDateTime), adjudication.Paid, adjudication.PatientResponsibility, [],
            // A line the primary did not answer has no 2430 (SV102 must equal SVD02 plus its CAS where one is sent).
            adjudication.Lines.Where(a => lines.Any(l => l.LineNumber == a.LineNumber)).Select(a => new PriorPayerLine(a.LineNumber, a.Paid, a.Adjustments)).ToList());
        var filed = new ClaimFiled(id, account.Id, secondary.PayerId, secondary.CoverageId, FileClaimEndpoint.ControlNumber(id), lines, primary.DiagnosisCodes,
            FileClaimEndpoint.MostLines(lines, l => l.AuthorizationNumber), primary.RenderingProviderId, warnings, primary.TotalCharge, now, primary.PlaceOfService,
            PriorPayer: prior);
        // What the primary left the patient on these lines becomes the secondary's to answer for until it adjudicates.
        var moves = lines.Select(l => (l.SessionId, l.SessionLineNumber))
            .Select(x => (x.SessionId, x.SessionLineNumber, Open: account.Session(x.SessionId)!.Lines.First(a => a.LineNumber == x.SessionLineNumber).Open.Patient))
            .Where(x => x.Open > 0)
            .Select(x => new ResponsibilityMove(x.SessionId, x.SessionLineNumber, ResponsibleParty.Patient, ResponsibleParty.Insurance, x.Open))
            .ToList();
        return Outcome.Ok(null)
            .Append(primary.Id, new SecondaryClaimPrepared(primary.Id, id, filed.ControlNumber, secondary.PayerId, now))
            .Start<Claim>(id, filed)
            .Append(account.Id, InsuranceOnAccount.Claimed(account, id, secondary.PayerId, sessions.Select(s => s!.SessionId).ToList(), moves, now));
    }
}
