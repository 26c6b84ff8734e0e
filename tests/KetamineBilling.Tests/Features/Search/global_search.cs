using Alba;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Search;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using JasperFx.Events.Daemon;
using Microsoft.AspNetCore.Mvc;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Search;

/// <summary>Issue 15: the app bar's search finds a patient by name, date of birth or member id, a claim by its number, a remittance by its trace.</summary>
public class global_search(AppFixture fixture) : IntegrationContext(fixture)
{
    private Task<SearchResults> Search(string q) => Fixture.Get<SearchResults>($"/api/search?q={Uri.EscapeDataString(q)}");

    private static SearchGroup Group(SearchResults results, string kind) => results.Groups.Single(g => g.Kind == kind);

    [Fact]
    public async Task finds_patients_claims_and_remittances_each_with_a_link()
    {
        await Fixture.PricedCode("96365", 450m);
        var marisol = await Fixture.RegisteredPatient("Marisol", "Vantongeren", new DateOnly(1979, 2, 3));
        var other = await Fixture.RegisteredPatient("Bruno", "Kessler", new DateOnly(1990, 7, 8));
        var payer = await Fixture.Payer();
        await Fixture.Coverage(other, payer, memberId: "QRZ5550001");
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(other,
            Scenarios.Session(deliveredOn: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-5))) with { Funding = ["insurance"] }));
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), other, payer, [session.SessionId]));
        await Fixture.Call(As.Billing, s =>
        {
            var paid = DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-1));
            s.Post.Text(Build("TRC7781234", "BLUE PRAIRIE HEALTH", "BPH01", 400m, paid, [
                new Clp("KB-NOT-OURS-1", "1", 450m, 400m, 0m, new Svc("96365", 450m, 400m, paid.AddDays(-20), null, ("CO", "45", 50m)))
            ])).ToUrl("/api/remittances");
            s.StatusCodeShouldBeOk();
        });
        await Fixture.Host.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

        var byName = await Search("vanTONG");
        Assert.Equal([(marisol, "Marisol Vantongeren", $"/patients/{marisol}")], Group(byName, "patients").Items.Select(h => (h.Id, h.Title, h.Link)));
        Assert.Empty(Group(byName, "claims").Items);
        Assert.Equal([marisol], Group(await Search("02/03/1979"), "patients").Items.Select(h => h.Id));
        Assert.Equal([marisol], Group(await Search("1979-02-03"), "patients").Items.Select(h => h.Id));
        Assert.Equal([other], Group(await Search("qrz5550001"), "patients").Items.Select(h => h.Id));

        var byClaim = await Search(claim.ControlNumber[..12].ToLowerInvariant());
        Assert.Equal([($"/claims/{claim.Id}", $"Claim {claim.ControlNumber}")], Group(byClaim, "claims").Items.Select(h => (h.Link, h.Title)));

        var byTrace = Group(await Search("TRC778"), "remittances").Items.Single();
        Assert.Equal("Remittance TRC7781234", byTrace.Title);
        Assert.StartsWith("/remittances/", byTrace.Link);

        // A PHI read: recorded as a search (the terms are not kept).
        await using var query = Fixture.Store.QuerySession(AppFixture.Clinic);
        Assert.True(await query.Query<PhiAccess>().AnyAsync(a => a.View == "search" && a.Path == "/api/search", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task lists_at_most_ten_of_a_kind_and_says_there_are_more()
    {
        for (var i = 0; i < 11; i++) await Fixture.RegisteredPatient("Common", $"Surname{i:D2}");
        await Fixture.Host.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));

        var results = await Search("common surname");
        Assert.Equal(GlobalSearchEndpoint.Limit, results.Limit);
        Assert.Equal(10, Group(results, "patients").Items.Count);
        Assert.True(Group(results, "patients").More);
        Assert.False(Group(await Search("surname10"), "patients").More);
    }

    [Fact]
    public async Task refuses_too_short_a_search_and_is_for_billing_only()
    {
        var result = await Fixture.Call(As.Billing, s => { s.Get.Url("/api/search?q=a"); s.StatusCodeShouldBe(400); });
        var problem = await result.ReadAsJsonAsync<ValidationProblemDetails>();
        Assert.Equal(["must be at least 2 characters"], problem!.Errors["q"]);
        await Fixture.Call(As.Billing, s => { s.Get.Url("/api/search"); s.StatusCodeShouldBe(400); });
        await Fixture.Call(As.Billing, s => { s.Get.Url($"/api/search?q={new string('x', 101)}"); s.StatusCodeShouldBe(400); });
        await Fixture.Call(As.Finance, s => { s.Get.Url("/api/search?q=ab"); s.StatusCodeShouldBe(403); });
        await Fixture.Call(null, s => { s.Get.Url("/api/search?q=ab"); s.StatusCodeShouldBe(401); });
    }
}
