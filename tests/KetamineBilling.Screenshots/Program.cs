// Screenshots of the main pages of the admin UI, taken in Debian's chromium from a running app with the demo data
// (ops/screenshots.sh starts it). Usage: KetamineBilling.Screenshots <base-url> <output-folder> [password]
using Microsoft.Playwright;

var baseUrl = args.Length > 0 ? args[0] : "http://localhost:5080";
var output = Path.GetFullPath(args.Length > 1 ? args[1] : "docs/screenshots");
var password = args.Length > 2 ? args[2] : "Demo-pass-2026";
Directory.CreateDirectory(output);

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = "/usr/bin/chromium",
    Headless = true,
    Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
});

async Task<IPage> SignIn(string email)
{
    var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, Locale = "en-US", ViewportSize = new() { Width = 1440, Height = 900 } });
    var page = await context.NewPageAsync();
    page.SetDefaultTimeout(30_000);
    await page.GotoAsync("/account/login");
    await page.FillAsync("input[name=username]", email);
    await page.FillAsync("input[name=password]", password);
    await page.ClickAsync("button[type=submit]");
    await Live(page);
    return page;
}

static Task Live(IPage page) =>
    page.WaitForSelectorAsync("[data-testid=circuit-live]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });

async Task Shot(IPage page, string path, string name, string? waitFor = null)
{
    if (path.Length > 0)
    {
        await page.GotoAsync(path);
        await Live(page);
    }

    if (waitFor is not null) await page.WaitForSelectorAsync(waitFor);
    await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    await page.WaitForTimeoutAsync(800); // charts animate in
    await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(output, name), FullPage = false });
    Console.WriteLine($"saved {name}");
}

var login = await (await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = baseUrl, ViewportSize = new() { Width = 1440, Height = 900 } })).NewPageAsync();
await login.GotoAsync("/account/login");
await login.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(output, "00-sign-in.png") });
Console.WriteLine("saved 00-sign-in.png");

var billing = await SignIn("billing@demo.test");
await Shot(billing, "/patients", "01-patients.png", "[data-testid=patients-table] tbody tr");
await Shot(billing, "/patients/0195a1a0-0000-7000-8000-000000000101", "02-patient-account.png", "[data-testid=sessions-table] tbody tr");
await Shot(billing, "/claims", "03-claims.png", "[data-testid=claims-table] tbody tr");
await billing.ClickAsync("[data-testid=claims-table] tbody tr a");
await Live(billing);
await Shot(billing, "", "04-claim.png", "[data-testid=claim-title]");
await Shot(billing, "/remittances", "05-remittances.png", "[data-testid=remittances] tbody tr");
await Shot(billing, "/reconciliation", "06-reconciliation.png", "[data-testid=worklist] tbody tr");

var finance = await SignIn("finance@demo.test");
await Shot(finance, "/finance", "07-finance-dashboard.png", "[data-testid=chart-reimbursement] svg");
await finance.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(output, "08-finance-dashboard-full.png"), FullPage = true });
Console.WriteLine("saved 08-finance-dashboard-full.png");

var employer = await SignIn("employer@demo.test");
await Shot(employer, "/employer", "09-employer.png", "[data-testid=invoices] tbody tr");
await employer.ClickAsync("[data-testid=statements] tbody tr:nth-child(2) a");
await Live(employer);
await Shot(employer, "", "10-employer-statement.png", "[data-testid=statement-title]");

// Issue 15's screens: every daily task of the billing office.
async Task Tab(IPage page, string tab, string name)
{
    await page.GetByRole(AriaRole.Tab, new() { Name = tab, Exact = true }).ClickAsync();
    await Shot(page, "", name);
}

async Task Dialog(IPage page, string name)
{
    await page.Locator(".mud-dialog").First.WaitForAsync();
    await Shot(page, "", name);
    await page.Keyboard.PressAsync("Escape");
    await page.Locator(".mud-dialog").WaitForAsync(new() { State = WaitForSelectorState.Detached });
}

await billing.GotoAsync("/patients/0195a1a0-0000-7000-8000-000000000101");
await Live(billing);
await billing.WaitForSelectorAsync("[data-testid=sessions-table] tbody tr");
await Tab(billing, "Ledger", "11-patient-ledger-who.png");
await Tab(billing, "Coverage", "12-patient-coverage.png");
await Tab(billing, "Payments", "13-patient-payments.png");
await Tab(billing, "Payment plans", "14-patient-payment-plans.png");
await Tab(billing, "Letters", "15-patient-letters.png");
await Tab(billing, "Series", "16-patient-series.png");
await billing.GetByTestId("record-session").ClickAsync();
await Dialog(billing, "17-record-session.png");
await billing.GetByTestId("more-actions").ClickAsync();
await billing.GetByTestId("void-session").ClickAsync();
await Dialog(billing, "18-void-session.png");
await billing.GetByTestId("more-actions").ClickAsync();
await billing.GetByTestId("discount").ClickAsync();
await Dialog(billing, "19-discount.png");

await Shot(billing, "/setup/payers", "20-setup-payers.png", "table tbody tr");
await Shot(billing, "/setup/providers", "21-setup-providers.png", "table tbody tr");
await Shot(billing, "/setup/fee-schedule", "22-setup-fee-schedule.png", "table tbody tr");
await Shot(billing, "/setup/locations", "23-setup-locations.png", "table tbody tr");
await Shot(billing, "/setup/clinic", "24-setup-clinic.png", "input");
await Shot(billing, "/prior-authorizations", "25-prior-authorizations.png", "[data-testid=authorizations-list]");
await billing.GetByTestId("request-authorization").ClickAsync();
await Dialog(billing, "26-request-authorization.png");
await Shot(billing, "/grants", "27-grants.png", "table tbody tr");
await billing.ClickAsync("table tbody tr a");
await Live(billing);
await Shot(billing, "", "28-grant.png", "table");
await Shot(billing, "/studies", "29-studies.png", "table tbody tr");
await billing.ClickAsync("table tbody tr a");
await Live(billing);
await Shot(billing, "", "30-study-statement.png", "table");
await billing.GotoAsync("/claims");
await Live(billing);
await billing.ClickAsync("[data-testid=claims-table] tbody tr a");
await Live(billing);
await billing.GetByTestId("claim-history").ScrollIntoViewIfNeededAsync();
await Shot(billing, "", "31-claim-history.png", "[data-testid=claim-history]");
await Shot(billing, "/deposits", "32-deposits.png", "[data-testid=all-deposits] tbody tr");
await billing.GetByTestId("global-search").FillAsync("Lindqvist");
await billing.Keyboard.PressAsync("Enter");
await Shot(billing, "", "33-search.png", "[data-testid=search-hit]");
await billing.GotoAsync("/statements");
await Live(billing);
await billing.GetByTestId("run-statements").ClickAsync();
await billing.WaitForURLAsync(url => url.Contains("/statements/", StringComparison.Ordinal));
await Shot(billing, "", "35-statement-run.png", "[data-testid=run-statements] tbody tr");
await Shot(billing, "/statements", "34-statements.png", "[data-testid=statement-runs] tbody tr");
