using System.Text.Json.Serialization;
using KetamineBilling.Features.Patients;

namespace KetamineBilling.Features.PriorAuthorizations;

// The prior authorization stream (one per request to a payer). It guards: legal state changes only;
// every session it covers is counted once; sessions beyond the approved count or outside the window are
// counted but flagged (the payer will deny them with CARC 198 / 197).

/// <summary>What the payer asks for before it pays for off-label IV ketamine.</summary>
public record MedicalNecessityEvidence(IReadOnlyList<string> FailedAntidepressantTrials, int? Phq9Score, int? MadrsScore, string? Note);

public record PriorAuthorizationRequested(
    Guid AuthorizationId, Guid PatientId, Guid PayerId, IReadOnlyList<string> Codes, int SessionsRequested, IReadOnlyList<string> DiagnosisCodes,
    MedicalNecessityEvidence Evidence, DateOnly RequestedOn, DateTimeOffset RequestedAt);

public record PriorAuthorizationApproved(
    Guid AuthorizationId, string AuthorizationNumber, int SessionsApproved, IReadOnlyList<string> Codes, DateOnly ValidFrom, DateOnly ValidTo,
    DateTimeOffset ApprovedAt);

public record PriorAuthorizationDenied(Guid AuthorizationId, string Reason, DateTimeOffset DeniedAt);

/// <param name="ExtensionId">The client's id of the extension (its idempotency key); null on extensions recorded before it was asked for.</param>
public record PriorAuthorizationExtended(Guid AuthorizationId, int AdditionalSessions, DateOnly ValidTo, DateTimeOffset ExtendedAt, Guid? ExtensionId = null);

public sealed record AuthorizationExtension(Guid ExtensionId, int AdditionalSessions, DateOnly ValidTo, DateTimeOffset ExtendedAt);

public record PriorAuthorizationExpired(Guid AuthorizationId, DateTimeOffset ExpiredAt);

public record AuthorizedSessionUsed(
    Guid AuthorizationId, Guid SessionId, DateOnly DeliveredOn, int Number, AuthorizationFlag Flag, DateTimeOffset UsedAt);

/// <summary>The session was voided: it no longer uses the authorization.</summary>
public record AuthorizedSessionReleased(Guid AuthorizationId, Guid SessionId, DateTimeOffset ReleasedAt);

public enum AuthorizationStatus
{
    [JsonStringEnumMemberName("requested")] Requested,
    [JsonStringEnumMemberName("approved")] Approved,
    [JsonStringEnumMemberName("denied")] Denied,
    [JsonStringEnumMemberName("expired")] Expired
}

public sealed record AuthorizationUse(Guid SessionId, DateOnly DeliveredOn, int Number, AuthorizationFlag Flag);

/// <summary>The authorization as decided on and as read (inline, so a use counts at once).</summary>
public sealed class PriorAuthorization
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public Guid PatientId { get; set; }
    public Guid PayerId { get; set; }
    public AuthorizationStatus Status { get; set; }
    public List<string> CodesRequested { get; set; } = [];
    public int SessionsRequested { get; set; }
    public List<string> DiagnosisCodes { get; set; } = [];
    public MedicalNecessityEvidence Evidence { get; set; } = new([], null, null, null);
    public DateOnly RequestedOn { get; set; }
    public string? AuthorizationNumber { get; set; }
    public int SessionsApproved { get; set; }
    public List<string> CodesApproved { get; set; } = [];
    public DateOnly? ValidFrom { get; set; }
    public DateOnly? ValidTo { get; set; }
    public string? DenialReason { get; set; }
    public List<AuthorizationUse> Uses { get; set; } = [];

    /// <summary>The extensions recorded with a client id, so a replay adds nothing.</summary>
    public List<AuthorizationExtension> Extensions { get; set; } = [];

    public int Used => Uses.Count;
    public int Remaining => Math.Max(SessionsApproved - Uses.Count(u => u.Flag == AuthorizationFlag.None), 0);

    public bool Covers(IEnumerable<string> codes) => (CodesApproved.Count > 0 ? CodesApproved : CodesRequested).Intersect(codes).Any();

    public static PriorAuthorization Create(PriorAuthorizationRequested e) => new()
    {
        Id = e.AuthorizationId, PatientId = e.PatientId, PayerId = e.PayerId, Status = AuthorizationStatus.Requested,
        CodesRequested = [.. e.Codes], SessionsRequested = e.SessionsRequested, DiagnosisCodes = [.. e.DiagnosisCodes], Evidence = e.Evidence,
        RequestedOn = e.RequestedOn
    };

    public void Apply(PriorAuthorizationApproved e)
    {
        Status = AuthorizationStatus.Approved;
        AuthorizationNumber = e.AuthorizationNumber;
        SessionsApproved = e.SessionsApproved;
        CodesApproved = [.. e.Codes];
        ValidFrom = e.ValidFrom;
        ValidTo = e.ValidTo;
    }

    public void Apply(PriorAuthorizationDenied e)
    {
        Status = AuthorizationStatus.Denied;
        DenialReason = e.Reason;
    }

    public void Apply(PriorAuthorizationExtended e)
    {
        SessionsApproved += e.AdditionalSessions;
        ValidTo = e.ValidTo;
        if (e.ExtensionId is { } id) Extensions.Add(new AuthorizationExtension(id, e.AdditionalSessions, e.ValidTo, e.ExtendedAt));
    }

    public void Apply(PriorAuthorizationExpired e) => Status = AuthorizationStatus.Expired;

    public void Apply(AuthorizedSessionUsed e) => Uses.Add(new AuthorizationUse(e.SessionId, e.DeliveredOn, e.Number, e.Flag));

    public void Apply(AuthorizedSessionReleased e) => Uses.RemoveAll(u => u.SessionId == e.SessionId);
}
