using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Studies;

// The study stream (one per sponsored clinical trial). It guards: a session is covered once; payments once
// per reference and never above what the sponsor owes.

public record StudyRegistered(Guid StudyId, string Sponsor, string ProtocolId, decimal PerSessionAmount, DateTimeOffset RegisteredAt);

public record StudyPatientEnrolled(Guid StudyId, Guid PatientId, string SubjectId, DateTimeOffset EnrolledAt);

public record StudySessionCovered(Guid StudyId, Guid PatientId, string SubjectId, Guid SessionId, DateOnly DeliveredOn, decimal Amount, DateTimeOffset CoveredAt);

/// <summary>The session was voided: the sponsor owes nothing for it.</summary>
public record StudySessionReleased(Guid StudyId, Guid SessionId, string Reason, DateTimeOffset ReleasedAt);

public record SponsorPaymentReceived(Guid StudyId, string Reference, decimal Amount, DateOnly ReceivedOn, DateTimeOffset RecordedAt);

public sealed record StudySubject(Guid PatientId, string SubjectId);

public sealed record CoveredStudySession(Guid SessionId, Guid PatientId, string SubjectId, DateOnly DeliveredOn, decimal Amount, decimal Paid);

public sealed class Study
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public string Sponsor { get; set; } = "";
    public string ProtocolId { get; set; } = "";
    public decimal PerSessionAmount { get; set; }
    public List<StudySubject> Subjects { get; set; } = [];
    public List<Guid> SubjectPatientIds { get; set; } = [];
    public List<CoveredStudySession> Sessions { get; set; } = [];
    public List<SponsorPaymentReceived> Payments { get; set; } = [];

    public decimal Owed => Sessions.Sum(s => s.Amount) - Payments.Sum(p => p.Amount);

    public static Study Create(StudyRegistered e) => new() { Id = e.StudyId, Sponsor = e.Sponsor, ProtocolId = e.ProtocolId, PerSessionAmount = e.PerSessionAmount };

    public void Apply(StudyPatientEnrolled e)
    {
        Subjects.Add(new StudySubject(e.PatientId, e.SubjectId));
        SubjectPatientIds.Add(e.PatientId);
    }

    public void Apply(StudySessionCovered e) => Sessions.Add(new CoveredStudySession(e.SessionId, e.PatientId, e.SubjectId, e.DeliveredOn, e.Amount, 0));

    public void Apply(StudySessionReleased e) => Sessions.RemoveAll(s => s.SessionId == e.SessionId);

    public void Apply(SponsorPaymentReceived e)
    {
        Payments.Add(e);
        // The oldest sessions are paid first.
        foreach (var (covered, take) in Allocation.FillInOrder(Sessions.ToList(), e.Amount, s => s.Amount - s.Paid))
        {
            Sessions[Sessions.IndexOf(covered)] = covered with { Paid = covered.Paid + take };
        }
    }
}
