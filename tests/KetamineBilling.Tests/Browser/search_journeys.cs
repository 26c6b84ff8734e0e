using System.Net.Http.Json;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Search;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>Issue 15: the app bar's search, used with the keyboard: a patient, a claim and a remittance found and opened.</summary>
[Collection("browser")]
public class search_journeys(BrowserFixture browser)
{
    private const string Billing = "billing@demo.test";

    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task an_administrator_finds_a_patient_a_claim_and_a_remittance_from_the_app_bar_with_the_keyboard()
    {
        var api = await browser.ApiAsync(Billing);
        var last = $"Zyskowitz{Random.Shared.Next(1000, 9999)}";
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient("Henrike", last, new DateOnly(1977, 11, 23), null, null))).Id;
        var member = $"SRCH{Random.Shared.Next(100000, 999999)}";
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, member, "primary", "GRP-1", ActiveFrom: Today.AddDays(-200)));
        var served = Today.AddDays(-12);
        var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), served, 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["insurance"]));
        var claim = await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, DemoIds.BluePrairie, [charge.SessionId]));
        var trace = $"SR{Guid.NewGuid():N}"[..14].ToUpperInvariant();
        var text = Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 90m, Today, [
            new Remittance835Builder.Clp("NOSUCHCLAIM77", "1", 200m, 90m, 0m, new Remittance835Builder.Svc("99213", 200m, 90m, served, null, ("CO", "45", 110m)))
        ]);
        (await api.PostAsync("/api/remittances", new StringContent(text), Ct)).EnsureSuccessStatusCode();
        // The patient directory is an async projection: wait until the API finds her by name.
        for (var i = 0; i < 200 && (await api.GetFromJsonAsync<SearchResults>($"/api/search?q={last}", ClientCommands.Json, Ct))!.Groups[0].Items.Count == 0; i++)
            await Task.Delay(100, Ct);

        // The app bar's box: type the name, Enter.
        var page = await browser.SignedInAsync(Billing, "/claims");
        var box = page.GetByLabel("Search patients, claims, remittances");
        await box.FillAsync(last.ToLowerInvariant());
        await box.PressAsync("Enter");
        // The results page comes by Blazor's own navigation (history API), with no load event to wait for.
        await Expect(page).ToHaveURLAsync(new Regex("/search\\?q="));
        var patients = page.GetByTestId("search-patients");
        await Expect(patients).ToContainTextAsync($"Henrike {last}");
        await Expect(patients).ToContainTextAsync("born 11/23/1977");
        await page.AssertAccessibleAsync("search results");

        // Tab from the search field reaches the result, a link; Enter opens the patient's account.
        await page.GetByTestId("search-text").FocusAsync();
        var hit = patients.GetByRole(AriaRole.Link, new() { Name = $"Henrike {last}" });
        for (var i = 0; i < 10 && !await hit.EvaluateAsync<bool>("e => e === document.activeElement"); i++) await page.Keyboard.PressAsync("Tab");
        Assert.True(await hit.EvaluateAsync<bool>("e => e === document.activeElement"), "Tab did not reach the result link");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page).ToHaveURLAsync(new Regex($"/patients/{patient}$"));
        await BrowserFixture.LiveAsync(page);
        await Expect(page.GetByTestId("patient-name")).ToHaveTextAsync($"Henrike {last}");

        // The member id, the date of birth, the claim number and the trace number find theirs too.
        async Task SearchFor(string q)
        {
            await box.FillAsync(q);
            await box.PressAsync("Enter");
            await Expect(page.GetByTestId("search-summary")).ToContainTextAsync($"\"{q}\"");
        }

        await SearchFor(member.ToLowerInvariant());
        await Expect(page.GetByTestId("search-patients")).ToContainTextAsync($"Henrike {last}");
        await SearchFor("11/23/1977");
        await Expect(page.GetByTestId("search-patients")).ToContainTextAsync($"Henrike {last}");
        await SearchFor(claim.ControlNumber);
        await Expect(page.GetByTestId("search-claims").GetByRole(AriaRole.Link, new() { Name = $"Claim {claim.ControlNumber}" })).ToHaveAttributeAsync("href", $"/claims/{claim.Id}");
        await SearchFor(trace);
        await page.GetByTestId("search-remittances").GetByRole(AriaRole.Link, new() { Name = $"Remittance {trace}" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/remittances/[0-9a-f-]{36}$"));
    }

    [Fact]
    public async Task too_short_a_search_is_refused_at_the_field_and_the_box_is_for_billing_only()
    {
        var page = await browser.SignedInAsync(Billing, "/search");
        await page.AssertAccessibleAsync("search page");
        await page.GetByTestId("search-text").FillAsync("z");
        await page.GetByTestId("search-text").PressAsync("Enter");
        await Expect(page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId("search-text") }).Locator(".mud-input-helper-text"))
            .ToHaveTextAsync("Type at least 2 characters");
        await Expect(page.GetByTestId("search-summary")).ToHaveCountAsync(0);
        // The API refuses it as well, naming the parameter.
        var api = await browser.ApiAsync(Billing);
        var refused = await api.GetAsync("/api/search?q=z", Ct);
        Assert.Equal(400, (int)refused.StatusCode);
        Assert.Contains("\"q\"", await refused.Content.ReadAsStringAsync(Ct));

        var finance = await browser.SignedInAsync("finance@demo.test", "/finance");
        await Expect(finance.GetByLabel("Search patients, claims, remittances")).ToHaveCountAsync(0);
    }
}
