using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Claims;

public static class ClaimsModule
{
    public static void AddClaims(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        opts.Projections.Snapshot<Claim>(JasperFx.Events.Projections.SnapshotLifecycle.Inline, Persistence.RebuildInBulk);
        opts.Schema.For<Claim>().UniqueIndex(c => c.ControlNumber).Index(c => c.PatientId).Index(c => c.PayerId).Index(c => c.FiledAt);
        opts.Schema.For<ClaimBatch>().Identity(b => b.Id).UniqueIndex(b => b.BatchId);
        opts.Schema.For<ClaimAcknowledgmentFile>().Index(f => f.ReceivedAt);
        opts.Schema.For<ClaimStatusRequestBatch>().Identity(b => b.Id).UniqueIndex(b => b.RequestId);
    });
}
