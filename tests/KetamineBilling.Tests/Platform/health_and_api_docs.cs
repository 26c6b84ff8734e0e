using System.Text.Json;
using Alba;
using JasperFx.Events.Daemon;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KetamineBilling.Tests.Platform;

public class health_and_api_docs(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task live_ready_and_projections_answer_200_without_a_token_when_postgres_and_the_daemon_are_fine()
    {
        await Host.Scenario(s => s.Get.Url("/health/live"));
        var ready = await Host.Scenario(s => s.Get.Url("/health/ready"));
        var projections = await Host.Scenario(s => s.Get.Url("/health/projections"));

        using var body = JsonDocument.Parse(await ready.ReadAsTextAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
        // Readiness is the node's own: a read model's stall is an alert of its own, not a reason to take every node out.
        Assert.False(body.RootElement.GetProperty("checks").TryGetProperty("projections", out _));
        using var alert = JsonDocument.Parse(await projections.ReadAsTextAsync());
        Assert.Equal("Healthy", alert.RootElement.GetProperty("checks").GetProperty("projections").GetProperty("status").GetString());
    }

    [Fact]
    public async Task the_projections_alert_reports_projections_that_sit_behind_the_newest_event()
    {
        var coordinator = Host.Services.GetRequiredService<IProjectionCoordinator>();
        var check = new ProjectionDaemonHealthCheck(Store, Host.Services, new HealthOptions { StallAfter = TimeSpan.Zero }, TimeProvider.System);
        await Fixture.RegisteredPatient();
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

        await coordinator.PauseAsync();
        try
        {
            await Fixture.RegisteredPatient();
            var stalled = await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);
            Assert.Equal(HealthStatus.Unhealthy, stalled.Status);
            Assert.Contains("stalled", stalled.Description);
        }
        finally
        {
            await coordinator.ResumeAsync();
        }

        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var recovered = await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Healthy, recovered.Status);
    }

    [Fact]
    public async Task the_openapi_document_is_public_and_lists_the_api()
    {
        var result = await Host.Scenario(s => s.Get.Url("/openapi/v1.json"));
        using var document = JsonDocument.Parse(await result.ReadAsTextAsync());
        var paths = document.RootElement.GetProperty("paths");

        Assert.True(paths.TryGetProperty("/api/patients/{patientId}/sessions", out _));
        Assert.True(paths.TryGetProperty("/api/fee-schedule/{code}", out _));
        Assert.True(paths.TryGetProperty("/api/auth/token", out _));
    }

    [Fact]
    public async Task the_interactive_api_reference_is_served()
    {
        var result = await Host.Scenario(s => s.Get.Url("/reference/v1"));

        Assert.Contains("openapi/v1.json", await result.ReadAsTextAsync());
    }
}
