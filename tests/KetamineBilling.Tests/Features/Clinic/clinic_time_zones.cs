using Alba;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Features.Clinic;

/// <summary>
/// Issue 16: each clinic has its own time zone (its profile's). Clinic A is put on Kiritimati (UTC+14) and clinic B on Pago
/// Pago (UTC-11): 25 hours apart, their dates always differ, so every check below tells the two zones apart at any hour.
/// </summary>
public class clinic_time_zones(AppFixture fixture) : IntegrationContext(fixture)
{
    private const string Ahead = "Pacific/Kiritimati";
    private const string Behind = "Pacific/Pago_Pago";

    private static DateOnly TodayIn(string zone) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById(zone)).DateTime);

    private async Task<ClinicProfileView> SetZoneAsync(string zone, int status = 200)
    {
        var profile = await Fixture.Get<ClinicProfileView>("/api/clinic/profile");
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetClinicProfile(profile.Name, profile.AddressLines, profile.Phone, profile.Npi, profile.TaxId, profile.Taxonomy,
                profile.SubmitterId, zone)).ToUrl("/api/clinic/profile");
            s.StatusCodeShouldBe(status);
        });
        return (await result.ReadAsJsonAsync<ClinicProfileView>())!;
    }

    [Fact]
    public async Task each_clinic_s_today_is_its_own_zone_s_and_a_change_is_seen_at_once()
    {
        var defaultZone = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().DefaultZone.Id;
        Assert.Equal(defaultZone, (await Fixture.Get<ClinicProfileView>("/api/clinic/profile")).TimeZone);

        Assert.Equal(Ahead, (await SetZoneAsync(Ahead)).TimeZone);
        using (Fixture.ActingFor(AppFixture.OtherClinic)) Assert.Equal(Behind, (await SetZoneAsync(Behind)).TimeZone);
        // The same again records nothing.
        var events = (await Fixture.EventsOf(ClinicProfileState.StreamId)).Count;
        await SetZoneAsync(Ahead);
        Assert.Equal(events, (await Fixture.EventsOf(ClinicProfileState.StreamId)).Count);

        // "Today" is each clinic's: the aging's date, and what a session may be dated.
        var (aheadToday, behindToday) = (TodayIn(Ahead), TodayIn(Behind));
        var agingA = (await Fixture.Get<ArAgingReport>("/api/analytics/aging", As.Finance)).AsOf;
        DateOnly agingB;
        using (Fixture.ActingFor(AppFixture.OtherClinic)) agingB = (await Fixture.Get<ArAgingReport>("/api/analytics/aging", As.Finance)).AsOf;
        Assert.Contains(agingA, new[] { aheadToday, TodayIn(Ahead) });
        Assert.Contains(agingB, new[] { behindToday, TodayIn(Behind) });
        Assert.NotEqual(agingA, agingB);

        await Fixture.PricedCode("96365", 450m);
        var inA = await Fixture.RegisteredPatient("Tevita", "Ahead");
        await Fixture.DeliveredSession(inA, Scenarios.Session(deliveredOn: agingA));
        using (Fixture.ActingFor(AppFixture.OtherClinic))
        {
            await Fixture.PricedCode("96365", 450m);
            var inB = await Fixture.RegisteredPatient("Sina", "Behind");
            // Clinic A's today is still to come in clinic B.
            var refused = await Fixture.Call(As.Billing, s =>
            {
                s.Post.Json(Scenarios.Session(deliveredOn: agingA)).ToUrl($"/api/patients/{inB}/sessions");
                s.StatusCodeShouldBe(400);
            });
            Assert.Contains("must not be in the future", await refused.ReadAsTextAsync(), StringComparison.Ordinal);
        }

        // Moving clinic B to clinic A's zone: its next request has A's today.
        using (Fixture.ActingFor(AppFixture.OtherClinic))
        {
            await SetZoneAsync(Ahead);
            Assert.Contains((await Fixture.Get<ArAgingReport>("/api/analytics/aging", As.Finance)).AsOf, new[] { aheadToday, TodayIn(Ahead) });
        }
    }

    [Fact]
    public async Task a_claim_counts_in_the_month_of_its_clinic_s_zone()
    {
        await SetZoneAsync(Ahead);
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer();
        var patient = await Fixture.RegisteredPatient("Mele", "Counted");
        await Fixture.Coverage(patient, payer);
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient,
            Scenarios.Session(deliveredOn: TodayIn(Ahead).AddDays(-2)) with { Funding = ["insurance"] }));
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId]));
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

        await using var query = Store.QuerySession(AppFixture.Clinic);
        var source = await query.LoadAsync<PayerMonthSource>(claim.Id, TestContext.Current.CancellationToken);
        Assert.NotNull(source);
        Assert.Equal(Ahead, source.CountedIn);
        var month = TimeZoneInfo.ConvertTime(source.FiledAt!.Value, TimeZoneInfo.FindSystemTimeZoneById(Ahead)).ToString("yyyy-MM");
        Assert.NotNull(await query.LoadAsync<PayerMonth>(PayerMonth.IdOf(payer, month), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task a_zone_that_is_not_an_iana_one_is_refused_naming_the_field()
    {
        foreach (var zone in new[] { "MST", "Mountain Standard Time", "Mars/Olympus_Mons", "" })
        {
            var profile = await Fixture.Get<ClinicProfileView>("/api/clinic/profile");
            var result = await Fixture.Call(As.Billing, s =>
            {
                s.Put.Json(new SetClinicProfile(profile.Name, profile.AddressLines, profile.Phone, profile.Npi, profile.TaxId, profile.Taxonomy,
                    profile.SubmitterId, zone)).ToUrl("/api/clinic/profile");
                s.StatusCodeShouldBe(400);
            });
            Assert.Contains("\"timeZone\"", await result.ReadAsTextAsync(), StringComparison.Ordinal);
        }

        foreach (var (body, field) in new (OnboardClinic, string)[]
                 {
                     (new OnboardClinic("tz_bad", "Name", null, null, "EST"), "timeZone"),
                     (new OnboardClinic("tz_bad", "Name", null, SetClinicProfileEndpoint.From(new ClinicProfile { Name = "Name", AddressLines = ["1 Main St", "Chicago, IL 60611"],
                         Npi = "1234567893", TaxId = "36-1234567", Taxonomy = "2084P0800X", SubmitterId = "SUB1" }, Behind), Ahead), "timeZone")
                 })
        {
            var result = await Fixture.Call(As.Admin, s =>
            {
                s.Post.Json(body).ToUrl("/api/clinics");
                s.StatusCodeShouldBe(400);
            });
            Assert.Contains($"\"{field}\"", await result.ReadAsTextAsync(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(await Fixture.Get<List<ClinicView>>("/api/clinics", As.Admin), c => c.Code == "tz_bad");
        Assert.Equal(Fixture.Host.Services.GetRequiredService<ClinicCalendar>().DefaultZone.Id, (await Fixture.Get<ClinicProfileView>("/api/clinic/profile")).TimeZone);
    }

    [Fact]
    public async Task a_clinic_onboarded_with_a_zone_acts_in_it_from_its_first_request()
    {
        var code = $"tz_{Guid.NewGuid():N}"[..20];
        await Fixture.Post<ClinicView>("/api/clinics", new OnboardClinic(code, "Line Islands Infusion", null, null, Ahead), 201, As.Admin);
        var profile = await Fixture.Get<ClinicProfileView>("/api/clinic/profile", As.Finance);
        Assert.NotEqual(Ahead, profile.TimeZone);
        var analyst = await Fixture.Post<KetamineBilling.Features.Accounts.UserView>("/api/users", new KetamineBilling.Features.Accounts.CreateUser(Guid.NewGuid(),
            $"tz-{Guid.NewGuid():N}@test.local", "Line Islands Finance", [Roles.Finance], null, AppFixture.Password, [code]), 201, As.Admin);
        var token = await Fixture.TokenFor(analyst.Email, code);
        var result = await Fixture.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Get.Url("/api/clinic/profile");
            s.StatusCodeShouldBeOk();
        });
        var own = (await result.ReadAsJsonAsync<ClinicProfileView>())!;
        Assert.Equal(Ahead, own.TimeZone);
        // It prints the configured profile until its billing administrator sets its own.
        Assert.Equal(profile.Npi, own.Npi);
        var aging = await Fixture.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Get.Url("/api/analytics/aging");
            s.StatusCodeShouldBeOk();
        });
        Assert.Contains((await aging.ReadAsJsonAsync<ArAgingReport>())!.AsOf, new[] { TodayIn(Ahead).AddDays(-1), TodayIn(Ahead) });
    }
}
