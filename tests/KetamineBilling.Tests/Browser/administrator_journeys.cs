using System.Text.RegularExpressions;
using KetamineBilling.Features.Demo;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

[Collection("browser")]
public class administrator_journeys(BrowserFixture browser)
{
    [Fact]
    public async Task the_administrator_finds_who_read_a_patient_s_ledger_and_exports_it()
    {
        // Billing reads a patient's ledger through the API: one PHI read.
        var patient = DemoIds.Patient(2);
        using var billing = await browser.ApiAsync("billing@demo.test");
        var correlation = $"admin-journey-{Guid.NewGuid():N}"[..32];
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/patients/{patient}/ledger"))
        {
            request.Headers.Add("X-Correlation-ID", correlation);
            (await billing.SendAsync(request, TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        }

        var page = await browser.SignedInAsync("admin@demo.test", "/admin/phi-access");
        await Expect(page).ToHaveURLAsync(new Regex("/admin/phi-access$"));
        await page.GetByLabel("Patient id").FillAsync(patient.ToString());
        await page.GetByTestId("filter-apply").ClickAsync();
        var table = page.GetByTestId("phi-access-table");
        await Expect(table).ToContainTextAsync(correlation);
        await Expect(table).ToContainTextAsync("billing@demo.test");
        await Expect(table).ToContainTextAsync($"/api/patients/{patient}/ledger");

        // The CSV holds the same read, for the same filter, with the administrator's own sign-in.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("phi-access-csv").ClickAsync());
        var text = await File.ReadAllTextAsync(await download.PathAsync(), TestContext.Current.CancellationToken);
        Assert.StartsWith("at,user_id,user_email,patient_ids,view,method,path,correlation_id,client_address", text.TrimStart('\uFEFF'), StringComparison.Ordinal);
        Assert.Contains(correlation, text, StringComparison.Ordinal);
        Assert.All(text.TrimStart('\uFEFF').Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1), line => Assert.Contains(patient.ToString(), line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task billing_and_finance_land_on_the_403_page_for_the_audit()
    {
        foreach (var user in new[] { "billing@demo.test", "finance@demo.test" })
        {
            var page = await browser.SignedInAsync(user);
            await page.GotoAsync("/admin/phi-access");
            await Expect(page.GetByTestId("forbidden")).ToBeVisibleAsync();
            await Expect(page.GetByTestId("phi-access-table")).ToHaveCountAsync(0);
        }
    }
}
