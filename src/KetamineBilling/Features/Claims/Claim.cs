using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Ui;
using System.Text.Json.Serialization;

namespace KetamineBilling.Features.Claims;

// The claim stream (one per claim to a payer). It guards: legal state changes only; a remittance line
// posts once.

public enum ClaimStatus
{
    [JsonStringEnumMemberName("filed")] Filed,
    [JsonStringEnumMemberName("acknowledged")] Acknowledged,
    [JsonStringEnumMemberName("rejected")] Rejected,
    [JsonStringEnumMemberName("paid")] Paid,
    [JsonStringEnumMemberName("partially-paid")] PartiallyPaid,
    [JsonStringEnumMemberName("denied")] Denied,
    [JsonStringEnumMemberName("appealed")] Appealed,
    [JsonStringEnumMemberName("closed")] Closed,
    /// <summary>Corrected by a replacement claim (frequency 7), which the payer adjudicates in its place.</summary>
    [JsonStringEnumMemberName("replaced")] Replaced,
    /// <summary>To be cancelled at the payer (frequency 8): as if never billed.</summary>
    [JsonStringEnumMemberName("voided")] Voided
}

/// <param name="Ndc">The drug's National Drug Code (11 digits): the session's, else the clinic's default for the code.</param>
/// <param name="PlaceOfService">The session's CMS place of service code; null on claims filed before it was kept (11, office).</param>
/// <param name="Drug">The drug with its quantity and unit (2410 LIN/CTP); null on older claims, which sent the billing units.</param>
/// <param name="AuthorizationNumber">The prior authorization of this line's session for this payer, if any.</param>
public record ClaimLine(
    int LineNumber, Guid SessionId, int SessionLineNumber, string Code, IReadOnlyList<string> Modifiers, int Units, decimal Charge,
    DateOnly DateOfService, string? Ndc = null, string? Description = null, string? PlaceOfService = null, DrugGiven? Drug = null,
    string? AuthorizationNumber = null)
{
    /// <summary>Where the service was given: 11, office, when not recorded.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public string Place => PlaceOfService ?? Claim.OfficePlaceOfService;
}

/// <param name="ControlNumber">The patient control number (CLM01) the payer echoes in CLP01.</param>
/// <param name="Warnings">What billing knew at filing that the payer will likely deny (authorization flags).</param>
/// <param name="AuthorizationNumber">The claim-level authorization (2300 REF*G1): the one most lines carry. A line whose own
/// differs carries it on the line (2400 REF*G1).</param>
/// <param name="PlaceOfService">The claim-level place of service (CLM05-1): the one most lines carry; null on older claims (11).</param>
/// <param name="ReplacesClaimId">A replacement claim (frequency 7): the claim it corrects.</param>
/// <param name="ReplacesPayerClaimNumber">The payer's claim control number of the claim it corrects (its 835's CLP07), sent as REF*F8.</param>
/// <param name="Reason">A replacement's reason for the correction.</param>
/// <param name="PriorPayer">A secondary claim (coordination of benefits): what the primary payer decided, sent in 2320, 2330 and 2430.</param>
public record ClaimFiled(
    Guid ClaimId, Guid PatientId, Guid PayerId, Guid CoverageId, string ControlNumber, IReadOnlyList<ClaimLine> Lines,
    IReadOnlyList<string> DiagnosisCodes, string? AuthorizationNumber, string? RenderingProviderId, IReadOnlyList<string> Warnings,
    decimal TotalCharge, DateTimeOffset FiledAt, string? PlaceOfService = null, Guid? ReplacesClaimId = null, string? ReplacesPayerClaimNumber = null,
    string? Reason = null, PriorPayer? PriorPayer = null);

/// <summary>The primary payer's answer on one line of a secondary claim (837P 2430: SVD, CAS, DTP*573).</summary>
public record PriorPayerLine(int LineNumber, decimal Paid, IReadOnlyList<ClaimAdjustment> Adjustments);

/// <summary>
/// What the primary payer decided on the claim a secondary claim follows (837P 2320 AMT*D, AMT*EAF and CAS; 2330A/B its
/// subscriber and payer; 2430 per line), frozen when the secondary claim is prepared.
/// </summary>
/// <param name="AdjudicatedOn">The day the primary's answer was posted (DTP*573).</param>
/// <param name="ClaimAdjustments">Adjustments the primary made to the claim as a whole (2320 CAS), not to a line.</param>
public record PriorPayer(
    Guid ClaimId, Guid PayerId, Guid CoverageId, string ControlNumber, string? PayerClaimNumber, DateOnly AdjudicatedOn, decimal Paid,
    decimal PatientResponsibility, IReadOnlyList<ClaimAdjustment> ClaimAdjustments, IReadOnlyList<PriorPayerLine> Lines);

