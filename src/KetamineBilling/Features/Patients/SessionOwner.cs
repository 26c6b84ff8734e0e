using Marten;
using Marten.Events.Projections;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// Which patient a client-made session id belongs to. Inserted (never upserted) inline with the charge, so
/// one id charged to two patients at once fails on the document's primary key instead of charging twice.
/// </summary>
public sealed record SessionOwner(Guid Id, Guid PatientId);

public partial class SessionOwnerProjection : EventProjection
{
    public SessionOwnerProjection()
    {
        Name = nameof(SessionOwner);
        // Insert-only documents are unknown to the rebuild's teardown unless named here.
        Options.DeleteViewTypeOnTeardown<SessionOwner>();
    }

    public void Project(SessionDelivered e, IDocumentOperations ops) => ops.Insert(new SessionOwner(e.SessionId, e.PatientId));

    /// <summary>A missed appointment's fee is a charge of its own on the account, under an id no session may take.</summary>
    public void Project(NoShowFeeCharged e, IDocumentOperations ops) => ops.Insert(new SessionOwner(e.NoShowId, e.PatientId));
}

/// <summary>Which patient a client-made payment id belongs to: the same id on two accounts is a 409, not two payments.</summary>
public sealed record PaymentOwner(Guid Id, Guid PatientId);

public partial class PaymentOwnerProjection : EventProjection
{
    public PaymentOwnerProjection()
    {
        Name = nameof(PaymentOwner);
        Options.DeleteViewTypeOnTeardown<PaymentOwner>();
    }

    public void Project(PaymentReceived e, IDocumentOperations ops) => ops.Insert(new PaymentOwner(e.PaymentId, e.PatientId));
}
