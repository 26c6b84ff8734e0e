using System.Security.Claims;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Maintenance;

/// <summary>Rebuilds one read model. An operation on the read models, not a decision on a stream: the endpoint only asks <see cref="RebuildJobs"/>.</summary>
public static class RebuildProjectionEndpoint
{
    /// <summary>
    /// Starts a rebuild of one read model in the background: 202 with the job (and its Location to poll); 404 unknown;
    /// 409 while another rebuild runs on any node (the answer names it).
    /// </summary>
    [WolverinePost("/api/maintenance/projections/{name}/rebuild"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static async Task<IResult> Rebuild(string name, IDocumentStore store, RebuildJobs jobs, ClaimsPrincipal user, CancellationToken ct) =>
        !ProjectionMaintenance.AllNames(store).Contains(name, StringComparer.Ordinal) ? Problems.NotFound($"projection {name} does not exist")
        : !jobs.RunsProjections ? ProjectionMaintenanceEndpoints.NoDaemon()
        : ProjectionMaintenanceEndpoints.Answer(await jobs.StartAsync(ProjectionMaintenanceEndpoints.Clinic(user), [name], 1, ProjectionMaintenanceEndpoints.By(user), ct));
}
