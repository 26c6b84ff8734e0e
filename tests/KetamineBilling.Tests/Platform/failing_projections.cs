using Alba;
using JasperFx;
using JasperFx.Events.Daemon;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Platform;

/// <summary>A projection error stops its shard (the event is never skipped) and the projections alert says so; the node stays ready.</summary>
public class failing_projections(AppFixture fixture) : IntegrationContext(fixture)
{
    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"not within 60 s: {what}");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task a_failing_projection_stops_its_shard_and_the_alert_reports_it_while_the_others_keep_up_and_the_node_stays_ready()
    {
        var daemon = await Host.Services.GetRequiredService<IProjectionCoordinator>().DaemonForDatabase(KetamineBilling.Infrastructure.ClinicDatabases.Shared);
        var ct = TestContext.Current.CancellationToken;
        try
        {
            var poisonStream = Guid.NewGuid();
            await using (var write = Store.LightweightSession(AppFixture.Clinic))
            {
                write.Events.StartStream(poisonStream, new ProjectionPoison(Guid.NewGuid(), "a bug in a projection"));
                await write.SaveChangesAsync(ct);
            }

            long sequence;
            await using (var read = Store.QuerySession(AppFixture.Clinic)) sequence = (await read.Events.FetchStreamAsync(poisonStream, token: ct)).Single().Sequence;

            await Eventually(() => Task.FromResult(daemon.CurrentAgents().Any(a =>
                a.Name.Identity.StartsWith(PoisonedProjection.ProjectionName, StringComparison.Ordinal) && a.Status is AgentStatus.Paused or AgentStatus.Stopped)),
                "the poisoned shard stops");

            var alert = await Fixture.Call(null, s =>
            {
                s.Get.Url("/health/projections");
                s.StatusCodeShouldBe(503);
            });
            Assert.Contains(PoisonedProjection.ProjectionName, await alert.ReadAsTextAsync());
            // One read model's stop is the same on every node: the load balancer keeps sending this node requests.
            await Fixture.Call(null, s =>
            {
                s.Get.Url("/health/ready");
                s.StatusCodeShouldBeOk();
            });
            // The log says which projection stopped and at which event, so the event can be found and the bug fixed.
            Assert.Contains(Fixture.Logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains(PoisonedProjection.ProjectionName, StringComparison.Ordinal)
                                                     && l.Contains(sequence.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

            // The other shards go on: a new patient reaches the (async) directory.
            var patient = await Fixture.RegisteredPatient("Still", "Projected");
            await Eventually(async () =>
            {
                await using var query = Store.QuerySession(AppFixture.Clinic);
                return await query.LoadAsync<PatientDirectoryEntry>(patient, ct) is not null;
            }, "the directory keeps projecting");
        }
        finally
        {
            // Without the poison event, resuming the daemon starts the shard again.
            await Fixture.ResetDataAsync();
        }

        await Eventually(async () =>
        {
            var result = await Fixture.Call(null, s =>
            {
                s.Get.Url("/health/projections");
                s.IgnoreStatusCode();
            });
            return result.Context.Response.StatusCode == 200;
        }, "the alert clears once the poison is gone");
    }
}
