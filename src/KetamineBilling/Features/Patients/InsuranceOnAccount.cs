using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// What a claim and its payer do to a patient's account, as the account's own events: the Claims and Remittances
/// areas call these pure functions and put the events they return on the patient's stream, never building them.
/// </summary>
public static class InsuranceOnAccount
{
    /// <summary>The sessions go on a claim; what the patient still owes on <paramref name="moves"/>' lines becomes the payer's to answer for.</summary>
    public static SessionsClaimed Claimed(
        PatientAccount account, Guid claimId, Guid payerId, IReadOnlyList<Guid> sessionIds, IReadOnlyList<ResponsibilityMove> moves, DateTimeOffset now) =>
        new(account.Id, claimId, payerId, sessionIds, moves, now);

    /// <summary>A claim that ends unpaid gives its sessions back: they may be filed again.</summary>
    public static SessionsReleasedFromClaim Released(Guid patientId, Guid claimId, IReadOnlyList<Guid> sessionIds, string reason, DateTimeOffset now) =>
        new(patientId, claimId, sessionIds, reason, now);

    /// <summary>What is still open with insurance on these lines moves to the patient (a final denial billed to them).</summary>
    public static ResponsibilityMoved BilledToPatient(Guid patientId, IReadOnlyList<LineAmount> openWithInsurance, string reason, DateTimeOffset now) =>
        new(patientId,
            openWithInsurance.Select(l => new ResponsibilityMove(l.SessionId, l.LineNumber, ResponsibleParty.Insurance, ResponsibleParty.Patient, l.Amount)).ToList(),
            reason, now);

    /// <summary>What is still open with insurance on these lines is adjusted off (a final denial written off).</summary>
    public static ThirdPartyAdjusted WrittenOff(Guid patientId, IReadOnlyList<LineAmount> openWithInsurance, string reason, DateTimeOffset now) =>
        new(patientId, ResponsibleParty.Insurance, reason, openWithInsurance, openWithInsurance.Sum(a => a.Amount), now);

    /// <summary>
    /// What a payer's answer does to one charge line: <paramref name="paid"/>, <paramref name="contractual"/> and the
    /// <paramref name="patient"/>'s share (PR) leave what insurance owes. When the patient paid part of the line before
    /// the payer answered, their payment stands for part of the PR. Null when the payer accounts for more than that allows.
    /// </summary>
    public static InsuranceLinePosting? LinePosting(
        AccountLine line, Guid sessionId, int lineNumber, decimal paid, decimal contractual, decimal patient, bool denied)
    {
        var need = paid + contractual + patient;
        var open = line.Open.Insurance;
        var reduce = need;
        var moved = patient;
        if (need > open)
        {
            var over = need - open;
            if (over > patient) return null;
            reduce = open;
            moved = patient - over;
        }

        return new InsuranceLinePosting(sessionId, lineNumber, paid, contractual, moved, reduce, denied);
    }

    /// <summary>What the payer paid on a claim beyond what insurance owed on its lines: insurance credit on the claim.</summary>
    public static InsuranceOverpaid Overpaid(PatientAccount account, Guid claimId, Guid payerId, string source, decimal amount, DateTimeOffset now) =>
        new(account.Id, claimId, payerId, source, amount, now);

    /// <summary>
    /// Clears insurance credit on a claim: refunded by check, or recovered by the payer from a later payment. At most what is
    /// open on the claim: null when nothing is.
    /// </summary>
    public static InsuranceOverpaymentCleared? OverpaymentCleared(
        PatientAccount account, Guid claimId, Guid payerId, Guid clearingId, string how, string reference, decimal amount, DateOnly on, DateTimeOffset now)
    {
        var cleared = Math.Min(amount, account.InsuranceCreditOn(claimId));
        return cleared <= 0 ? null : new InsuranceOverpaymentCleared(account.Id, claimId, payerId, clearingId, how, reference, cleared, on, now);
    }

    /// <summary>A payer's adjudication of a claim posted to the account, line by line.</summary>
    public static InsurancePaymentPosted PaymentPosted(
        PatientAccount account, Guid claimId, Guid payerId, string source, IReadOnlyList<InsuranceLinePosting> lines, decimal paid, DateTimeOffset now) =>
        new(account.Id, claimId, payerId, source, lines, paid, now);

    /// <summary>
    /// Undoes the claim's last posting on the account exactly; PR the patient already paid returns to their credit first
    /// (their latest payments first). A problem instead when part of the patient's share was written off or discounted
    /// since: undoing would leave the patient owing less than nothing.
    /// </summary>
    public static (IReadOnlyList<object> Events, string? Problem) PaymentReversed(
        PatientAccount account, InsurancePaymentPosted posting, Guid payerId, string source, DateTimeOffset now)
    {
        var events = new List<object>();
        foreach (var l in posting.Lines)
        {
            var line = account.Line(l.SessionId, l.LineNumber)!;
            var shortBy = l.PatientResponsibility - line.Open.Patient;
            foreach (var payment in Enumerable.Reverse(account.Payments).Where(p => !p.Reversed))
            {
                if (shortBy <= 0) break;
                var onLine = payment.Applied.Where(a => a.SessionId == l.SessionId && a.LineNumber == l.LineNumber).Sum(a => a.Amount);
                var back = Math.Min(onLine, shortBy);
                if (back <= 0) continue;
                events.Add(new PaymentUnapplied(account.Id, payment.PaymentId, [new LineAmount(l.SessionId, l.LineNumber, back)], back,
                    "insurance payment reversed", now));
                shortBy -= back;
            }
        }

        foreach (var l in posting.Lines)
        {
            var line = account.Line(l.SessionId, l.LineNumber)!;
            var unapplied = events.OfType<PaymentUnapplied>().SelectMany(u => u.Allocations)
                .Where(a => a.SessionId == l.SessionId && a.LineNumber == l.LineNumber).Sum(a => a.Amount);
            if (line.Open.Patient + unapplied < l.PatientResponsibility)
            {
                // Part of the patient's share was written off or discounted since: kept for billing to resolve, never guessed.
                return ([], $"the patient's share of line {l.LineNumber} was written off or discounted after posting; reverse that first");
            }
        }

        events.Add(new InsurancePaymentReversed(account.Id, posting.ClaimId, payerId, source, posting.Source, posting.Lines, posting.Paid, now));
        return (events, null);
    }
}
