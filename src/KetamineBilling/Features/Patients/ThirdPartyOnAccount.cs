using System.Text.Json.Serialization;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// Where a session stands with its prior authorizations, as the patient's account records it (SessionAuthorizationChecked).
/// The account's own type: the JSON values are the ones stored since the first authorization check.
/// </summary>
public enum AuthorizationFlag
{
    [JsonStringEnumMemberName("none")] None,
    /// <summary>More sessions than approved: the payer denies it with CARC 198.</summary>
    [JsonStringEnumMemberName("beyond-approved-count")] BeyondApprovedCount,
    /// <summary>Outside the approved dates: the payer denies it with CARC 198 (or 197 when no authorization applies).</summary>
    [JsonStringEnumMemberName("outside-window")] OutsideWindow,
    /// <summary>No approved authorization covers it: CARC 197 (precertification absent).</summary>
    [JsonStringEnumMemberName("no-authorization")] NoAuthorization
}

/// <summary>
/// What a third party (an employer, a grant, a study sponsor, a prior authorization) does to a patient's account, as the
/// account's own events. The other areas' decisions call these and put the events under the patient's stream id in their
/// outcome: only the Patients area builds a patient's events (docs/events.md).
/// </summary>
public static class ThirdPartyOnAccount
{
    /// <summary>
    /// What <paramref name="from"/> does not keep of each line of the session moves to the patient; null when nothing moves.
    /// <paramref name="keeps"/>: what the party keeps (or has already taken) of a line, by line number.
    /// </summary>
    public static ResponsibilityMoved? RestToPatient(
        PatientAccount account, Guid sessionId, ResponsibleParty from, Func<int, decimal> keeps, string reason, DateTimeOffset now)
    {
        var moves = account.Session(sessionId)!.Lines
            .Select(l => (Line: l, Left: l.Open[from] - keeps(l.LineNumber)))
            .Where(x => x.Left > 0)
            .Select(x => new ResponsibilityMove(sessionId, x.Line.LineNumber, from, ResponsibleParty.Patient, x.Left))
            .ToList();
        return moves.Count > 0 ? new ResponsibilityMoved(account.Id, moves, reason, now) : null;
    }

    /// <summary>Part of what a third party owes on the session's lines is adjusted off by agreement; null when nothing is.</summary>
    public static ThirdPartyAdjusted? Adjusted(
        Guid patientId, ResponsibleParty party, string reason, Guid sessionId, IEnumerable<(int LineNumber, decimal Amount)> lines, decimal total, DateTimeOffset now) =>
        total > 0
            ? new ThirdPartyAdjusted(patientId, party, reason, lines.Select(l => new LineAmount(sessionId, l.LineNumber, l.Amount)).ToList(), total, now)
            : null;

    /// <summary>A third party's payment applied to these lines of the patient's sessions; null when nothing is.</summary>
    public static ThirdPartyPaymentApplied? PaymentApplied(
        Guid patientId, ResponsibleParty party, Guid sourceId, string reference, IReadOnlyList<LineAmount> allocations, DateTimeOffset now) =>
        allocations.Count > 0
            ? new ThirdPartyPaymentApplied(patientId, party, sourceId, reference, allocations, allocations.Sum(a => a.Amount), now)
            : null;

    /// <summary>
    /// What a grant or sponsor newly paid per session, applied to that session's lines where it still has an open amount,
    /// in line order (the Ledger's fill in order); null when nothing is.
    /// </summary>
    public static ThirdPartyPaymentApplied? PaidPerSession(
        PatientAccount account, ResponsibleParty party, Guid sourceId, string reference, IEnumerable<(Guid SessionId, decimal Added)> paid, DateTimeOffset now) =>
        PaymentApplied(account.Id, party, sourceId, reference,
            paid.SelectMany(p => Allocation.FillInOrder(account.Session(p.SessionId)!.Lines, p.Added, l => l.Open[party])
                .Select(x => new LineAmount(p.SessionId, x.Item.LineNumber, x.Amount))).ToList(), now);

    /// <summary>Which prior authorization (if any) counted the session, and how it stands with it.</summary>
    public static SessionAuthorizationChecked AuthorizationChecked(
        Guid patientId, Guid sessionId, Guid? authorizationId, string? authorizationNumber, AuthorizationFlag flag, DateTimeOffset now, Guid? payerId) =>
        new(patientId, sessionId, authorizationId, authorizationNumber, flag, now, payerId);
}
