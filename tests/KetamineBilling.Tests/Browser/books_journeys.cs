using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>Issue 18, the general ledger: finance reads a period's trial balance and journal on the demo practice and exports it.</summary>
[Collection("browser")]
public class books_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    [Fact]
    public async Task finance_reads_the_trial_balance_and_journal_of_a_period_and_exports_it_for_quickbooks()
    {
        var page = await browser.SignedInAsync("finance@demo.test", "/finance");
        await page.GetByRole(AriaRole.Link, new() { Name = "General ledger" }).ClickAsync();
        await Expect(page.GetByTestId("page-title")).ToHaveTextAsync("General ledger");

        // The demo's last three months: every account moved, debits equal credits.
        var from = new DateOnly(Today.Year, Today.Month, 1).AddMonths(-2);
        await page.GetByTestId("books-from").FillAsync(Fmt.Date(from));
        await page.GetByTestId("books-to").FillAsync(Fmt.Date(Today));
        await page.GetByTestId("books-show").ClickAsync();
        await Expect(page.GetByTestId("trial-balance-check")).ToContainTextAsync("Debits equal credits");
        var trial = page.GetByTestId("trial-balance");
        foreach (var account in new[] { "1010 Undeposited funds", "1100 Accounts receivable: patients", "1110 Accounts receivable: insurance",
                     "4000 Patient service revenue: infusions and injections", "4900 Contractual adjustments", "1000 Cash in bank (operating)" })
            await Expect(trial).ToContainTextAsync(account);
        var journal = page.GetByTestId("journal");
        await Expect(journal.Locator("tbody tr").First).ToContainTextAsync("KB-");
        await Expect(journal).ToContainTextAsync("Session charges");
        await page.AssertAccessibleAsync("the general ledger");

        // The exports name the same days.
        var period = $"from={from:yyyy-MM-dd}&to={Today:yyyy-MM-dd}";
        await Expect(page.GetByTestId("books-csv")).ToHaveAttributeAsync("href", ApiClient.Download($"/api/books/journal?{period}&format=csv"));
        await Expect(page.GetByTestId("books-iif")).ToHaveAttributeAsync("href", ApiClient.Download($"/api/books/journal?{period}&format=iif"));

        // Days the wrong way round are refused, saying so.
        await page.GetByTestId("books-to").FillAsync(Fmt.Date(from.AddDays(-1)));
        await page.GetByTestId("books-show").ClickAsync();
        await Expect(page.GetByTestId("books-error")).ToContainTextAsync("must not be before from");
    }
}
