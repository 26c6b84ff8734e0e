using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Remittances;

/// <summary>What a payer said about one claim line, whether it came from an 835 or a paper EOB.</summary>
public sealed record PostingLine(int ClaimLineNumber, decimal Charge, decimal? Allowed, decimal Paid, IReadOnlyList<ClaimAdjustment> Adjustments, IReadOnlyList<string> Remarks);

/// <summary>The decision on one claim payment: events for the claim and the patient, or why it cannot be posted.</summary>
/// <param name="Before">For a source already posted: what that posting paid, on how many lines.</param>
public sealed record PostingOutcome(
    string? Problem, IReadOnlyList<object> ClaimEvents, IReadOnlyList<object> PatientEvents, bool AlreadyPosted = false, (decimal Paid, int Lines)? Before = null)
{
    public static PostingOutcome Refused(string problem) => new(problem, [], []);

    public decimal Paid => Before?.Paid ??
                           PatientEvents.OfType<InsurancePaymentPosted>().Sum(p => p.Paid) - PatientEvents.OfType<InsurancePaymentReversed>().Sum(p => p.Paid)
                           + PatientEvents.OfType<InsuranceOverpaid>().Sum(o => o.Amount)
                           - PatientEvents.OfType<InsuranceOverpaymentCleared>().Where(c => c.How == "reversal").Sum(c => c.Amount);

    public int Lines => Before?.Lines ??
                        PatientEvents.OfType<InsurancePaymentPosted>().Sum(p => p.Lines.Count) + PatientEvents.OfType<InsurancePaymentReversed>().Sum(p => p.Lines.Count);
}

/// <summary>
/// The posting rules, the same for an 835 line and a paper EOB: paid amounts reduce what insurance owes; each adjustment
/// follows the clinic's reason-code table (<see cref="ReasonCodes"/>): a contractual one is written off, a denial stays open
/// with insurance to correct, appeal or write off, a patient one (PR) moves to the patient, an informational one moves
/// nothing. A line the payer paid nothing on, with nothing for the patient, is a denial whatever its codes; except, when
/// the clinic says so, a line adjusted in full with CO-45 alone, which is written off. Each source (an 835 trace and claim,
/// or an EOB id) posts once. Nothing that does not add up is guessed.
/// </summary>
public static class ClaimPosting
{
    /// <summary>
    /// The posting's events with, when the claim's answer leaves the patient something to pay and they have a secondary
    /// coverage, the secondary claim (<see cref="SecondaryClaims.Prepare"/>): one decision, one transaction.
    /// </summary>
    /// <param name="adjudicatedOn">An 835's check date (BPR16): the day the primary answered, for the secondary's 2430 DTP*573.</param>
    public static Outcome.Accepted WithSecondary(
        this Outcome.Accepted accepted, Claim claim, PatientAccount account, PostingOutcome posting, DateTimeOffset now, DateOnly? adjudicatedOn = null)
    {
        if (!posting.ClaimEvents.OfType<ClaimAdjudicated>().Any()) return accepted;
        var after = Snapshot.Copy(claim);
        foreach (var e in posting.ClaimEvents) after.Fold(e);
        var accountAfter = posting.PatientEvents.Aggregate(Snapshot.Copy(account), PatientAccount.Advance);
        return SecondaryClaims.Prepare(after, accountAfter, now, adjudicatedOn) is { } secondary ? accepted with { Streams = [.. accepted.Streams, .. secondary.Streams] } : accepted;
    }

