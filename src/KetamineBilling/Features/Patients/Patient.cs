namespace KetamineBilling.Features.Patients;

// The patient account stream: every charge and (in later areas) every payment of one patient.
// It guards: a session is charged once.

public record PatientRegistered(
    Guid PatientId,
    string FirstName,
    string LastName,
    DateOnly DateOfBirth,
    string? Email,
    string? Phone,
    DateTimeOffset RegisteredAt);

/// <summary>One priced line of a delivered session. Amount = UnitPrice x Units, exact.</summary>
public record ChargeLine(int LineNumber, string Code, string Description, int Units, decimal UnitPrice, decimal Amount);

public record SessionDelivered(
    Guid PatientId,
    Guid SessionId,
    DateOnly DeliveredOn,
    int DurationMinutes,
    string LocationId,
    IReadOnlyList<ChargeLine> Lines,
    IReadOnlyList<string> DiagnosisCodes,
    decimal TotalCharge,
    DateTimeOffset RecordedAt);

/// <summary>The slim write model: only what the account's decisions need.</summary>
public sealed class Patient
{
    public Guid Id { get; set; }

    public int Version { get; set; }

    public Dictionary<Guid, SessionDelivered> Sessions { get; set; } = [];

    public static Patient Create(PatientRegistered e) => new() { Id = e.PatientId };

    public void Apply(SessionDelivered e) => Sessions[e.SessionId] = e;
}
