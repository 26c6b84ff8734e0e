using KetamineBilling.Features.Demo;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>Issue 16: a billing company's staff switch between the clinics they work for; an administrator onboards one.</summary>
[Collection("browser")]
public class clinic_journeys(BrowserFixture browser)
{
    [Fact]
    public async Task billing_staff_of_two_clinics_switch_and_see_only_the_clinic_they_act_for()
    {
        var page = await browser.SignedInAsync("billing@demo.test", "/patients");
        var choice = page.GetByTestId("clinic-choice");
        await Expect(choice).ToHaveValueAsync(DemoSeeder.Lakeside);
        // A patient of the year of practice: Lakeside's alone.
        var practicePatient = DemoIds.Patient(PracticePlan.FirstPatient);
        await page.GotoAsync($"/patients/{practicePatient}");
        await Expect(page.GetByTestId("not-found")).ToHaveCountAsync(0);

        await page.GetByLabel("Clinic").SelectOptionAsync(DemoSeeder.Northside);
        await page.GetByTestId("clinic-switcher").GetByRole(AriaRole.Button, new() { Name = "Switch" }).ClickAsync();
        // Back to the start page (an id of the clinic left behind would be "not found" in the next), acting for Northside.
        await Expect(page.GetByTestId("clinic-choice")).ToHaveValueAsync(DemoSeeder.Northside);
        await page.GotoAsync($"/patients/{practicePatient}");
        await Expect(page.GetByTestId("not-found")).ToBeVisibleAsync();
        // Back to Lakeside: its patient again.
        await page.GetByLabel("Clinic").SelectOptionAsync(DemoSeeder.Lakeside);
        await page.GetByTestId("clinic-switcher").GetByRole(AriaRole.Button, new() { Name = "Switch" }).ClickAsync();
        await Expect(page.GetByTestId("clinic-choice")).ToHaveValueAsync(DemoSeeder.Lakeside);
        await page.GotoAsync($"/patients/{practicePatient}");
        await Expect(page.GetByTestId("not-found")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task finance_of_two_clinics_sees_each_clinic_and_the_total_on_the_dashboard()
    {
        var page = await browser.SignedInAsync("finance@demo.test", "/finance");
        var table = page.GetByTestId("clinic-rollup");
        await Expect(table).ToContainTextAsync("Lakeside Ketamine Clinic");
        await Expect(table).ToContainTextAsync("Northside Infusion Center");
        await Expect(table).ToContainTextAsync("All clinics");
        await Expect(table.Locator("tbody tr")).ToHaveCountAsync(3);
    }

    [Fact]
    public async Task an_employer_user_of_one_clinic_sees_its_name_and_no_switcher()
    {
        var page = await browser.SignedInAsync("employer@demo.test");
        await Expect(page.GetByTestId("current-clinic")).ToHaveTextAsync("Lakeside Ketamine Clinic");
        await Expect(page.GetByTestId("clinic-switcher")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task the_administrator_onboards_a_clinic_on_the_clinics_page_and_works_for_it()
    {
        var code = $"ui_{Guid.NewGuid():N}"[..16];
        var page = await browser.SignedInAsync("admin@demo.test", "/admin/clinics");
        await Expect(page.GetByTestId("clinics")).ToContainTextAsync("Northside Infusion Center");
        await page.GetByTestId("onboard-clinic").ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Name").FillAsync("Harbor Ketamine");
        await dialog.GetByLabel("Code").FillAsync("Bad Code");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Onboard" }).ClickAsync();
        await Expect(dialog).ToContainTextAsync("lower-case letters");
        await dialog.GetByLabel("Code").FillAsync(code);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Onboard" }).ClickAsync();
        await Expect(page.GetByTestId("clinics")).ToContainTextAsync("Harbor Ketamine");
        // The administrator works for it now: after signing in again, it is among their clinics.
        var again = await browser.SignedInAsync("admin@demo.test");
        await Expect(again.GetByTestId("clinic-choice").Locator($"option[value='{code}']")).ToHaveCountAsync(1);
    }
}
