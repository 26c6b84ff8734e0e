using System.Text.Json;
using System.Net;
using System.Net.Http.Json;
using Alba;
using JasperFx;
using JasperFx.Events.Daemon;
using KetamineBilling.Features.Maintenance;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace KetamineBilling.Tests.Features.Maintenance;

/// <summary>The Maintenance API's rebuild: a background job (202, then polled), one at a time across every node.</summary>
public static class Rebuilds
{
    /// <summary>Asks for a rebuild: 202, the job in the body and its status address in Location.</summary>
    public static async Task<RebuildJob> StartedAsync(this AppFixture fixture, string url)
    {
        var result = await fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new { }).ToUrl(url);
            s.StatusCodeShouldBe(202);
        });
        var job = (await result.ReadAsJsonAsync<RebuildJob>())!;
        Assert.Equal($"/api/maintenance/rebuilds/{job.Id}", result.Context.Response.Headers.Location.ToString());
        Assert.Equal(As.Billing, job.RequestedBy);
        return job;
    }

    /// <summary>Polls the job's status over HTTP until it has ended.</summary>
    public static async Task<RebuildJob> FinishedAsync(this AppFixture fixture, Guid id, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var job = await fixture.Get<RebuildJob>($"/api/maintenance/rebuilds/{id}");
            if (job.Finished) return job;
            Assert.True(DateTime.UtcNow < deadline, $"rebuild {id} still {job.State} after {seconds} s");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Waits until the read model shows as being rebuilt (the job's status says so).</summary>
    public static async Task UnderwayAsync(this AppFixture fixture, string name, Task? mustNotEnd = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await fixture.Get<List<ProjectionState>>("/api/maintenance/projections")).Any(s => s.Name == name && s.Rebuilding))
        {
            Assert.True(mustNotEnd is not { IsCompleted: true } && DateTime.UtcNow < deadline, $"the {name} rebuild was never seen under way");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A new patient reaches the (async) directory: its live shard runs.</summary>
    public static async Task DirectoryFollowsAsync(this AppFixture fixture, string first, string last)
    {
        var after = await fixture.RegisteredPatient(first, last);
        var until = DateTime.UtcNow.AddSeconds(15);
        while ((await fixture.Get<KetamineBilling.Features.Patients.PatientPage>($"/api/patients?search={first} {last}")).Items.All(p => p.Id != after))
        {
            Assert.True(DateTime.UtcNow < until, "the directory stopped projecting after the rebuild");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }
}

public class rebuilding_a_read_model(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task a_rebuild_answers_202_at_once_runs_in_the_background_and_is_polled_to_done_with_the_same_documents()
    {
        await Fixture.PricedCode("96365", 450m);
        for (var i = 0; i < 3; i++)
        {
            var patient = await Fixture.RegisteredPatient($"Rebuild{i}", "Patient");
            await Fixture.DeliveredSession(patient, Scenarios.Session());
        }

        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var before = await ProjectionSnapshot.DocumentsAsync(Store);
        var states = await Fixture.Get<List<ProjectionState>>("/api/maintenance/projections");
        Assert.Equal(ProjectionSnapshot.Names(Store), states.Select(s => s.Name).Where(n => n != PoisonedProjection.ProjectionName));
        Assert.Equal("inline", states.Single(s => s.Name == "PatientAccount").Lifecycle);
        Assert.Equal("async", states.Single(s => s.Name == "PatientDirectoryEntry").Lifecycle);

        var started = await Fixture.StartedAsync("/api/maintenance/projections/PatientAccount/rebuild");
        // The aging, the KPIs and the worklist read the accounts: a rebuild of the accounts rebuilds them too, after them (ADR 0017).
        Assert.Equal(["PatientAccount", "Aging", "Kpis", "Exceptions"], started.Projections);
        Assert.Contains(started.State, new[] { RebuildState.Queued, RebuildState.Running });
        var job = await Fixture.FinishedAsync(started.Id);

        Assert.Equal((RebuildState.Succeeded, 100d, null), (job.State, job.Progress, job.Error));
        Assert.Equal(["Aging", "Exceptions", "Kpis", "PatientAccount"], job.Results.Select(r => r.Name));
        var rebuilt = job.Results.Single(r => r.Name == "PatientAccount");
        Assert.Equal(("PatientAccount", states[0].NewestEvent, As.Billing), (rebuilt.Name, rebuilt.Events, rebuilt.By));
        Assert.All(job.Results.Where(r => r.Name != "PatientAccount"), r => Assert.True(r.FinishedAt >= rebuilt.FinishedAt, $"{r.Name} was rebuilt before the accounts it reads"));
        Assert.True(job.StartedAt >= job.RequestedAt && job.FinishedAt >= job.StartedAt);
        var after = await ProjectionSnapshot.DocumentsAsync(Store);
        IEnumerable<KeyValuePair<string, string>> Accounts(Dictionary<string, string> documents) =>
            documents.Where(d => d.Key.StartsWith("PatientAccount:", StringComparison.Ordinal)).OrderBy(d => d.Key, StringComparer.Ordinal);
        Assert.Equal(3, Accounts(after).Count());
        Assert.Equal(Accounts(before), Accounts(after));
        var again = await Fixture.Get<List<ProjectionState>>("/api/maintenance/projections");
        Assert.Equal(rebuilt, again.Single(s => s.Name == "PatientAccount").LastRebuild);
        Assert.Contains(await Fixture.Get<List<RebuildJob>>("/api/maintenance/rebuilds"), j => j.Id == job.Id);
    }

    [Fact]
    public async Task rebuilding_everything_goes_on_after_the_client_leaves_and_a_second_request_meanwhile_is_a_409_naming_the_running_job()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Everything", "Rebuilt");
        await Fixture.DeliveredSession(patient, Scenarios.Session());
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var before = await ProjectionSnapshot.DocumentsAsync(Store);

        // A long rebuild, deterministically: this transaction holds the claim table, so the Claim rebuild's teardown
        // waits for it and the rebuild-all stays under way until the lock is let go.
        await using var held = await HeldLock.TableAsync(Fixture.ClinicConnectionString, $"{Store.Options.DatabaseSchemaName}.mt_doc_claim", "access exclusive");

        // The client asks and leaves: its connection is gone before the rebuild has done anything.
        Guid id;
        using (var client = Host.Server.CreateClient())
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", await Fixture.TokenFor(As.Billing));
            using var response = await client.PostAsJsonAsync("/api/maintenance/projections/rebuild-all", new { }, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            id = (await response.Content.ReadFromJsonAsync<RebuildJob>(ClientCommands.Json, TestContext.Current.CancellationToken))!.Id;
        }

        await Fixture.UnderwayAsync("Claim");

        // Any second rebuild meanwhile is refused, the one under way included, and the answer names the running job.
        foreach (var url in new[] { "/api/maintenance/projections/Claim/rebuild", "/api/maintenance/projections/PatientAccount/rebuild", "/api/maintenance/projections/rebuild-all" })
        {
            var refused = await Fixture.Call(As.Billing, s =>
            {
                s.Post.Json(new { }).ToUrl(url);
                s.StatusCodeShouldBe(409);
            });
            Assert.Contains(id.ToString(), await refused.ReadAsTextAsync(), StringComparison.Ordinal);
        }

        var running = await Fixture.Get<RebuildJob>($"/api/maintenance/rebuilds/{id}");
        Assert.Equal(RebuildState.Running, running.State);
        Assert.Contains("Claim", running.Rebuilding);
        Assert.InRange(running.Progress, 0, 99.9);
        await held.ReleaseAsync();
        var job = await Fixture.FinishedAsync(id);

        Assert.Equal(RebuildState.Succeeded, job.State);
        var states = await Fixture.Get<List<ProjectionState>>("/api/maintenance/projections");
        Assert.Equal(states.Select(s => s.Name), job.Results.Select(p => p.Name));
        Assert.All(job.Results, p => Assert.Equal(p, states.Single(s => s.Name == p.Name).LastRebuild));
        Assert.Equal(states[0].NewestEvent, job.Events);
        Assert.True(job.Seconds > 0 && job.EventsPerSecond > 0);
        Assert.Equal(before, await ProjectionSnapshot.DocumentsAsync(Store));

        // The async read models, stopped for the rebuild, follow new events again.
        await Fixture.DirectoryFollowsAsync("After", "Everything");
    }

    [Fact]
    public async Task one_rebuild_at_a_time_holds_across_nodes_the_lock_is_postgresql_s_and_two_requests_at_once_start_one()
    {
        // Events of the clinic to rebuild from: a clinic without any is rebuilt at once, with nothing to wait for.
        await Fixture.RegisteredPatient("One", "Atatime");
        // Another node's rebuild, as PostgreSQL sees it: this connection holds the advisory lock.
        await using (var otherNode = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Fixture.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await otherNode.OpenAsync(TestContext.Current.CancellationToken);
            await using (var take = new NpgsqlCommand("select pg_advisory_lock($1, $2)", otherNode)
                         { Parameters = { new NpgsqlParameter { Value = RebuildJobs.LockKey }, new NpgsqlParameter { Value = RebuildJobs.LockKeyOf(AppFixture.Clinic) } } })
            {
                await take.ExecuteScalarAsync(TestContext.Current.CancellationToken);
            }

            var refused = await Fixture.Call(As.Billing, s =>
            {
                s.Post.Json(new { }).ToUrl("/api/maintenance/projections/PatientDirectoryEntry/rebuild");
                s.StatusCodeShouldBe(409);
            });
            Assert.Contains("one rebuild at a time", await refused.ReadAsTextAsync(), StringComparison.Ordinal);
            Assert.Empty(await Fixture.Get<List<RebuildJob>>("/api/maintenance/rebuilds"));
        }

        // The other node's connection is gone, and its lock with it. Two requests at once: one starts, the other is a 409.
        await using var held = await HeldLock.TableAsync(Fixture.ClinicConnectionString, $"{Store.Options.DatabaseSchemaName}.mt_doc_patientdirectoryentry", "access exclusive");
        var client = Host.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await Fixture.TokenFor(As.Billing));
        var answers = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            client.PostAsJsonAsync("/api/maintenance/projections/PatientDirectoryEntry/rebuild", new { }, TestContext.Current.CancellationToken))));
        var codes = answers.Select(a => a.StatusCode).Order().ToList();
        Assert.True(codes.SequenceEqual([HttpStatusCode.Accepted, HttpStatusCode.Conflict]), $"answers {string.Join(", ", codes)}; jobs: " +
            JsonSerializer.Serialize(await Fixture.Get<List<RebuildJob>>("/api/maintenance/rebuilds")));
        var started = (await answers.Single(a => a.StatusCode == HttpStatusCode.Accepted).Content.ReadFromJsonAsync<RebuildJob>(ClientCommands.Json, TestContext.Current.CancellationToken))!;
        await held.ReleaseAsync();
        Assert.Equal(RebuildState.Succeeded, (await Fixture.FinishedAsync(started.Id)).State);
        Assert.Single(await Fixture.Get<List<RebuildJob>>("/api/maintenance/rebuilds"));
    }

    [Fact]
    public async Task a_cancelled_rebuild_finishes_the_read_models_under_way_starts_no_other_and_the_live_shards_run_again()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Cancelled", "Rebuild");
        await Fixture.DeliveredSession(patient, Scenarios.Session());
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var before = await ProjectionSnapshot.DocumentsAsync(Store);
        // Rebuild-all takes the read models in name order, two at a time (the readers of other read models last): the
        // first two wait on their held tables.
        var first = ProjectionMaintenance.AllNames(Store).Except(ProjectionMaintenance.Readers.Keys).Take(2).ToList();
        Assert.Equal(first.Order(StringComparer.Ordinal), first);
        // Each of them is a snapshot document of its own name (its table held, its rebuild waits on it).
        var schema = Store.Options.DatabaseSchemaName;
        await using var heldFirst = await HeldLock.TableAsync(Fixture.ClinicConnectionString, $"{schema}.mt_doc_{first[0].ToLowerInvariant()}", "access exclusive");
        await using var heldSecond = await HeldLock.TableAsync(Fixture.ClinicConnectionString, $"{schema}.mt_doc_{first[1].ToLowerInvariant()}", "access exclusive");

        var started = await Fixture.StartedAsync("/api/maintenance/projections/rebuild-all");
        await Fixture.UnderwayAsync(first[0]);
        await Fixture.UnderwayAsync(first[1]);
        var cancel = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new { }).ToUrl($"/api/maintenance/rebuilds/{started.Id}/cancel");
            s.StatusCodeShouldBe(202);
        });
        Assert.Equal(As.Billing, (await cancel.ReadAsJsonAsync<RebuildJob>())!.CancelledBy);
        await heldFirst.ReleaseAsync();
        await heldSecond.ReleaseAsync();
        var job = await Fixture.FinishedAsync(started.Id);

        Assert.Equal((RebuildState.Cancelled, As.Billing), (job.State, job.CancelledBy));
        Assert.Equal(first, job.Results.Select(r => r.Name));
        Assert.Equal(before, await ProjectionSnapshot.DocumentsAsync(Store));
        await Fixture.DirectoryFollowsAsync("After", "Cancel");
        var daemon = await Host.Services.GetRequiredService<IProjectionCoordinator>().DaemonForDatabase(KetamineBilling.Infrastructure.ClinicDatabases.Shared);
        Assert.Contains(daemon.CurrentAgents(), a => a.Name.Identity.StartsWith("PayerMonths", StringComparison.Ordinal) && a.Status == AgentStatus.Running);
        // An ended job has nothing to cancel; the lock is free again.
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new { }).ToUrl($"/api/maintenance/rebuilds/{started.Id}/cancel");
            s.StatusCodeShouldBe(409);
        });
        Assert.Equal(RebuildState.Succeeded, (await Fixture.FinishedAsync((await Fixture.StartedAsync("/api/maintenance/projections/FeeSchedule/rebuild")).Id)).State);
    }

    [Fact]
    public async Task a_failing_rebuild_is_recorded_failed_without_the_events_content_and_the_live_shards_run_again()
    {
        var daemon = await Host.Services.GetRequiredService<IProjectionCoordinator>().DaemonForDatabase(KetamineBilling.Infrastructure.ClinicDatabases.Shared);
        try
        {
            await Fixture.RegisteredPatient("Before", "Failing");
            await using (var write = Store.LightweightSession(AppFixture.Clinic))
            {
                write.Events.StartStream(Guid.NewGuid(), new ProjectionPoison(Guid.NewGuid(), "Jane Roe born 1961-02-03"));
                await write.SaveChangesAsync(TestContext.Current.CancellationToken);
            }

            var started = await Fixture.StartedAsync("/api/maintenance/projections/rebuild-all");
            var job = await Fixture.FinishedAsync(started.Id);

            Assert.Equal(RebuildState.Failed, job.State);
            Assert.StartsWith($"{PoisonedProjection.ProjectionName} could not be rebuilt", job.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("Jane", job.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("1961", job.Error, StringComparison.Ordinal);
            Assert.True(job.Results.Count < job.Projections.Count);
            // Every live shard stopped for the rebuild runs again (the poisoned one excepted: it stopped on its bad event).
            foreach (var shard in new[] { $"PatientDirectoryEntry:All:{AppFixture.Clinic}", $"PayerMonths:All:{AppFixture.Clinic}" })
            {
                var until = DateTime.UtcNow.AddSeconds(15);
                while (!daemon.CurrentAgents().Any(a => a.Name.Identity == shard && a.Status == AgentStatus.Running))
                {
                    Assert.True(DateTime.UtcNow < until, $"{shard} runs again");
                    await Task.Delay(100, TestContext.Current.CancellationToken);
                }
            }

            await Fixture.DirectoryFollowsAsync("After", "Failing");
            // The lock went with the job: the next rebuild starts.
            Assert.Equal(RebuildState.Succeeded, (await Fixture.FinishedAsync((await Fixture.StartedAsync("/api/maintenance/projections/FeeSchedule/rebuild")).Id)).State);
        }
        finally
        {
            // Without the poison event, resuming the daemon starts the poisoned shard again.
            await Fixture.ResetDataAsync();
        }
    }

    [Fact]
    public async Task an_unknown_read_model_or_job_is_a_404_and_finance_may_not_rebuild()
    {
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new { }).ToUrl("/api/maintenance/projections/NoSuchThing/rebuild");
            s.StatusCodeShouldBe(404);
        });
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/maintenance/rebuilds/{Guid.NewGuid()}");
            s.StatusCodeShouldBe(404);
        });
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new { }).ToUrl($"/api/maintenance/rebuilds/{Guid.NewGuid()}/cancel");
            s.StatusCodeShouldBe(404);
        });
        await Fixture.Call(As.Finance, s =>
        {
            s.Post.Json(new { }).ToUrl("/api/maintenance/projections/PatientAccount/rebuild");
            s.StatusCodeShouldBe(403);
        });
        await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url("/api/maintenance/rebuilds");
            s.StatusCodeShouldBe(403);
        });
    }
}

public class after_a_rebuild(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task an_async_read_model_keeps_projecting_new_events_after_its_rebuild()
    {
        await Fixture.RegisteredPatient("Before", "Rebuild");
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

        var job = await Fixture.FinishedAsync((await Fixture.StartedAsync("/api/maintenance/projections/PatientDirectoryEntry/rebuild")).Id);

        Assert.Equal(RebuildState.Succeeded, job.State);
        await Fixture.DirectoryFollowsAsync("After", "Rebuild");
    }
}
