using System.Text.Json;
using JasperFx.Events.Daemon;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Platform;

/// <summary>Every read model is a function of the events: a rebuild gives the same documents.</summary>
public class rebuilding_projections(AppFixture fixture) : IntegrationContext(fixture)
{
    private async Task<string> Snapshot()
    {
        await using var session = Store.QuerySession(AppFixture.Clinic);
        var ct = TestContext.Current.CancellationToken;
        var documents = new
        {
            balances = (await session.Query<PatientAccount>().ToListAsync(ct)).OrderBy(d => d.Id),
            directory = (await session.Query<PatientDirectoryEntry>().ToListAsync(ct)).OrderBy(d => d.Id),
            owners = (await session.Query<SessionOwner>().ToListAsync(ct)).OrderBy(d => d.Id),
            schedules = await session.Query<FeeSchedule>().ToListAsync(ct)
        };
        return JsonSerializer.Serialize(documents);
    }

    [Fact]
    public async Task rebuilding_every_projection_gives_the_same_read_models()
    {
        await Fixture.PricedCode("96365", 450m, new DateOnly(2025, 1, 1));
        await Fixture.PricedCode("96365", 475m, new DateOnly(2026, 1, 1));
        await Fixture.PricedCode("J3490", 60m, new DateOnly(2025, 1, 1));
        for (var i = 0; i < 3; i++)
        {
            var patient = await Fixture.RegisteredPatient($"Rebuild{i}", "Check");
            await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: new DateOnly(2025, 12, 20 + i), lines: [("96365", 1), ("J3490", 2)]));
            await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: new DateOnly(2026, 1, 2 + i)));
        }

        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var before = await Snapshot();

        var daemon = await Host.Services.GetRequiredService<IProjectionCoordinator>().DaemonForDatabase(KetamineBilling.Infrastructure.ClinicDatabases.Shared);
        foreach (var projection in new[] { "PatientAccount", "PatientDirectoryEntry", "SessionOwner", "FeeSchedule" })
        {
            await daemon.RebuildProjectionAsync(projection, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }

        Assert.Equal(before, await Snapshot());
        await using var session = Store.QuerySession(AppFixture.Clinic);
        var balances = await session.Query<PatientAccount>().ToListAsync(TestContext.Current.CancellationToken);
        Assert.Equal(3, balances.Count);
        // 96365 at 450.00 plus two J3490 at 60.00 in December 2025, 96365 at 475.00 in January 2026.
        Assert.All(balances, b => Assert.Equal(1045.00m, b.TotalCharged));
    }
}
