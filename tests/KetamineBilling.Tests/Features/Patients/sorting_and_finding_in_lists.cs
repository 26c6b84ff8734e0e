using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;

namespace KetamineBilling.Tests.Features.Patients;

/// <summary>The lists the UI pages through: sorted on the server, found by what an administrator types.</summary>
public class sorting_and_finding_in_lists(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task patients_sort_by_name_by_last_session_and_by_sessions_either_way()
    {
        await Fixture.PricedCode("96365", 450m);
        var ada = await Fixture.RegisteredPatient("Ada", "Abbott");
        var zed = await Fixture.RegisteredPatient("Zed", "Zimmer");
        var mia = await Fixture.RegisteredPatient("Mia", "Moreau");
        await Fixture.DeliveredSession(zed, Scenarios.Session(deliveredOn: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1))));
        await Fixture.DeliveredSession(zed, Scenarios.Session(deliveredOn: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-2))));
        await Fixture.DeliveredSession(ada, Scenarios.Session(deliveredOn: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-30))));
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

        async Task<Guid[]> Sorted(string sort) => (await Fixture.Get<PatientPage>($"/api/patients?sort={sort}")).Items.Select(p => p.Id).ToArray();
        Assert.Equal([ada, mia, zed], await Sorted("name"));
        Assert.Equal([zed, mia, ada], await Sorted("-name"));
        Assert.Equal([zed, ada, mia], await Sorted("-sessions"));
        Assert.Equal([zed, ada], (await Sorted("-lastSession")).Where(id => id != mia));

        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url("/api/patients?sort=age");
            s.StatusCodeShouldBe(400);
            s.ContentShouldContain("sort");
        });
    }

    [Fact]
    public async Task a_count_never_depends_on_the_page_asked_even_one_past_the_end()
    {
        await Fixture.PricedCode("96365", 450m);
        var payer = await Fixture.Payer();
        for (var i = 0; i < 3; i++)
        {
            var patient = await Fixture.RegisteredPatient($"Page{i}", "Counted");
            await Fixture.Coverage(patient, payer);
            var session = Scenarios.Session() with { Funding = ["insurance"] };
            await Fixture.DeliveredSession(patient, session);
            await Fixture.Post<object>("/api/claims", new KetamineBilling.Features.Claims.FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId]));
        }

        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

        foreach (var page in new[] { 1, 2, 5 })
        {
            var patients = await Fixture.Get<PatientPage>($"/api/patients?page={page}&pageSize=2");
            Assert.Equal(3, patients.TotalCount);
            Assert.Equal(page switch { 1 => 2, 2 => 1, _ => 0 }, patients.Items.Count);
            var claims = await Fixture.Get<KetamineBilling.Features.Claims.ClaimPage>($"/api/claims?page={page}&pageSize=2");
            Assert.Equal(3, claims.TotalCount);
        }
    }

    [Fact]
    public async Task claims_are_found_by_the_start_of_their_control_number_and_sort_by_charge()
    {
        await Fixture.PricedCode("96365", 450m);
        await Fixture.PricedCode("J3490", 60m);
        var payer = await Fixture.Payer();
        var patient = await Fixture.RegisteredPatient("Ines", "Aldana");
        await Fixture.Coverage(patient, payer);
        var claims = new List<ClaimView>();
        foreach (var lines in new[] { new[] { ("96365", 1) }, [("96365", 1), ("J3490", 1)] })
        {
            var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Scenarios.Session(lines: lines) with { Funding = ["insurance"] }));
            claims.Add(await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId])));
        }

        var found = await Fixture.Get<ClaimPage>($"/api/claims?controlNumber={claims[1].ControlNumber[..^1].ToLowerInvariant()}");
        Assert.Contains(found.Items, c => c.Id == claims[1].Id);
        Assert.All(found.Items, c => Assert.StartsWith(claims[1].ControlNumber[..^1], c.ControlNumber, StringComparison.Ordinal));
        Assert.Empty((await Fixture.Get<ClaimPage>("/api/claims?controlNumber=NOSUCH")).Items);

        Assert.Equal([claims[1].Id, claims[0].Id], (await Fixture.Get<ClaimPage>("/api/claims?sort=-charge")).Items.Select(c => c.Id));
        Assert.Equal([claims[0].Id, claims[1].Id], (await Fixture.Get<ClaimPage>("/api/claims?sort=charge")).Items.Select(c => c.Id));
        await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url("/api/claims?sort=payer");
            s.StatusCodeShouldBe(400);
            s.ContentShouldContain("sort");
        });
    }

    [Fact]
    public async Task a_signed_out_visitor_cannot_download_through_the_ui()
    {
        var anonymous = await Host.Server.CreateClient().GetAsync("/ui/download?path=/api/analytics/aging", TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, anonymous.StatusCode);
    }
}
