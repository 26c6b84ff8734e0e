using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

[Collection("browser")]
public class signing_in(BrowserFixture browser)
{
    [Fact]
    public async Task each_role_lands_on_its_home_and_sees_only_its_menu()
    {
        var billing = await browser.SignedInAsync("billing@demo.test");
        await Expect(billing).ToHaveURLAsync(new Regex("/patients$"));
        await Expect(billing.GetByRole(AriaRole.Link, new() { Name = "Claims" })).ToBeVisibleAsync();
        await Expect(billing.GetByRole(AriaRole.Link, new() { Name = "Dashboard" })).ToHaveCountAsync(0);
        await billing.GetByPlaceholder("Search by name").FillAsync("lindq");
        await Expect(billing.GetByRole(AriaRole.Link, new() { Name = "Lindqvist, Avery" })).ToBeVisibleAsync();

        var finance = await browser.SignedInAsync("finance@demo.test");
        await Expect(finance).ToHaveURLAsync(new Regex("/finance$"));
        await Expect(finance.GetByRole(AriaRole.Link, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        await Expect(finance.GetByRole(AriaRole.Link, new() { Name = "Patients" })).ToHaveCountAsync(0);

        var employer = await browser.SignedInAsync("employer@demo.test");
        await Expect(employer).ToHaveURLAsync(new Regex("/employer$"));
        await Expect(employer.GetByRole(AriaRole.Link, new() { Name = "Statements and invoices" })).ToBeVisibleAsync();
        await Expect(employer.GetByRole(AriaRole.Link, new() { Name = "Patients" })).ToHaveCountAsync(0);
        await Expect(employer.GetByRole(AriaRole.Link, new() { Name = "Dashboard" })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task a_role_without_the_page_s_permission_sees_the_403_page_not_a_broken_screen()
    {
        var finance = await browser.SignedInAsync("finance@demo.test");
        await finance.GotoAsync("/patients");
        await BrowserFixture.LiveAsync(finance);
        await Expect(finance.GetByTestId("forbidden")).ToBeVisibleAsync();
        await Expect(finance.GetByText("403 · Not for your role")).ToBeVisibleAsync();
        await Expect(finance.GetByTestId("patients-table")).ToHaveCountAsync(0);

        var employer = await browser.SignedInAsync("employer@demo.test");
        await employer.GotoAsync("/finance");
        await BrowserFixture.LiveAsync(employer);
        await Expect(employer.GetByTestId("forbidden")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task signed_out_visitors_go_to_the_sign_in_page_and_come_back_where_they_were_going()
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = browser.BaseAddress.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/claims");
        await Expect(page).ToHaveURLAsync(new Regex("/account/login\\?returnUrl=%2Fclaims$", RegexOptions.IgnoreCase));
        await page.FillAsync("input[name=username]", "billing@demo.test");
        await page.FillAsync("input[name=password]", KetamineBilling.Features.Demo.DemoSeeder.DefaultPassword);
        await page.ClickAsync("button[type=submit]");
        await Expect(page).ToHaveURLAsync(new Regex("/claims$"));
    }

    [Fact]
    public async Task an_idle_page_signs_itself_out()
    {
        var page = await browser.SignedInAsync("billing@demo.test");
        // The browser may shorten the idle limit (never lengthen it): three seconds instead of fifteen minutes.
        await page.EvaluateAsync("localStorage.setItem('kb.idleMs', '3000')");
        await page.ReloadAsync();
        await BrowserFixture.LiveAsync(page);
        await Expect(page).ToHaveURLAsync(new Regex("/account/login"), new() { Timeout = 15_000 });
        var keepalive = await page.EvaluateAsync<bool>("fetch('/account/keepalive').then(r => r.redirected)");
        Assert.True(keepalive, "the sign-in cookie should be gone after the idle sign-out");
    }
}
