using System.Text.RegularExpressions;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Ui;
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

    /// <summary>
    /// Layout problems of the dashboard as the browser drew it: a table wider than its box that cannot scroll sideways, a page
    /// that scrolls sideways, a chart label overlapping its neighbour or cut off by the chart's edge.
    /// </summary>
    private const string LayoutProblems = """
        () => {
          const problems = [];
          if (document.documentElement.scrollWidth > innerWidth + 1) problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${innerWidth})`);
          for (const id of ['mix-charges', 'mix-collections', 'denial-reasons', 'payer-months', 'aging-table']) {
            const root = document.querySelector(`[data-testid=${id}]`);
            if (!root) { problems.push(`${id}: not shown`); continue; }
            const table = root.querySelector('table');
            // The region that scrolls: the focusable wrapper (axe: scrollable-region-focusable), else the table's own container.
            const box = root.closest('.kb-scroll') ?? table.parentElement;
            const overflowX = getComputedStyle(box).overflowX;
            const right = box.getBoundingClientRect().right;
            if (right > innerWidth + 1) problems.push(`${id}: its box ends off screen at ${right}`);
            if (table.scrollWidth > box.clientWidth + 1) {
              if (!['auto', 'scroll'].includes(overflowX)) problems.push(`${id}: ${table.scrollWidth}px of table in ${box.clientWidth}px, cut off (overflow-x ${overflowX})`);
              else { box.scrollLeft = 40; if (box.scrollLeft === 0) problems.push(`${id}: does not scroll`); box.scrollLeft = 0; }
            }
          }
          for (const id of ['chart-reimbursement', 'chart-paid-per-infusion', 'chart-days-to-pay', 'chart-denial-rate', 'chart-aging']) {
            const svg = document.querySelector(`[data-testid=${id}] svg`);
            if (!svg) { problems.push(`${id}: no chart`); continue; }
            const edge = svg.getBoundingClientRect();
            const labels = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim() !== '').map(t => ({ text: t.textContent.trim(), r: t.getBoundingClientRect() }));
            for (const l of labels) {
              if (l.r.left < edge.left - 1 || l.r.right > edge.right + 1 || l.r.top < edge.top - 1 || l.r.bottom > edge.bottom + 1)
                problems.push(`${id}: '${l.text}' is cut off by the chart's edge`);
            }
            for (let i = 0; i < labels.length; i++)
              for (let j = i + 1; j < labels.length; j++) {
                const a = labels[i].r, b = labels[j].r;
                if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
                  problems.push(`${id}: '${labels[i].text}' overlaps '${labels[j].text}'`);
              }
          }
          return problems;
        }
        """;

    private static Task<string[]> AxisLabels(IPage page, string chart) =>
        page.GetByTestId(chart).Locator("svg text").AllTextContentsAsync().ContinueWith(t => t.Result.Select(x => x.Trim()).Where(x => x.Length > 0).ToArray());

    [Fact]
    public async Task the_dashboard_fits_both_screens_its_axes_read_clearly_and_its_filters_say_what_they_apply_to()
    {
        var page = await browser.SignedInAsync("finance@demo.test");
        var slow = new LocatorAssertionsToHaveCountOptions { Timeout = 60_000 };
        await Expect(page.GetByTestId("kpi")).ToHaveCountAsync(6, slow);
        await Expect(page.GetByTestId("chart-denial-rate").Locator("svg path.mud-chart-line")).ToHaveCountAsync(3, slow);
        await Expect(page.GetByTestId("aging-table")).ToContainTextAsync("Northwind", new() { Timeout = 60_000 });

        foreach (var (width, height) in new[] { (1440, 900), (1280, 720) })
        {
            await page.SetViewportSizeAsync(width, height);
            await page.WaitForTimeoutAsync(1_000); // the charts redraw for the new width
            var problems = await page.EvaluateAsync<string[]>(LayoutProblems);
            Assert.True(problems.Length == 0, $"at {width}x{height}:\n{string.Join("\n", problems)}");
        }

        // Months read as months, money as dollars, rates as percentages.
        var months = new Regex(@"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}$");
        foreach (var chart in new[] { "chart-reimbursement", "chart-paid-per-infusion", "chart-days-to-pay", "chart-denial-rate" })
        {
            var labels = await AxisLabels(page, chart);
            Assert.True(labels.Count(l => months.IsMatch(l)) >= 4, $"{chart}: {string.Join(", ", labels)}");
            var values = labels.Where(l => !months.IsMatch(l)).ToList();
            Assert.All(values, v => Assert.Matches(chart switch
            {
                "chart-paid-per-infusion" => @"^\$\d{1,3}(,\d{3})*$",
                "chart-days-to-pay" => @"^\d+(\.\d)? d$",
                _ => @"^\d+(\.\d)?%$"
            }, v));
        }

        Assert.All(await AxisLabels(page, "chart-aging"), l => Assert.Matches(@"^-?\$\d{1,3}(,\d{3})*$|^\D", l));

        // A payer chosen: the KPIs and the payer mix are that payer's, and the page says what each filter applies to.
        await Expect(page.GetByTestId("filter-scope")).ToContainTextAsync("The code filter applies to payer performance only");
        await page.GetByTestId("payer-filter").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Northwind Medicare Advantage" }).ClickAsync();
        await page.GetByTestId("apply").ClickAsync();
        await Expect(page.GetByTestId("kpi-title")).ToContainTextAsync("KPIs of Northwind Medicare Advantage", new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("mix-charges").Locator("tr")).ToHaveCountAsync(1);
        await Expect(page.GetByTestId("mix-charges")).ToContainTextAsync("Northwind Medicare Advantage");

        // A To month before the From month: the field says so, and the dashboard stays as it was.
        ILocator Field(string label) => page.Locator(".mud-input-control").Filter(new() { HasText = label });
        var from = DateOnly.FromDateTime(DateTime.ParseExact(await Field("From month").Locator("input").InputValueAsync(), "MMMM yyyy", Fmt.Clinic));
        var to = Field("To month").Locator("input");
        await to.FillAsync(from.AddMonths(-2).ToString("MMMM yyyy", Fmt.Clinic));
        await to.PressAsync("Tab");
        await page.GetByTestId("apply").ClickAsync();
        await Expect(Field("To month")).ToContainTextAsync("The To month must not be before the From month");
        await Expect(page.GetByTestId("kpi")).ToHaveCountAsync(6);
        await Expect(page.GetByTestId("chart-denial-rate").Locator("svg path.mud-chart-line")).ToHaveCountAsync(1);
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
