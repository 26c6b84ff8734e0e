using System.Security.Claims;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Maintenance;

public static class ProjectionMaintenanceEndpoints
{
    internal static string By(ClaimsPrincipal user) => user.FindFirst(UserClaims.Email)?.Value ?? "unknown";

    /// <summary>The clinic the request acts for (tenant detection has made sure there is one): its read models only.</summary>
    internal static string Clinic(ClaimsPrincipal user) => user.FindFirst(UserClaims.Clinic)!.Value;

    /// <summary>Every read model with its position in the event log and its newest rebuild.</summary>
    [WolverineGet("/api/maintenance/projections"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static Task<IReadOnlyList<ProjectionState>> List(IDocumentStore store, IGlobalStore global, ClaimsPrincipal user, CancellationToken ct) =>
        ProjectionMaintenance.StatesAsync(store, global, Clinic(user), ct);

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
    public static async Task<IReadOnlyList<RebuildJob>> Jobs(IGlobalStore global, ClaimsPrincipal user, CancellationToken ct)
    {
        var clinic = Clinic(user);
        await using var session = global.QuerySession();
        return await session.Query<RebuildJob>().Where(j => j.Clinic == clinic).OrderByDescending(j => j.RequestedAt).Take(20).ToListAsync(ct);
    }

    /// <summary>A rebuild job's status: state (queued, running, succeeded, failed, cancelled), progress, results, error.</summary>
    [WolverineGet("/api/maintenance/rebuilds/{id}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static async Task<IResult> Job(Guid id, IGlobalStore global, ClaimsPrincipal user, CancellationToken ct)
    {
        await using var session = global.QuerySession();
        return await session.LoadAsync<RebuildJob>(id, ct) is { } job && job.Clinic == Clinic(user) ? Results.Ok(job) : Problems.NotFound($"rebuild {id} does not exist");
    }
}