/// <summary>The patient's secondary coverage was billed for what the primary left: the secondary claim is filed, ready to send.</summary>
public record SecondaryClaimPrepared(Guid ClaimId, Guid SecondaryClaimId, string SecondaryControlNumber, Guid PayerId, DateTimeOffset PreparedAt);

/// <summary>
/// The patient has a secondary coverage, but no secondary claim is sent: the primary forwarded the claim itself (a crossover,
/// CLP02 19/20/21), or the secondary's annual maximum is used up (the patient owes the rest).
/// </summary>
public record SecondaryClaimNotPrepared(Guid ClaimId, Guid CoverageId, string Reason, DateTimeOffset At);

/// <summary>The claim was corrected by a replacement (frequency 7): the payer answers for its service on the replacement.</summary>
public record ClaimReplaced(Guid ClaimId, Guid ReplacementClaimId, string ReplacementControlNumber, string Reason, DateTimeOffset ReplacedAt);

/// <summary>The claim is to be cancelled at the payer (frequency 8, REF*F8 the payer's claim number); its sessions are free to be claimed again.</summary>
public record ClaimVoided(Guid ClaimId, string Reason, string PayerClaimNumber, DateTimeOffset VoidedAt);

/// <param name="Source">The acknowledgment that said so ("277CA SENDER/000004711"); null when typed in.</param>
/// <param name="Detail">What it said, in words.</param>
/// <param name="PayerClaimNumber">The payer's claim control number a 277CA gave on acceptance (REF*1K).</param>
public record ClaimAcknowledged(Guid ClaimId, DateTimeOffset AcknowledgedAt, string? Source = null, string? Detail = null, string? PayerClaimNumber = null);

/// <param name="Source">The acknowledgment that rejected it (a 999 or 277CA); null when typed in.</param>
public record ClaimRejected(Guid ClaimId, string Reason, DateTimeOffset RejectedAt, string? Source = null);

/// <summary>An acknowledgment about the claim that changes nothing but its history: received by the clearinghouse, syntax accepted
/// (999), or an answer that came after the claim moved on.</summary>
public record ClaimAcknowledgmentNoted(Guid ClaimId, string Source, string Detail, DateTimeOffset NotedAt);

/// <summary>One CAS adjustment: group CO/PR/OA/PI, the CARC reason code, the amount.</summary>
public record ClaimAdjustment(string Group, string Reason, decimal Amount);

public record AdjudicatedLine(
    int LineNumber, decimal Charge, decimal Allowed, decimal Paid, IReadOnlyList<ClaimAdjustment> Adjustments, IReadOnlyList<string> RemarkCodes);

/// <param name="Source">"835 {trace}" or "manual EOB".</param>
/// <param name="ForwardedTo">The payer forwarded the claim to the next payer (CLP02 19/20/21): that payer's name (NM1*TT), if given.</param>
public record ClaimAdjudicated(
    Guid ClaimId, Guid? RemittanceId, string Source, ClaimStatus Outcome, IReadOnlyList<AdjudicatedLine> Lines, decimal Paid,
    decimal PatientResponsibility, string? PayerClaimNumber, DateTimeOffset AdjudicatedAt, string? ForwardedTo = null);

/// <summary>The payer took its adjudication back (CLP02 = 22): the claim is as before it.</summary>
public record ClaimAdjudicationReversed(Guid ClaimId, Guid? RemittanceId, string Source, DateTimeOffset ReversedAt);

public record ClaimAppealed(Guid ClaimId, string Reason, IReadOnlyList<string> Documents, DateTimeOffset AppealedAt);

public record ClaimClosed(Guid ClaimId, string Reason, DateTimeOffset ClosedAt);

public sealed record ClaimHistoryEntry(DateTimeOffset At, string Status, string What);

/// <summary>The claim as decided on and as read (inline).</summary>
public sealed class Claim
{
    public const string OfficePlaceOfService = "11";

    public Guid Id { get; set; }
    public int Version { get; set; }
    public Guid PatientId { get; set; }
    public Guid PayerId { get; set; }
    public Guid CoverageId { get; set; }
    public string ControlNumber { get; set; } = "";
    public ClaimStatus Status { get; set; }
    public List<ClaimLine> Lines { get; set; } = [];
    public List<string> DiagnosisCodes { get; set; } = [];
    public string? AuthorizationNumber { get; set; }
    /// <summary>The claim-level place of service (CLM05-1).</summary>
    public string PlaceOfService { get; set; } = OfficePlaceOfService;
    public string? RenderingProviderId { get; set; }
    public List<string> Warnings { get; set; } = [];
    public decimal TotalCharge { get; set; }
    public DateTimeOffset FiledAt { get; set; }
    public DateTimeOffset LastChangedAt { get; set; }

