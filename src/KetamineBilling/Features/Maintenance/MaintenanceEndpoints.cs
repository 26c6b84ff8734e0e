using System.Security.Claims;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Maintenance;

public static class ProjectionMaintenanceEndpoints
{
    internal static string By(ClaimsPrincipal user) => user.FindFirst(UserClaims.Email)?.Value ?? "unknown";

    /// <summary>Every read model with its position in the event log and its newest rebuild.</summary>
    [WolverineGet("/api/maintenance/projections"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static Task<IReadOnlyList<ProjectionState>> List(IDocumentStore store, CancellationToken ct) => ProjectionMaintenance.StatesAsync(store, ct);

    /// <summary>A node that only serves requests (Marten:DaemonMode=Disabled) has no daemon to rebuild with.</summary>
    internal static IResult NoDaemon() => Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "This node runs no projection daemon",
        detail: "This node only serves requests (Marten:DaemonMode is Disabled): send the rebuild to a node that runs the daemon.");

    internal static IResult Answer((RebuildJob? Started, RebuildJob? Running) start) => start switch
    {
        ({ } job, _) => Results.Accepted($"/api/maintenance/rebuilds/{job.Id}", job),
        (null, { } running) => Problems.Conflict(
            $"rebuild {running.Id} of {(running.Projections.Count == 1 ? running.Projections[0] : $"{running.Projections.Count} read models")}, asked by {running.RequestedBy} at {running.RequestedAt:u}, is {running.State.ToString().ToLowerInvariant()}: one rebuild at a time"),
        _ => Problems.Conflict("a rebuild is starting on another node: one rebuild at a time")
    };

    /// <summary>The newest rebuild jobs (twenty), newest first: the page finds a running one here.</summary>
    [WolverineGet("/api/maintenance/rebuilds"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static async Task<IReadOnlyList<RebuildJob>> Jobs(IDocumentStore store, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.Query<RebuildJob>().OrderByDescending(j => j.RequestedAt).Take(20).ToListAsync(ct);
    }

    /// <summary>A rebuild job's status: state (queued, running, succeeded, failed, cancelled), progress, results, error.</summary>
    [WolverineGet("/api/maintenance/rebuilds/{id}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static async Task<IResult> Job(Guid id, IDocumentStore store, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        return await session.LoadAsync<RebuildJob>(id, ct) is { } job ? Results.Ok(job) : Problems.NotFound($"rebuild {id} does not exist");
    }
}
