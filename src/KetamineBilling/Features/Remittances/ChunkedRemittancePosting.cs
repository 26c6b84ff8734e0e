using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Remittances;

/// <summary>Another upload claimed the trace a moment ago with other content.</summary>
public sealed class TraceTakenException(string message) : Exception(message);

/// <summary>
/// One trace's posting: claimed on its stream, its claim payments in chunks of <see cref="ClaimsPerTransaction"/> (each in
/// a session of its own, a chunk that meets a concurrent change to one of its accounts decided again), its result recorded
/// last (ADR 0012). Once the trace is claimed the posting runs to its end even if the client goes away: it is bounded,
/// and finishing beats half-done. Each claim payment is decided by <see cref="ClaimPosting.PostPayment"/>.
/// </summary>
public sealed class ChunkedRemittancePosting(
    IDocumentSession request, IDocumentStore store, Remittance835 remittance, string hash, UnbalancedAcceptance? unbalanced, DateTimeOffset now,
    ILogger logger)
{
    /// <summary>Claim payments posted per transaction (ADR 0012).</summary>
    public const int ClaimsPerTransaction = 500;

    private readonly Guid _id = ImportRemittanceEndpoint.RemittanceId(remittance);
    private readonly List<PostedClaim> _posted = [];
    private readonly List<UnmatchedItem> _unmatched = [];

    /// <summary>Whether anything of this trace has been saved.</summary>
    public bool Committed { get; private set; }

    /// <summary>Claim payments of this trace saved so far.</summary>
    public int Posted => _posted.Count;

    public async Task<RemittanceResult> RunAsync(CancellationToken ct)
    {
        var existing = await request.LoadAsync<Remittance>(_id, ct);
        if (existing is { Posting: false }) return Duplicate(existing);
        if (existing is null && !await StartAsync(ct))
        {
            // Another upload claimed the trace a moment ago: of the same file, this one posts along (each claim once).
            existing = await request.LoadAsync<Remittance>(_id, CancellationToken.None);
            if (existing!.ContentHash != hash) throw new TraceTakenException($"trace {remittance.TraceNumber} from {remittance.PayerName} was sent a moment ago with other content");
            if (existing is { Posting: false }) return Duplicate(existing);
        }

        Committed = true;
        var claimIds = await ClaimIdsAsync();
        foreach (var chunk in Enumerable.Range(0, remittance.Claims.Count).Chunk(ClaimsPerTransaction))
        {
            for (var attempt = 1; ; attempt++)
            {
                await using var session = AuditMiddleware.OpenLike(store, request);
                var (posted, unmatched) = await PostChunkAsync(session, chunk, claimIds);
                try
                {
                    await session.SaveChangesAsync(CancellationToken.None);
                    _posted.AddRange(posted);
                    _unmatched.AddRange(unmatched);
                    break;
                }
                catch (JasperFx.ConcurrencyException) when (attempt < 5)
                {
                    logger.LogInformation("Trace {Trace}: the claim payments from {First} met a concurrent change to their accounts; deciding them again (attempt {Attempt})",
                        remittance.TraceNumber, chunk[0], attempt + 1);
                    await Task.Delay(Random.Shared.Next(20, 60) * attempt, CancellationToken.None);
                }
            }
        }

        return await FinishAsync();
    }

    /// <summary>Decides the claim payments at <paramref name="indexes"/> against their claims and accounts, read afresh.</summary>
    private async Task<(List<PostedClaim> Posted, List<UnmatchedItem> Unmatched)> PostChunkAsync(
        IDocumentSession session, int[] indexes, Dictionary<string, Guid> claimIds)
    {
        var workspace = new PostingWorkspace(session);
        // The clinic's reason-code table as it is now: each chunk reads it afresh, as it reads its claims.
        var table = await ReasonCodeTable.LoadAsync(session, CancellationToken.None);
        var posted = new List<PostedClaim>();
        var unmatched = new List<UnmatchedItem>();
        foreach (var i in indexes)
        {
            var payment = remittance.Claims[i];
            UnmatchedItem Unmatched(string reason) =>
                new(DeterministicGuid.From(_id, $"item-{i}"), payment.ControlNumber, payment.Status, payment.Charge, payment.Paid, reason, payment);

            if (!claimIds.TryGetValue(payment.ControlNumber, out var claimId))
            {
                unmatched.Add(Unmatched($"no claim has the patient control number {payment.ControlNumber}"));
                continue;
            }

            if (await workspace.LoadAsync(claimId, CancellationToken.None) is not var (claim, account))
            {
                unmatched.Add(Unmatched("the claim does not exist"));
                continue;
            }

            var outcome = ClaimPosting.PostPayment(claim, account, payment, $"835:{_id:N}:{i}", _id, now, table);
            if (outcome.Problem is not null)
            {
                unmatched.Add(Unmatched(outcome.Problem));
                continue;
            }

            // The posting, and the secondary claim when the answer leaves the patient something to pay (the 835's check date is the primary's).
            workspace.Append(Outcome.Ok(null).Append(claim.Id, outcome.ClaimEvents).Append(claim.PatientId, outcome.PatientEvents)
                .WithSecondary(claim, account, outcome, now, remittance.PaymentDate));
            posted.Add(new PostedClaim(claimId, payment.ControlNumber, payment.Status, outcome.Paid, outcome.Lines));
        }

        return (posted, unmatched);
    }

    private static RemittanceResult Duplicate(Remittance r) =>
        new(r.Id, r.TraceNumber, r.PayerName, r.Posted.Count, r.Posted.Sum(p => p.Lines), r.Posted.Sum(p => p.Paid), r.Unmatched, Duplicate: true);

    /// <summary>Claims the trace for this content; false when another upload claimed it first.</summary>
    private async Task<bool> StartAsync(CancellationToken ct)
    {
        var payer = remittance.PayerIdentifier is { } x12 ? await request.Query<Payer>().FirstOrDefaultAsync(p => p.PayerId == x12, ct) : null;
        await using var session = AuditMiddleware.OpenLike(store, request);
        session.Events.StartStream<Remittance>(_id, RecordRemittanceHandler.Started(_id, remittance, payer?.Id, hash, unbalanced, now));
        try
        {
            await session.SaveChangesAsync(ct);
            return true;
        }
        catch (Exception e) when (ProblemExceptionHandler.Classify(e).Status == StatusCodes.Status409Conflict)
        {
            return false;
        }
    }

    private async Task<Dictionary<string, Guid>> ClaimIdsAsync()
    {
        var numbers = remittance.Claims.Select(c => c.ControlNumber).Distinct().ToArray();
        return (await request.Query<Claim>().Where(c => numbers.Contains(c.ControlNumber)).Select(c => new { c.Id, c.ControlNumber }).ToListAsync())
            .ToDictionary(c => c.ControlNumber, c => c.Id);
    }

    /// <summary>Records the result on the trace's stream, unless another upload of the same file did a moment ago.</summary>
    private async Task<RemittanceResult> FinishAsync()
    {
        await using var session = AuditMiddleware.OpenLike(store, request);
        var stream = await session.Events.FetchForWriting<Remittance>(_id);
        var outcome = RecordRemittanceHandler.Decide(stream.Aggregate, new RecordRemittance(_id, remittance.PayerName, remittance.PayerIdentifier, null,
            remittance.TraceNumber, remittance.PaymentMethod, remittance.PaymentAmount, remittance.PaymentDate, hash, _posted, _unmatched,
            remittance.ProviderAdjustments), now);
        if (outcome is Outcome.Replayed { Answer: Remittance done }) return Duplicate(done);
        outcome.AppendTo(session, stream.Writing());

        // The provider-level adjustments, in the same transaction: each 835 posts them once, with its result.
        var workspace = new PostingWorkspace(session);
        var (claims, carried) = await ProviderAdjustmentPosting.LoadAsync(session, workspace, remittance, _id, stream.Aggregate?.PayerId, CancellationToken.None);
        if (ProviderAdjustmentPosting.Decide(_id, remittance, claims, carried, remittance.PaymentDate ?? DateOnly.FromDateTime(now.UtcDateTime), now) is { } adjustments)
        {
            workspace.Append(adjustments);
            foreach (var change in adjustments.Streams.Where(c => !workspace.Holds((Guid)c.StreamId)))
            {
                if ((Guid)change.StreamId == _id) stream.AppendMany(change.Events);
                else
                {
                    // An earlier 835's carried balance: fetched for writing, so two 835s taking it back at once cannot both take it.
                    var earlier = await session.Events.FetchForWriting<Remittance>((Guid)change.StreamId);
                    earlier.AppendMany(change.Events);
                }
            }
        }

        try
        {
            await session.SaveChangesAsync(CancellationToken.None);
        }
        catch (JasperFx.ConcurrencyException)
        {
            await using var again = store.QuerySession(session.TenantId);
            if (await again.LoadAsync<Remittance>(_id) is { Posting: false } other) return Duplicate(other);
            throw;
        }

        return new RemittanceResult(_id, remittance.TraceNumber, remittance.PayerName, _posted.Count, _posted.Sum(p => p.Lines), _posted.Sum(p => p.Paid),
            _unmatched, Duplicate: false);
    }
}