    /// <summary>Every adjudication still standing, oldest first (a reversal removes its own).</summary>
    public List<ClaimAdjudicated> Adjudications { get; set; } = [];

    public List<ClaimHistoryEntry> History { get; set; } = [];

    /// <summary>Sources already posted (an 835 trace and control number, or a manual EOB id): each posts once.</summary>
    public List<string> PostedSources { get; set; } = [];

    /// <summary>The acknowledgments (999, 277CA) already recorded: each is recorded once.</summary>
    public List<string> AcknowledgmentSources { get; set; } = [];

    /// <summary>The traces (TRN02) of the 276 status requests sent about the claim, oldest first.</summary>
    public List<string> StatusTraces { get; set; } = [];

    /// <summary>The payer's claim number its 277CA gave on accepting the claim (REF*1K).</summary>
    public string? AcknowledgedPayerClaimNumber { get; set; }

    /// <summary>A secondary claim: what the primary payer decided (null on a primary claim).</summary>
    public PriorPayer? PriorPayer { get; set; }

    /// <summary>The secondary claim prepared from this one's adjudication.</summary>
    public Guid? SecondaryClaimId { get; set; }

    /// <summary>Why no secondary claim follows this one, when the patient has a secondary coverage.</summary>
    public string? SecondaryNotPrepared { get; set; }

    public bool IsOpen => Status is not (ClaimStatus.Closed or ClaimStatus.Rejected or ClaimStatus.Replaced or ClaimStatus.Voided);

    /// <summary>A replacement (frequency 7): the claim it corrects, and that claim's number at the payer (REF*F8).</summary>
    public Guid? ReplacesClaimId { get; set; }
    public string? ReplacesPayerClaimNumber { get; set; }

    /// <summary>The replacement that corrected this claim.</summary>
    public Guid? ReplacedByClaimId { get; set; }

    /// <summary>A voided claim: the payer's claim number its void names (REF*F8).</summary>
    public string? VoidPayerClaimNumber { get; set; }
    public string? VoidReason { get; set; }

    /// <summary>Replaced or voided: the payer's answers still post to it (a reversal), but it no longer counts as a claim for its service.</summary>
    public bool Superseded => ReplacedByClaimId is not null || VoidPayerClaimNumber is not null;

    /// <summary>The claim frequency type code (CLM05-3): 1 original, 7 replacement; a void is sent as 8.</summary>
    public string Frequency => ReplacesClaimId is null ? "1" : "7";

    /// <summary>The payer's claim control number from its latest answer that gave one (CLP07).</summary>
    public string? PayerClaimNumber => Adjudications.LastOrDefault(a => a.PayerClaimNumber is not null)?.PayerClaimNumber ?? AcknowledgedPayerClaimNumber;

    public decimal Paid => Adjudications.Sum(a => a.Paid);

    private void Record(DateTimeOffset at, string what)
    {
        History.Add(new ClaimHistoryEntry(at, Status.ToString(), what));
        LastChangedAt = at;
    }

    public static Claim Create(ClaimFiled e)
    {
        var claim = new Claim
        {
            Id = e.ClaimId, PatientId = e.PatientId, PayerId = e.PayerId, CoverageId = e.CoverageId, ControlNumber = e.ControlNumber,
            Status = ClaimStatus.Filed, Lines = [.. e.Lines], DiagnosisCodes = [.. e.DiagnosisCodes], AuthorizationNumber = e.AuthorizationNumber,
            PlaceOfService = e.PlaceOfService ?? OfficePlaceOfService, ReplacesClaimId = e.ReplacesClaimId, ReplacesPayerClaimNumber = e.ReplacesPayerClaimNumber,
            RenderingProviderId = e.RenderingProviderId, Warnings = [.. e.Warnings], TotalCharge = e.TotalCharge, FiledAt = e.FiledAt, PriorPayer = e.PriorPayer
        };
        claim.Record(e.FiledAt, e.ReplacesClaimId is not null
            ? $"Filed for {Fmt.Money(e.TotalCharge)} as the replacement (frequency 7) of payer claim {e.ReplacesPayerClaimNumber}: {e.Reason}"
            : e.PriorPayer is { } prior
                ? $"Filed for {Fmt.Money(e.TotalCharge)} as the secondary claim after claim {prior.ControlNumber}: the primary paid {Fmt.Money(prior.Paid)}, " +
                  $"leaving {Fmt.Money(prior.PatientResponsibility)} of patient responsibility"
                : $"Filed for {Fmt.Money(e.TotalCharge)}");
        return claim;
    }