    public static PostingOutcome Post(
        Claim claim, PatientAccount account, string source, IReadOnlyList<PostingLine> lines, string? payerClaimNumber, Guid? remittanceId, DateTimeOffset now,
        ReasonCodeTable? table = null, string? forwardedTo = null, bool overpayments = false)
    {
        if (claim.PostedSources.Contains(source)) return new PostingOutcome(null, [], [], AlreadyPosted: true);
        if (ClaimDecisions.NotAdjudicable(claim) is { } closed) return PostingOutcome.Refused(closed);

        if (lines.Select(l => l.ClaimLineNumber).Distinct().Count() != lines.Count)
            return PostingOutcome.Refused("the same claim line is answered twice");
        var postings = new List<InsuranceLinePosting>();
        var adjudicated = new List<AdjudicatedLine>();
        var overpaid = 0m;
        foreach (var line in lines)
        {
            var claimLine = claim.Lines.FirstOrDefault(l => l.LineNumber == line.ClaimLineNumber);
            if (claimLine is null) return PostingOutcome.Refused($"claim {claim.ControlNumber} has no line {line.ClaimLineNumber}");
            var session = account.Session(claimLine.SessionId);
            var accountLine = session?.Lines.FirstOrDefault(l => l.LineNumber == claimLine.SessionLineNumber);
            if (session is null || accountLine is null) return PostingOutcome.Refused($"line {line.ClaimLineNumber} points at a session the account does not have");
            if (session.Voided) return PostingOutcome.Refused($"line {line.ClaimLineNumber} is for a voided session ({Fmt.Date(session.DeliveredOn)})");
            if (line.Paid < 0 || line.Adjustments.Any(a => a.Group is not ("CO" or "PR" or "OA" or "PI")))
                return PostingOutcome.Refused($"line {line.ClaimLineNumber}: negative payment or an unknown adjustment group");
            // The 835 balancing rule: what was charged is what was paid plus every adjustment.
            var adjusted = line.Adjustments.Sum(a => a.Amount);
            if (line.Charge - line.Paid != adjusted)
                return PostingOutcome.Refused($"line {line.ClaimLineNumber}: charge {Fmt.Money(line.Charge)} less paid {Fmt.Money(line.Paid)} is not the {Fmt.Money(adjusted)} of its adjustments");

            decimal Treated(AdjustmentTreatment treatment) =>
                line.Adjustments.Where(a => ReasonCodes.Treatment(table, a.Group, a.Reason) == treatment).Sum(a => a.Amount);
            var patient = Treated(AdjustmentTreatment.Patient);
            var contractual = Treated(AdjustmentTreatment.Contractual);
            var denied = Treated(AdjustmentTreatment.Denial) != 0;
            if (line.Paid == 0 && patient == 0)
            {
                // CO-45 "cannot equal the total service charge" (its X12 usage note): in full on a zero-paid line it is a
                // denial, unless the clinic writes such lines off.
                var fullContractual = line.Adjustments.Count > 0 && line.Adjustments.All(a => a.Group == "CO" && a.Reason == "45") && contractual == line.Charge;
                denied = !(fullContractual && table?.ZeroPaidContractual == AdjustmentTreatment.Contractual);
                if (denied) contractual = 0m;
            }
            var posting = InsuranceOnAccount.LinePosting(accountLine, claimLine.SessionId, claimLine.SessionLineNumber, line.Paid, contractual, patient, denied);
            if (posting is null && overpayments && line.Paid > accountLine.Open.Insurance)
            {
                // An 835 paying more than insurance still owes on the line (it paid the line before, or another payer did): the
                // money came, so what is open is settled and the rest is insurance credit on the claim, owed back to the payer;
                // the adjustments it restates are not applied again (ADR 0021). A paper EOB saying so is refused instead: typed
                // in twice is likelier than paid twice.
                overpaid += line.Paid - accountLine.Open.Insurance;
                posting = InsuranceOnAccount.LinePosting(accountLine, claimLine.SessionId, claimLine.SessionLineNumber, accountLine.Open.Insurance, 0m, 0m, false);
            }

            if (posting is null)
            {
                return PostingOutcome.Refused(
                    $"line {line.ClaimLineNumber}: the payer accounts for {Fmt.Money(line.Paid + contractual + patient)}, more than the {Fmt.Money(accountLine.Open.Insurance)} open with insurance");
            }

            postings.Add(posting);
            adjudicated.Add(new AdjudicatedLine(line.ClaimLineNumber, line.Charge, line.Allowed ?? line.Charge - contractual, line.Paid, line.Adjustments, line.Remarks));
        }

        var paid = lines.Sum(l => l.Paid);
        // A line is denied for the claim's outcome when the payer paid nothing on it; a denial beside a payment makes it partly paid.
        var deniedLines = postings.Zip(lines).Select(x => x.First.Denied && x.Second.Paid == 0).ToList();
        var partlyDenied = postings.Zip(lines).Any(x => x.First.Denied && x.Second.Paid != 0);
        var claimEvent = ClaimDecisions.Adjudicated(claim, remittanceId, source, adjudicated, deniedLines, paid,
            lines.SelectMany(l => l.Adjustments).Where(a => ReasonCodes.Treatment(table, a.Group, a.Reason) == AdjustmentTreatment.Patient).Sum(a => a.Amount),
            payerClaimNumber, now, partlyDenied, forwardedTo);
        var patientEvent = InsuranceOnAccount.PaymentPosted(account, claim.Id, claim.PayerId, source, postings, paid - overpaid, now);
        return new PostingOutcome(null, [claimEvent],
            overpaid > 0 ? [patientEvent, InsuranceOnAccount.Overpaid(account, claim.Id, claim.PayerId, source, overpaid, now)] : [patientEvent]);
    }

