using Microsoft.Extensions.DependencyInjection;
using Alba;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Features.Accounts;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;

namespace KetamineBilling.Tests.Features.Analytics;

/// <summary>Issue 16: finance of a billing company sees each clinic's figures and the clinics together.</summary>
public class clinic_rollup(AppFixture fixture) : IntegrationContext(fixture)
{
    // The clinic's today (its zone), not UTC's: from midnight UTC to midnight in the clinic, UTC is a day ahead.
    private DateOnly Today => Fixture.Host.Services.GetRequiredService<KetamineBilling.Infrastructure.ClinicCalendar>().Today();

    private async Task ClinicWithAsync(int sessions, decimal paid)
    {
        await Fixture.PricedCode("96365", 450m, Today.AddYears(-1));
        await Fixture.Payer("Blue Prairie Health", "BPH01");
        var patient = await Fixture.RegisteredPatient("Roll", "Up");
        for (var i = 0; i < sessions; i++) await Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: Today));
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "cash", paid, Today, null));
    }

    [Fact]
    public async Task each_clinic_the_user_works_for_and_the_total_computed_again_from_the_sums()
    {
        await Fixture.ResetDataAsync();
        await ClinicWithAsync(1, 100m);
        using (Fixture.ActingFor(AppFixture.OtherClinic)) await ClinicWithAsync(2, 50m);
        var month = $"{Today:yyyy-MM}";
        // Each clinic's figures are kept by asynchronous projections: read them once both clinics' have caught up.
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.OtherClinic, TimeSpan.FromSeconds(30));

        var report = await Fixture.Get<ClinicRollupReport>($"/api/analytics/clinics?from={month}&to={month}", As.Finance);
        Assert.Equal(["Test Clinic A", "Test Clinic B"], report.Clinics.Select(c => c.Name));
        Assert.Equal([(450m, 100m, 350m), (900m, 50m, 850m)], report.Clinics.Select(c => (c.GrossCharges, c.Collections, c.Aging.Total)));
        Assert.Equal((1350m, 150m, 1200m), (report.Total.GrossCharges, report.Total.Collections, report.Total.Aging.Total));
        // The total's rate is the sums' (150 / 1350), not the average of the clinics' rates ((100/450 + 50/900) / 2).
        Assert.Equal(Rates.Of(150m, 1350m), report.Total.GrossCollectionRate);
        Assert.NotEqual((report.Clinics[0].GrossCollectionRate + report.Clinics[1].GrossCollectionRate) / 2, report.Total.GrossCollectionRate);

        // A user of one clinic sees that clinic only.
        var single = await Fixture.CreateUserAsync(Roles.Finance);
        var token = await Fixture.FreshTokenAsync(single.Email);
        var result = await Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Get.Url($"/api/analytics/clinics?from={month}&to={month}");
            s.StatusCodeShouldBeOk();
        });
        var own = (await result.ReadAsJsonAsync<ClinicRollupReport>())!;
        Assert.Equal(["Test Clinic A"], own.Clinics.Select(c => c.Name));
        Assert.Equal(450m, own.Total.GrossCharges);
    }

    [Fact]
    public async Task a_month_that_is_not_one_is_a_400_naming_it()
    {
        var result = await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url("/api/analytics/clinics?from=2026-13&to=2026-01");
            s.StatusCodeShouldBe(400);
        });
        Assert.Contains("\"from\"", await result.ReadAsTextAsync(), StringComparison.Ordinal);
    }
}
