using Alba;
using KetamineBilling.Features.Maintenance;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;

namespace KetamineBilling.Tests.Features.Maintenance;

public class rebuilding_a_read_model(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task a_billing_administrator_rebuilds_a_read_model_and_gets_the_same_documents_back()
    {
        await Fixture.PricedCode("96365", 450m);
        for (var i = 0; i < 3; i++)
        {
            var patient = await Fixture.RegisteredPatient($"Rebuild{i}", "Patient");
            await Fixture.DeliveredSession(patient, Scenarios.Session());
        }

        await Store.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));
        var before = await ProjectionSnapshot.DocumentsAsync(Store);
        var states = await Fixture.Get<List<ProjectionState>>("/api/maintenance/projections");
        Assert.Equal(ProjectionSnapshot.Names(Store), states.Select(s => s.Name).Where(n => n != PoisonedProjection.ProjectionName));
        Assert.Equal("inline", states.Single(s => s.Name == "PatientAccount").Lifecycle);
        Assert.Equal("async", states.Single(s => s.Name == "PatientDirectoryEntry").Lifecycle);

        var rebuilt = await Fixture.Post<RebuildResult>("/api/maintenance/projections/PatientAccount/rebuild", new { }, 200);

        Assert.Equal(("PatientAccount", states[0].NewestEvent, "billing@test.local"), (rebuilt.Name, rebuilt.Events, rebuilt.By));
        var after = await ProjectionSnapshot.DocumentsAsync(Store);
        IEnumerable<KeyValuePair<string, string>> Accounts(Dictionary<string, string> documents) =>
            documents.Where(d => d.Key.StartsWith("PatientAccount:", StringComparison.Ordinal)).OrderBy(d => d.Key, StringComparer.Ordinal);
        Assert.Equal(3, Accounts(after).Count());
        Assert.Equal(Accounts(before), Accounts(after));
        var again = await Fixture.Get<List<ProjectionState>>("/api/maintenance/projections");
        Assert.Equal(rebuilt, again.Single(s => s.Name == "PatientAccount").LastRebuild);
    }

    [Fact]
    public async Task rebuilding_every_read_model_at_once_gives_the_same_documents_and_a_second_request_meanwhile_is_a_409()
    {
        await Fixture.PricedCode("96365", 450m);
        var patient = await Fixture.RegisteredPatient("Everything", "Rebuilt");
        await Fixture.DeliveredSession(patient, Scenarios.Session());
        await Store.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));
        var before = await ProjectionSnapshot.DocumentsAsync(Store);

        // A long rebuild, deterministically: this transaction holds the claim table, so the Claim rebuild's teardown
        // waits for it and the rebuild-all stays under way until the lock is let go.
        await using var held = await HeldLock.TableAsync(Fixture.ConnectionString, $"{Store.Options.DatabaseSchemaName}.mt_doc_claim", "access exclusive");

        var all = Fixture.Post<RebuildAllResult>("/api/maintenance/projections/rebuild-all", new { }, 200);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await Fixture.Get<List<ProjectionState>>("/api/maintenance/projections")).Any(s => s.Name == "Claim" && s.Rebuilding))
        {
            Assert.True(!all.IsCompleted && DateTime.UtcNow < deadline, "the claim rebuild was never seen under way");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        // Any second rebuild meanwhile is refused, the one under way included.
        foreach (var url in new[] { "/api/maintenance/projections/Claim/rebuild", "/api/maintenance/projections/PatientAccount/rebuild", "/api/maintenance/projections/rebuild-all" })
        {
            await Fixture.Call(As.Billing, s =>
            {
                s.Post.Json(new { }).ToUrl(url);
                s.StatusCodeShouldBe(409);
            });
        }

        Assert.False(all.IsCompleted);
        await held.ReleaseAsync();
        var result = await all;
        var states = await Fixture.Get<List<ProjectionState>>("/api/maintenance/projections");
        Assert.Equal(states.Select(s => s.Name), result.Projections.Select(p => p.Name));
        Assert.All(result.Projections, p => Assert.Equal(p, states.Single(s => s.Name == p.Name).LastRebuild));
        Assert.Equal(states[0].NewestEvent, result.Events);
        Assert.True(result.Seconds > 0 && result.EventsPerSecond > 0);
        Assert.Equal(before, await ProjectionSnapshot.DocumentsAsync(Store));

        // The async read models, stopped for the rebuild, follow new events again.
        var after = await Fixture.RegisteredPatient("After", "Everything");
        var until = DateTime.UtcNow.AddSeconds(15);
        while ((await Fixture.Get<KetamineBilling.Features.Patients.PatientPage>("/api/patients?search=after everything")).Items.All(p => p.Id != after))
        {
            Assert.True(DateTime.UtcNow < until, "the directory stopped projecting after rebuild-all");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task an_unknown_read_model_is_a_404_and_finance_may_not_rebuild()
    {
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new { }).ToUrl("/api/maintenance/projections/NoSuchThing/rebuild");
            s.StatusCodeShouldBe(404);
        });
        await Fixture.Call(As.Finance, s =>
        {
            s.Post.Json(new { }).ToUrl("/api/maintenance/projections/PatientAccount/rebuild");
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
        await Store.WaitForNonStaleProjectionDataAsync(TimeSpan.FromSeconds(30));

        await Fixture.Post<RebuildResult>("/api/maintenance/projections/PatientDirectoryEntry/rebuild", new { }, 200);
        var after = await Fixture.RegisteredPatient("After", "Rebuild");

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await Fixture.Get<KetamineBilling.Features.Patients.PatientPage>("/api/patients?search=after rebuild")).Items.All(p => p.Id != after))
        {
            Assert.True(DateTime.UtcNow < deadline, "the directory stopped projecting after its rebuild");
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }
}
