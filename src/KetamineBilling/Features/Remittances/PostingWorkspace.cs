using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using JasperFx.Events;

namespace KetamineBilling.Features.Remittances;

/// <summary>
/// The claims and patient accounts one posting touches, each fetched for writing once (so a concurrent change
/// to any of them fails the whole posting) and kept current in memory as several claim payments post.
/// </summary>
public sealed class PostingWorkspace(IDocumentSession session)
{
    private readonly Dictionary<Guid, IEventStream<Claim>> _claims = [];
    private readonly Dictionary<Guid, Claim> _claimStates = [];
    private readonly Dictionary<Guid, IEventStream<PatientAccount>> _patients = [];
    private readonly Dictionary<Guid, PatientAccount> _patientStates = [];

    /// <summary>Whether the stream is a claim or account this workspace fetched for writing.</summary>
    public bool Holds(Guid streamId) => _claims.ContainsKey(streamId) || _patients.ContainsKey(streamId);

    public async Task<(Claim Claim, PatientAccount Account)?> LoadAsync(Guid claimId, CancellationToken ct)
    {
        if (!_claims.TryGetValue(claimId, out var claimStream))
        {
            claimStream = await session.Events.FetchForWriting<Claim>(claimId, ct);
            if (claimStream.Aggregate is null) return null;
            _claims[claimId] = claimStream;
            _claimStates[claimId] = Snapshot.Copy(claimStream.Aggregate);
        }

        var claim = _claimStates[claimId];
        if (!_patients.ContainsKey(claim.PatientId))
        {
            var patientStream = await session.Events.FetchForWriting<PatientAccount>(claim.PatientId, ct);
            _patients[claim.PatientId] = patientStream;
            _patientStates[claim.PatientId] = Snapshot.Copy(patientStream.Aggregate!);
        }

        return (claim, _patientStates[claim.PatientId]);
    }

    /// <summary>
    /// Appends an accepted outcome's events to the claims and accounts this workspace fetched, keeping them current in
    /// memory. Events for any other stream (the remittance's own) are the caller's to append.
    /// </summary>
    public void Append(Outcome outcome)
    {
        if (outcome is not Outcome.Accepted accepted) return;
        foreach (var change in accepted.Streams)
        {
            if (change.StreamId is not Guid id) continue;
            if (change.StartAs == typeof(Claim))
            {
                // A claim the posting starts (a secondary claim): a stream that exists already makes the save fail, never a second claim.
                session.Events.StartStream<Claim>(id, change.Events);
                var started = Claim.Create((ClaimFiled)change.Events[0]);
                foreach (var e in change.Events.Skip(1)) started.Fold(e);
                _claimStates[id] = started;
            }
            else if (_claims.TryGetValue(id, out var claim))
            {
                claim.AppendMany(change.Events);
                foreach (var e in change.Events) _claimStates[id].Fold(e);
            }
            else if (_patients.TryGetValue(id, out var patient))
            {
                patient.AppendMany(change.Events);
                foreach (var e in change.Events) _patientStates[id] = PatientAccount.Advance(_patientStates[id], e);
            }
        }
    }
}