    /// <summary>Undoes the claim's last posting exactly; PR the patient already paid returns to their credit first.</summary>
    /// <summary>What a posting paid on a claim beyond what insurance owed (its insurance credit).</summary>
    private static decimal OverpaidBy(PatientAccount account, Guid claimId, string source) =>
        account.InsuranceOverpayments.Where(o => o.ClaimId == claimId && o.Source == source).Sum(o => o.Amount);

    public static PostingOutcome Reverse(Claim claim, PatientAccount account, string source, Guid? remittanceId, DateTimeOffset now)
    {
        if (claim.PostedSources.Contains(source)) return new PostingOutcome(null, [], [], AlreadyPosted: true);
        var posting = account.InsurancePostings.LastOrDefault(p => p.ClaimId == claim.Id);
        if (posting is null) return PostingOutcome.Refused($"claim {claim.ControlNumber} has no posted payment to reverse");

        // The patient's share went on to the secondary payer: its claim holds it until it is closed (billing it back) or answered.
        if (claim.SecondaryClaimId is { } secondary && claim.Lines.Any(l => account.Session(l.SessionId)?.Claims.Any(c => c.ClaimId == secondary) == true))
        {
            return PostingOutcome.Refused(
                $"the patient's share of claim {claim.ControlNumber} is on its secondary claim: close the secondary claim (billing its share to the patient) " +
                "or post its answer first, then match this reversal");
        }

        var (patientEvents, problem) = InsuranceOnAccount.PaymentReversed(account, posting, claim.PayerId, source, now);
        if (problem is not null) return PostingOutcome.Refused(problem);
        // What the reversed posting paid beyond what insurance owed goes back with it: the credit it left clears. Refunded or
        // recovered already, it would go back twice: that is for billing and the payer to settle, not to guess.
        var overpaid = OverpaidBy(account, claim.Id, posting.Source);
        if (overpaid > account.InsuranceCreditOn(claim.Id))
        {
            return PostingOutcome.Refused(
                $"the reversal takes back the {Fmt.Money(overpaid)} paid beyond what insurance owed on claim {claim.ControlNumber}, but part of it was already " +
                "refunded or recovered: settle the difference with the payer, then match this reversal");
        }

        if (overpaid > 0)
        {
            patientEvents = [.. patientEvents, InsuranceOnAccount.OverpaymentCleared(account, claim.Id, claim.PayerId, DeterministicGuid.From(claim.Id, $"reversal:{source}"),
                "reversal", source, overpaid, DateOnly.FromDateTime(now.UtcDateTime), now)!];
        }

        return new PostingOutcome(null, [ClaimDecisions.AdjudicationReversed(claim, remittanceId, source, now)], patientEvents);
    }

