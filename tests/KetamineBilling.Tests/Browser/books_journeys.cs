using System.Net.Http.Json;
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

    [Fact]
    public async Task finance_closes_last_month_reads_its_roll_forward_and_an_administrator_reopens_it_with_a_reason()
    {
        var lastMonth = new DateOnly(Today.Year, Today.Month, 1).AddMonths(-1);
        var title = KetamineBilling.Features.GeneralLedger.Books.Title(lastMonth);
        try
        {
            var page = await browser.SignedInAsync("finance@demo.test", "/finance");
            await page.GetByRole(AriaRole.Link, new() { Name = "Month-end close" }).ClickAsync();
            await Expect(page.GetByTestId("page-title")).ToHaveTextAsync("Month-end close");
            await Expect(page.GetByTestId("books-locked")).ToContainTextAsync("No month is closed yet.");

            // Closing last month keeps its report: the receivables of each party rolled forward over the month.
            await page.GetByTestId("close-month").ClickAsync();
            await Expect(page.Locator(".mud-snackbar", new() { HasText = $"{title} is closed" })).ToBeVisibleAsync();
            await Expect(page.GetByTestId("books-locked")).ToContainTextAsync($"Closed through {Fmt.Date(lastMonth.AddMonths(1).AddDays(-1))}");
            var report = page.GetByTestId("close-report");
            await Expect(report).ToContainTextAsync($"Close report: {title}");
            await Expect(page.GetByTestId("roll-forward-row").Filter(new() { HasText = "Patients" })).ToHaveCountAsync(1);
            await Expect(page.GetByTestId("roll-forward-row").Filter(new() { HasText = "Insurance" })).ToHaveCountAsync(1);
            await Expect(page.GetByTestId("close-trial-balance")).ToContainTextAsync("1100 Accounts receivable: patients");
            await Expect(page.GetByTestId("books-act").First).ToContainTextAsync($"Closed {title}");

            // The clinic takes late facts into the open period from now on.
            await page.GetByText("Take it, and post it on the open period's first day").ClickAsync();
            await page.GetByTestId("save-rule").ClickAsync();
            await Expect(page.Locator(".mud-snackbar", new() { HasText = "Rule saved" })).ToBeVisibleAsync();
            await Expect(page.GetByTestId("books-act").First).ToContainTextAsync("posted in the open period");
            await page.ReloadAsync();
            await BrowserFixture.LiveAsync(page);
            await page.GetByTestId("show-report").ClickAsync();
            await Expect(page.GetByTestId("roll-forward")).ToBeVisibleAsync();
            await page.AssertAccessibleAsync("month-end close, for finance");
            await Expect(page.GetByTestId("reopen-month")).ToHaveCountAsync(0);

            // The Administrator reopens it, and must say why; no amounts on their screen.
            var admin = await browser.SignedInAsync("admin@demo.test", "/admin/users");
            await admin.GetByRole(AriaRole.Link, new() { Name = "Month-end close" }).ClickAsync();
            await Expect(admin.GetByTestId("closed-month")).ToContainTextAsync(title);
            await Expect(admin.GetByTestId("show-report")).ToHaveCountAsync(0);
            await Expect(admin.GetByTestId("close-month")).ToHaveCountAsync(0);
            await admin.AssertAccessibleAsync("month-end close, for the administrator");
            await admin.GetByTestId("reopen-month").ClickAsync();
            await admin.GetByTestId("reopen-reason").FillAsync("late");
            await admin.GetByTestId("confirm-reopen").ClickAsync();
            await Expect(admin.GetByTestId("reopen-form")).ToContainTextAsync("at least 10 characters");
            await admin.GetByTestId("reopen-reason").FillAsync("The bank statement shows a deposit missed in the month");
            await admin.GetByTestId("confirm-reopen").ClickAsync();
            await Expect(admin.Locator(".mud-snackbar", new() { HasText = $"{title} is open again" })).ToBeVisibleAsync();
            await Expect(admin.GetByTestId("books-locked")).ToContainTextAsync("No month is closed yet.");
            await Expect(admin.GetByTestId("books-act").First).ToContainTextAsync($"Reopened {title}: The bank statement shows a deposit missed in the month");
            await Expect(admin.GetByTestId("books-act").First).ToContainTextAsync("Administrator (demo)");
        }
        finally
        {
            // The demo's books as the other journeys find them: nothing closed, late facts refused.
            using var admin = await browser.ApiAsync("admin@demo.test");
            await admin.PostAsJsonAsync($"/api/books/closes/{KetamineBilling.Features.GeneralLedger.Books.Name(lastMonth)}/reopen",
                new KetamineBilling.Features.GeneralLedger.ReopenMonth("The journey's own close, undone"), TestContext.Current.CancellationToken);
            using var finance = await browser.ApiAsync("finance@demo.test");
            await finance.PutAsJsonAsync("/api/books/closed-period-rule", new KetamineBilling.Features.GeneralLedger.SetClosedPeriodRule("refuse"), TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task finance_names_an_account_as_the_accounting_package_does_and_the_trial_balance_uses_it()
    {
        try
        {
            var page = await browser.SignedInAsync("finance@demo.test", "/books");
            // The page reads the month's trial balance as it opens: give it the time a busy machine takes.
            await Expect(page.GetByTestId("chart")).ToContainTextAsync("Cash in bank (operating)", new() { Timeout = 20_000 });
            await page.GetByRole(AriaRole.Button, new() { Name = "Edit Cash in bank (operating)" }).ClickAsync();
            await page.GetByTestId("chart-number").FillAsync("1010");
            await page.GetByTestId("chart-name").FillAsync("First Prairie Bank operating");
            await page.GetByTestId("chart-save").ClickAsync();
            await Expect(page.GetByTestId("chart-form")).ToContainTextAsync("is the number of Undeposited funds already");
            await page.GetByTestId("chart-number").FillAsync("10100");
            await page.GetByTestId("chart-save").ClickAsync();
            await Expect(page.Locator(".mud-snackbar", new() { HasText = "Account 10100 First Prairie Bank operating saved" })).ToBeVisibleAsync();
            await Expect(page.GetByTestId("chart-row").Filter(new() { HasText = "First Prairie Bank operating" })).ToContainTextAsync("10100");

            // The trial balance (and the journal, and its exports) name it so.
            var from = new DateOnly(Today.Year, Today.Month, 1).AddMonths(-2);
            await page.GetByTestId("books-from").FillAsync(Fmt.Date(from));
            await page.GetByTestId("books-show").ClickAsync();
            await Expect(page.GetByTestId("trial-balance")).ToContainTextAsync("10100 First Prairie Bank operating");
            await page.ReloadAsync();
            await BrowserFixture.LiveAsync(page);
            await page.AssertAccessibleAsync("the general ledger with its chart of accounts");
        }
        finally
        {
            using var finance = await browser.ApiAsync("finance@demo.test");
            await finance.PutAsJsonAsync("/api/books/accounts/cash", new KetamineBilling.Features.GeneralLedger.SetChartAccount("1000", "Cash in bank (operating)"),
                TestContext.Current.CancellationToken);
        }
    }
}
