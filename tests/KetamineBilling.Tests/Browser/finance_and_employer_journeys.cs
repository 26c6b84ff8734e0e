using System.Text.RegularExpressions;
using KetamineBilling.Features.Demo;
using KetamineBilling.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

[Collection("browser")]
public class finance_and_employer_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    [Fact]
    public async Task finance_opens_the_dashboard_and_the_charts_render_with_data()
    {
        var page = await browser.SignedInAsync("finance@demo.test");
        await Expect(page).ToHaveURLAsync(new Regex("/finance$"));
        await Expect(page.GetByTestId("kpi")).ToHaveCountAsync(6);
        await Expect(page.GetByTestId("kpis")).ToContainTextAsync("Days in A/R");
        foreach (var chart in new[] { "chart-reimbursement", "chart-paid-per-infusion", "chart-days-to-pay", "chart-denial-rate" })
        {
            // A line per payer of the demo practice, drawn as SVG paths.
            await Expect(page.GetByTestId(chart).Locator("svg path.mud-chart-line")).ToHaveCountAsync(3);
            await Expect(page.GetByTestId(chart)).ToContainTextAsync("Cedar Valley Health Plan");
        }

        Assert.True(await page.GetByTestId("chart-aging").Locator("svg rect, svg path").CountAsync() > 5, "the aging chart drew no bars");
        await Expect(page.GetByTestId("aging-table")).ToContainTextAsync("Northwind Medicare Advantage");
        await Expect(page.GetByTestId("denial-reasons")).ToContainTextAsync("197");

        // The CSV of the payer table downloads with the finance user's own sign-in.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("aging-csv").ClickAsync());
        var path = await download.PathAsync();
        var text = await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken);
        Assert.StartsWith("as_of,party,party_id,name,days_0_30", text.TrimStart('\uFEFF'), StringComparison.Ordinal);

        // Filters: one payer only.
        await page.GetByTestId("payer-filter").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Northwind Medicare Advantage" }).ClickAsync();
        await page.GetByTestId("apply").ClickAsync();
        await Expect(page.GetByTestId("chart-reimbursement").Locator("svg path.mud-chart-line")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task an_employer_sees_only_its_own_statement_and_another_employer_s_is_not_found()
    {
        var page = await browser.SignedInAsync("employer@demo.test");
        await Expect(page).ToHaveURLAsync(new Regex("/employer$"));
        await Expect(page.GetByTestId("employer-name")).ToHaveTextAsync("Acme Logistics");
        await Expect(page.GetByTestId("invoices")).ToContainTextAsync("INV-");
        var body = await page.InnerTextAsync("body");
        Assert.DoesNotContain("Contoso", body, StringComparison.Ordinal);

        // Last month's statement: covered sessions by member id, no clinical words.
        var month = new DateOnly(Today.Year, Today.Month, 1).AddMonths(-1);
        await page.GetByTestId("statements").GetByRole(AriaRole.Link, new() { Name = "View" }).Nth(1).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/employers/{DemoIds.AcmeEmployer}/statements/{month:yyyy-MM}$"));
        await Expect(page.GetByTestId("statement-title")).ToContainTextAsync("Acme Logistics");
        await Expect(page.GetByTestId("statement-sessions")).ToContainTextAsync("ACM-4471");
        await Expect(page.GetByTestId("statement-sessions")).Not.ToContainTextAsync("96365");
        await Expect(page.GetByTestId("statement-sessions")).Not.ToContainTextAsync("ketamine", new() { IgnoreCase = true });

        // Another employer's statement by its address: not found, and nothing of it shown.
        await page.GotoAsync($"/employers/{DemoIds.ContosoEmployer}/statements/{month:yyyy-MM}");
        await BrowserFixture.LiveAsync(page);
        await Expect(page.GetByTestId("not-found")).ToBeVisibleAsync();
        Assert.DoesNotContain("Contoso", await page.InnerTextAsync("body"), StringComparison.Ordinal);
    }
}
