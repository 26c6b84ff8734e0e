using System.Security.Claims;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Maintenance;

/// <summary>Cancels a running rebuild. An operation on the read models, not a decision on a stream: the endpoint only asks <see cref="RebuildJobs"/>.</summary>
public static class CancelRebuildEndpoint
{
    /// <summary>
    /// Cancels a running rebuild: the read models under way finish, the others are not started (202 with the job; 404;
    /// 409 when it has already ended).
    /// </summary>
    [WolverinePost("/api/maintenance/rebuilds/{id}/cancel"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static async Task<IResult> Cancel(Guid id, RebuildJobs jobs, ClaimsPrincipal user, CancellationToken ct) =>
        await jobs.CancelAsync(ProjectionMaintenanceEndpoints.Clinic(user), id, ProjectionMaintenanceEndpoints.By(user), ct) switch
        {
            null => Problems.NotFound($"rebuild {id} does not exist"),
            { Finished: true } job => Problems.Conflict($"rebuild {id} has already {job.State.ToString().ToLowerInvariant()}: there is nothing to cancel"),
            var job => Results.Accepted($"/api/maintenance/rebuilds/{id}", job)
        };
}
