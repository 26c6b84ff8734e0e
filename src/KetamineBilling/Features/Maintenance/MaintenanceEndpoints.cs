using System.Security.Claims;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Maintenance;

public static class MaintenanceModule
{
    /// <summary>The rebuild jobs' runner (one per node, stopped with the node) and their documents.</summary>
    public static void AddMaintenance(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<RebuildJobs>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RebuildJobs>());
        builder.Services.ConfigureMarten(opts =>
        {
            opts.Schema.For<RebuildJob>().Index(j => j.RequestedAt);
            opts.Schema.For<RebuildCancel>();
        });
    }
}

public static class ProjectionMaintenanceEndpoints
{
    private static string By(ClaimsPrincipal user) => user.FindFirst(UserClaims.Email)?.Value ?? "unknown";

    /// <summary>Every read model with its position in the event log and its newest rebuild.</summary>
    [WolverineGet("/api/maintenance/projections"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static Task<IReadOnlyList<ProjectionState>> List(IDocumentStore store, CancellationToken ct) => ProjectionMaintenance.StatesAsync(store, ct);

    /// <summary>
    /// Starts a rebuild of one read model in the background: 202 with the job (and its Location to poll); 404 unknown;
    /// 409 while another rebuild runs on any node (the answer names it).
    /// </summary>
    [WolverinePost("/api/maintenance/projections/{name}/rebuild"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static async Task<IResult> Rebuild(string name, IDocumentStore store, RebuildJobs jobs, ClaimsPrincipal user, CancellationToken ct) =>
        !ProjectionMaintenance.AllNames(store).Contains(name, StringComparer.Ordinal) ? Problems.NotFound($"projection {name} does not exist")
        : !jobs.RunsProjections ? NoDaemon()
        : Answer(await jobs.StartAsync([name], 1, By(user), ct));

    /// <summary>Starts a rebuild of every read model, two at a time, in the background: 202 with the job; 409 while another runs.</summary>
    [WolverinePost("/api/maintenance/projections/rebuild-all"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static async Task<IResult> RebuildAll(IDocumentStore store, RebuildJobs jobs, ClaimsPrincipal user, CancellationToken ct) =>
        !jobs.RunsProjections ? NoDaemon() : Answer(await jobs.StartAsync(ProjectionMaintenance.AllNames(store), 2, By(user), ct));

    /// <summary>A node that only serves requests (Marten:DaemonMode=Disabled) has no daemon to rebuild with.</summary>
    private static IResult NoDaemon() => Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
        title: "This node runs no projection daemon",
        detail: "This node only serves requests (Marten:DaemonMode is Disabled): send the rebuild to a node that runs the daemon.");

    private static IResult Answer((RebuildJob? Started, RebuildJob? Running) start) => start switch
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

    /// <summary>
    /// Cancels a running rebuild: the read models under way finish, the others are not started (202 with the job; 404;
    /// 409 when it has already ended).
    /// </summary>
    [WolverinePost("/api/maintenance/rebuilds/{id}/cancel"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Maintenance")]
    public static async Task<IResult> Cancel(Guid id, RebuildJobs jobs, ClaimsPrincipal user, CancellationToken ct) =>
        await jobs.CancelAsync(id, By(user), ct) switch
        {
            null => Problems.NotFound($"rebuild {id} does not exist"),
            { Finished: true } job => Problems.Conflict($"rebuild {id} has already {job.State.ToString().ToLowerInvariant()}: there is nothing to cancel"),
            var job => Results.Accepted($"/api/maintenance/rebuilds/{id}", job)
        };
}
