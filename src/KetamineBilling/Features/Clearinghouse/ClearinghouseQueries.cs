using KetamineBilling.Features.Claims;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Clearinghouse;

/// <param name="Enabled">False when no clearinghouse is set up: files are downloaded and uploaded by hand.</param>
/// <param name="Location">Where the clinic's files go and come from (the drop folder).</param>
/// <param name="Queued">Batches and status requests made and not yet put in the outbox.</param>
/// <param name="Files">The latest files sent and received, newest first.</param>
public sealed record ClearinghouseStatus(bool Enabled, string Location, int Queued, IReadOnlyList<ClearinghouseFile> Files);

public static class ClearinghouseQueries
{
    /// <summary>The clinic's clearinghouse: where it is, what waits to go, and the latest files sent and received with what each did.</summary>
    [WolverineGet("/api/clearinghouse"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<ClearinghouseStatus> Get(IQuerySession session, IClearinghouse clearinghouse, CancellationToken ct)
    {
        var queued = await session.Query<ClaimBatch>().CountAsync(b => b.ClearinghouseQueuedAt != null && b.ClearinghouseSentAt == null, ct)
                     + await session.Query<ClaimStatusRequestBatch>().CountAsync(b => b.ClearinghouseQueuedAt != null && b.ClearinghouseSentAt == null, ct);
        var files = await session.Query<ClearinghouseFile>().OrderByDescending(f => f.At).Take(50).ToListAsync(ct);
        return new ClearinghouseStatus(clearinghouse.Enabled, clearinghouse.Describe(session.TenantId), queued, files.ToList());
    }
}
