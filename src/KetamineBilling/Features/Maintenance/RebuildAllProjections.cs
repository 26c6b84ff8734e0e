using System.Security.Claims;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Maintenance;

/// <summary>Rebuilds every read model. An operation on the read models, not a decision on a stream: the endpoint only asks <see cref="RebuildJobs"/>.</summary>
public static class RebuildAllProjectionsEndpoint
{
    /// <summary>Starts a rebuild of every read model, two at a time, in the background: 202 with the job; 409 while another runs.</summary>
    [WolverinePost("/api/maintenance/projections/rebuild-all"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static async Task<IResult> RebuildAll(IDocumentStore store, RebuildJobs jobs, ClaimsPrincipal user, CancellationToken ct) =>
        !jobs.RunsProjections
            ? ProjectionMaintenanceEndpoints.NoDaemon()
            : ProjectionMaintenanceEndpoints.Answer(await jobs.StartAsync(ProjectionMaintenanceEndpoints.Clinic(user), ProjectionMaintenance.AllNames(store), 2, ProjectionMaintenanceEndpoints.By(user), ct));
}