    /// <summary>Applies any claim event after the first (for states kept in memory while a file posts).</summary>
    public void Fold(object e)
    {
        switch (e)
        {
            case ClaimAcknowledged x: Apply(x); break;
            case ClaimRejected x: Apply(x); break;
            case ClaimAdjudicated x: Apply(x); break;
            case ClaimAdjudicationReversed x: Apply(x); break;
            case ClaimAppealed x: Apply(x); break;
            case ClaimClosed x: Apply(x); break;
            case ClaimReplaced x: Apply(x); break;
            case ClaimVoided x: Apply(x); break;
            case ClaimAcknowledgmentNoted x: Apply(x); break;
            case ClaimStatusRequested x: Apply(x); break;
            case SecondaryClaimPrepared x: Apply(x); break;
            case SecondaryClaimNotPrepared x: Apply(x); break;
            default: throw new InvalidOperationException($"{e.GetType().Name} is not a claim event");
        }
    }

    public void Apply(ClaimAcknowledged e)
    {
        Status = ClaimStatus.Acknowledged;
        if (e.Source is not null) AcknowledgmentSources.Add(e.Source);
        AcknowledgedPayerClaimNumber = e.PayerClaimNumber ?? AcknowledgedPayerClaimNumber;
        Record(e.AcknowledgedAt, (e.Detail is null ? "Acknowledged by the payer" : $"Acknowledged by the payer ({e.Source}): {e.Detail}")
                                 + (e.PayerClaimNumber is { } number ? $"; the payer's claim number is {number}" : ""));
    }

    public void Apply(ClaimRejected e)
    {
        Status = ClaimStatus.Rejected;
        if (e.Source is not null) AcknowledgmentSources.Add(e.Source);
        Record(e.RejectedAt, e.Source is null ? $"Rejected: {e.Reason}" : $"Rejected ({e.Source}): {e.Reason}");
    }

    public void Apply(ClaimStatusRequested e)
    {
        StatusTraces.Add(e.Trace);
        Record(e.RequestedAt, $"Status asked of the payer (276, trace {e.Trace})");
    }

    public void Apply(ClaimAcknowledgmentNoted e)
    {
        AcknowledgmentSources.Add(e.Source);
        Record(e.NotedAt, $"Acknowledgment ({e.Source}): {e.Detail}");
    }

    public void Apply(ClaimAdjudicated e)
    {
        Adjudications.Add(e);
        PostedSources.Add(e.Source);
        if (!Superseded) Status = e.Outcome;
        Record(e.AdjudicatedAt, $"Adjudicated ({e.Source}): paid {Fmt.Money(e.Paid)}, patient responsibility {Fmt.Money(e.PatientResponsibility)}"
                                + (e.ForwardedTo is null ? "" : $"; forwarded by the payer to {e.ForwardedTo} (crossover)"));
    }

    public void Apply(SecondaryClaimPrepared e)
    {
        SecondaryClaimId = e.SecondaryClaimId;
        SecondaryNotPrepared = null;
        Record(e.PreparedAt, $"Secondary claim {e.SecondaryControlNumber} prepared for what the patient was left to pay");
    }

    public void Apply(SecondaryClaimNotPrepared e)
    {
        SecondaryNotPrepared = e.Reason;
        Record(e.At, $"No secondary claim: {e.Reason}");
    }

    public void Apply(ClaimAdjudicationReversed e)
    {
        PostedSources.Add(e.Source);
        var reversed = Adjudications.LastOrDefault();
        if (reversed is not null) Adjudications.Remove(reversed);
        if (!Superseded) Status = Adjudications.LastOrDefault()?.Outcome ?? ClaimStatus.Acknowledged;
        Record(e.ReversedAt, $"Adjudication reversed by the payer ({e.Source})");
    }

    public void Apply(ClaimAppealed e)
    {
        Status = ClaimStatus.Appealed;
        Record(e.AppealedAt, $"Appealed: {e.Reason}");
    }

    public void Apply(ClaimClosed e)
    {
        Status = ClaimStatus.Closed;
        Record(e.ClosedAt, $"Closed: {e.Reason}");
    }

    public void Apply(ClaimReplaced e)
    {
        Status = ClaimStatus.Replaced;
        ReplacedByClaimId = e.ReplacementClaimId;
        Record(e.ReplacedAt, $"Replaced by claim {e.ReplacementControlNumber}: {e.Reason}");
    }

    public void Apply(ClaimVoided e)
    {
        Status = ClaimStatus.Voided;
        VoidPayerClaimNumber = e.PayerClaimNumber;
        VoidReason = e.Reason;
        Record(e.VoidedAt, $"Voided (payer claim {e.PayerClaimNumber}): {e.Reason}");
    }
}
