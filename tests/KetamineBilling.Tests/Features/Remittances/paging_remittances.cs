using Alba;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Remittances;

/// <summary>
/// Issue 15: the remittances list grows with the practice, so it is paged in the database (no silent cap at 500):
/// pages, the last page, the total, sorting and filtering, and a page size out of range refused naming the field.
/// </summary>
public class paging_remittances(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        // Seven remittances received one after the other (TRC-1 oldest, TRC-7 newest), each paying a claim the clinic
        // never filed (an unmatched item) of 100 + 10 x n; TRC-3 from another payer.
        for (var n = 1; n <= 7; n++)
        {
            var paid = 100m + 10m * n;
            var file = Build($"TRC-{n}", n == 3 ? "NORTHWIND MUTUAL" : "BLUE PRAIRIE HEALTH", "BPH01", paid, Today,
                [new Clp($"UNKNOWN{n:000000}", "1", 500m, paid, 0m, new Svc("96365", 500m, paid, Today.AddDays(-20)))]);
            await Fixture.Call(As.Billing, s =>
            {
                s.Post.Text(file).ToUrl("/api/remittances");
                s.StatusCodeShouldBeOk();
            });
        }
    }

    private Task<RemittancePage> Page(string query) => Fixture.Get<RemittancePage>("/api/remittances" + query);

    private static string[] Traces(RemittancePage page) => page.Items.Select(r => r.TraceNumber).ToArray();

    [Fact]
    public async Task pages_come_newest_first_with_the_total_and_the_last_page_holds_the_rest()
    {
        var first = await Page("?pageSize=3");
        Assert.Equal((7L, 1, 3), (first.TotalCount, first.Page, first.PageSize));
        Assert.Equal(["TRC-7", "TRC-6", "TRC-5"], Traces(first));

        var second = await Page("?page=2&pageSize=3");
        Assert.Equal((7L, 2), (second.TotalCount, second.Page));
        Assert.Equal(["TRC-4", "TRC-3", "TRC-2"], Traces(second));

        var last = await Page("?page=3&pageSize=3");
        Assert.Equal(7L, last.TotalCount);
        Assert.Equal(["TRC-1"], Traces(last));

        var beyond = await Page("?page=4&pageSize=3");
        Assert.Empty(beyond.Items);
        Assert.Equal(7L, beyond.TotalCount);

        // Without paging parameters: the first 50, every one of these seven.
        var all = await Page("");
        Assert.Equal((7, 7L, 50), (all.Items.Count, all.TotalCount, all.PageSize));
    }

    [Fact]
    public async Task the_database_sorts_and_filters_before_it_pages()
    {
        Assert.Equal(["TRC-1", "TRC-2"], Traces(await Page("?sort=amount&pageSize=2")));
        Assert.Equal(["TRC-7", "TRC-6"], Traces(await Page("?sort=-amount&pageSize=2")));
        Assert.Equal(["TRC-1", "TRC-2"], Traces(await Page("?sort=received&pageSize=2")));
        Assert.Equal("TRC-3", Traces(await Page("?sort=-payer&pageSize=1")).Single());

        var northwind = await Page("?search=northwind");
        Assert.Equal((1L, "TRC-3"), (northwind.TotalCount, northwind.Items.Single().TraceNumber));
        var byTrace = await Page("?search=trc-6");
        Assert.Equal("TRC-6", byTrace.Items.Single().TraceNumber);

        var unmatched = await Page("?unmatched=true&page=2&pageSize=4");
        Assert.Equal(7L, unmatched.TotalCount);
        Assert.Equal(["TRC-3", "TRC-2", "TRC-1"], Traces(unmatched));
        Assert.All(unmatched.Items, r => Assert.Single(r.Unmatched));
    }

    [Fact]
    public async Task finance_s_figures_are_paged_the_same_way()
    {
        var page = await Fixture.Get<RemittanceFiguresPage>("/api/remittances/figures?page=2&pageSize=5", As.Finance);
        Assert.Equal((7L, 2, 5), (page.TotalCount, page.Page, page.PageSize));
        Assert.Equal(["TRC-2", "TRC-1"], page.Items.Select(r => r.TraceNumber).ToArray());
    }

    [Theory]
    [InlineData("/api/remittances?pageSize=0", "pageSize")]
    [InlineData("/api/remittances?pageSize=201", "pageSize")]
    [InlineData("/api/remittances?page=0", "page")]
    [InlineData("/api/remittances?sort=trace", "sort")]
    [InlineData("/api/remittances/figures?pageSize=500", "pageSize")]
    public async Task a_page_out_of_range_is_refused_naming_the_field(string url, string field)
    {
        var result = await Fixture.Call(url.Contains("figures") ? As.Finance : As.Billing, s =>
        {
            s.Get.Url(url);
            s.StatusCodeShouldBe(400);
        });
        var problem = await result.ReadAsJsonAsync<ValidationProblemDetails>();
        Assert.Equal([field], problem!.Errors.Keys);
    }
}
