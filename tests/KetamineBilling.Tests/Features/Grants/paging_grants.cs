using Alba;
using KetamineBilling.Features.Grants;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Grants;

/// <summary>
/// Issue 15: grants are awarded per patient and grow with the practice, so the grants list is paged in the database, with
/// each patient's name, newest award first, by organization when asked; a page or sort out of range is refused naming the field.
/// </summary>
public class paging_grants(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        // Five awards, one per patient, valid from 50, 40, 30, 20 and 10 days ago; the third from another organization.
        for (var n = 1; n <= 5; n++)
        {
            var patient = await Fixture.RegisteredPatient($"Grantee{n}", "Paging");
            await Fixture.Post<GrantCreated>("/api/grants", new AwardGrant(Guid.NewGuid(), patient, n == 3 ? "Veterans Relief" : "Ketamine Access Fund",
                100m * n, null, "full", null, null, null, null, Today.AddDays(-60 + 10 * n), Today.AddDays(30)));
        }
    }

    private Task<GrantListPage> Page(string query) => Fixture.Get<GrantListPage>("/api/grants/list" + query);

    private static string[] Names(GrantListPage page) => page.Items.Select(g => g.PatientName).ToArray();

    [Fact]
    public async Task pages_come_newest_award_first_with_the_patients_names_and_the_total()
    {
        var first = await Page("?pageSize=2");
        Assert.Equal((5L, 1, 2), (first.TotalCount, first.Page, first.PageSize));
        Assert.Equal(["Grantee5 Paging", "Grantee4 Paging"], Names(first));
        var last = await Page("?page=3&pageSize=2");
        Assert.Equal(["Grantee1 Paging"], Names(last));
        Assert.Equal(5L, last.TotalCount);
        Assert.Equal(500m, first.Items[0].Grant.Awarded);
    }

    [Fact]
    public async Task an_organization_and_a_sort_narrow_and_order_the_list()
    {
        var veterans = await Page("?organization=Veterans%20Relief");
        Assert.Equal(1L, veterans.TotalCount);
        Assert.Equal(["Grantee3 Paging"], Names(veterans));
        // By organization, then newest award first within each.
        Assert.Equal(["Grantee5 Paging", "Grantee4 Paging", "Grantee2 Paging", "Grantee1 Paging", "Grantee3 Paging"],
            Names(await Page("?sort=organization")));
        Assert.Equal(["Grantee1 Paging", "Grantee2 Paging", "Grantee3 Paging", "Grantee4 Paging", "Grantee5 Paging"], Names(await Page("?sort=valid")));
    }

    [Theory]
    [InlineData("?pageSize=0", "pageSize")]
    [InlineData("?pageSize=201", "pageSize")]
    [InlineData("?page=0", "page")]
    [InlineData("?sort=patient", "sort")]
    public async Task a_page_or_sort_out_of_range_is_refused_naming_the_field(string query, string field)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url("/api/grants/list" + query);
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal([field], (await result.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
    }
}