    /// <summary>
    /// Posts one 835 claim payment to its claim and the claim's patient: a reversal (CLP02 = 22) undoes the last posting
    /// when it takes back what that paid; anything else is matched line by line and posted. A source already posted (an
    /// earlier attempt at this file cut short, or the same item matched twice) answers what that posting recorded, found
    /// before any rule the claim's later state could now refuse.
    /// </summary>
    public static PostingOutcome PostPayment(
        Claim claim, PatientAccount account, ClaimPayment835 payment, string source, Guid remittanceId, DateTimeOffset now, ReasonCodeTable? table = null)
    {
        if (claim.PostedSources.Contains(source))
        {
            var before = claim.Adjudications.LastOrDefault(a => a.Source == source);
            return new PostingOutcome(null, [], [], AlreadyPosted: true,
                Before: before is null ? (payment.Paid, payment.Lines.Count > 0 ? payment.Lines.Count : claim.Lines.Count) : (before.Paid, before.Lines.Count));
        }

        if (payment.IsReversal)
        {
            var last = account.InsurancePostings.LastOrDefault(p => p.ClaimId == claim.Id);
            // What the last posting paid: on the lines, and beyond them (an overpayment it left as credit).
            var lastPaid = last is null ? 0m : last.Paid + OverpaidBy(account, claim.Id, last.Source);
            return last is not null && lastPaid != -payment.Paid
                ? PostingOutcome.Refused($"the reversal takes back {Fmt.Money(-payment.Paid)}; the last posting paid {Fmt.Money(lastPaid)}")
                : Reverse(claim, account, source, remittanceId, now);
        }

        var (lines, problem) = Match(claim, payment);
        return problem is not null
            ? PostingOutcome.Refused(problem)
            : Post(claim, account, source, lines!, payment.PayerClaimNumber, remittanceId, now, table,
                payment.IsForwarded ? payment.CrossoverPayer ?? "the next payer" : null, overpayments: true);
    }

    /// <summary>
    /// Matches an 835 claim payment's service lines to the claim's lines: by the echoed line control number
    /// (REF*6R) when present, else by code, modifiers and date of service. Totals must add up.
    /// </summary>
    public static (IReadOnlyList<PostingLine>? Lines, string? Problem) Match(Claim claim, ClaimPayment835 payment)
    {
        if (payment.Lines.Count == 0)
        {
            // A whole-claim denial without service lines: every line denied for the claim's reasons.
            if (payment.IsDenial && payment.Paid == 0 && payment.Adjustments.Count > 0)
            {
                if (payment.Adjustments.Sum(a => a.Amount) != payment.Charge)
                    return (null, $"the claim's adjustments do not add up to its charge {Fmt.Money(payment.Charge)}");
                var reason = payment.Adjustments.OrderByDescending(a => a.Amount).First();
                return (claim.Lines.Select(l => new PostingLine(l.LineNumber, l.Charge, 0, 0, [new ClaimAdjustment(reason.Group, reason.Reason, l.Charge)], [])).ToList(), null);
            }

            return (null, "the claim payment has no service lines (SVC) to post");
        }

        if (payment.Adjustments.Count > 0) return (null, "claim-level adjustments beside service lines are not posted automatically");
        if (payment.Lines.Sum(l => l.Charge) != payment.Charge) return (null, $"CLP03 {Fmt.Money(payment.Charge)} is not the sum of its service lines' charges");
        if (payment.Lines.Sum(l => l.Paid) != payment.Paid) return (null, $"CLP04 {Fmt.Money(payment.Paid)} is not the sum of its service lines' payments");

        var used = new HashSet<int>();
        var matched = new List<PostingLine>();
        foreach (var svc in payment.Lines)
        {
            var line = claim.Lines.FirstOrDefault(l => !used.Contains(l.LineNumber) && svc.ControlNumber == Claim837Writer.LineControlNumber(claim, l))
                       ?? claim.Lines.FirstOrDefault(l => !used.Contains(l.LineNumber) && l.Code == svc.Code && l.Modifiers.SequenceEqual(svc.Modifiers)
                                                           && (svc.DateOfService is null || svc.DateOfService == l.DateOfService));
            if (line is null) return (null, $"no line {svc.Code} on {Fmt.Date(svc.DateOfService)} on claim {claim.ControlNumber}");
            if (line.Charge != svc.Charge) return (null, $"line {line.LineNumber} was billed {Fmt.Money(line.Charge)}, the payment says {Fmt.Money(svc.Charge)}");
            used.Add(line.LineNumber);
            matched.Add(new PostingLine(line.LineNumber, svc.Charge, svc.Allowed, svc.Paid,
                svc.Adjustments.Select(a => new ClaimAdjustment(a.Group, a.Reason, a.Amount)).ToList(), svc.RemarkCodes));
        }

        return (matched, null);
    }
}
