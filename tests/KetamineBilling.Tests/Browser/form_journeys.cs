using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>Issue 21, forms and pages: what a clerk types stays typed, errors sit at their field in a clerk's words, once.</summary>
[Collection("browser")]
public class form_journeys(BrowserFixture browser)
{
    private async Task<(HttpClient Api, Guid Patient)> PatientAsync(string first, string last)
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var patient = await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient(first, last, new DateOnly(1986, 4, 2), null, null));
        return (api, patient.Id);
    }

    /// <summary>The message MudBlazor shows under the field whose input carries the test id.</summary>
    private static ILocator FieldError(IPage page, string testId) =>
        page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId(testId) }).Locator(".mud-input-helper-text");

    private static async Task<PatientBalance> BalanceAsync(HttpClient api, Guid patient) =>
        (await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, TestContext.Current.CancellationToken))!;

    [Fact]
    public async Task a_number_field_keeps_what_was_typed_refuses_to_send_it_and_says_why_at_the_field()
    {
        var (api, patient) = await PatientAsync("Henrike", "Salvesen");
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");

        // -50 in "Take a payment" was clamped to 0.01 and posted.
        await page.GetByTestId("take-payment").ClickAsync();
        await page.GetByTestId("amount").FillAsync("-50");
        await page.GetByTestId("reference").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "amount")).ToHaveTextAsync($"Amount must be more than {Fmt.Money(0m)}");
        await Expect(page.GetByTestId("amount")).ToHaveValueAsync(new Regex("^-50(\\.00)?$"));
        Assert.Equal(0m, (await BalanceAsync(api, patient)).TotalPaid);
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        // Units 0 in "Record a session" became 1.
        await page.GetByTestId("record-session").ClickAsync();
        await page.GetByTestId("units-0").FillAsync("0");
        await page.GetByTestId("duration").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "units-0")).ToHaveTextAsync("Units must be from 1 to 99");
        await Expect(page.GetByTestId("units-0")).ToHaveValueAsync("0");
        Assert.Empty((await BalanceAsync(api, patient)).Sessions);

        // "Older than" -5 on the worklist became 0.
        await page.GotoAsync("/reconciliation");
        await BrowserFixture.LiveAsync(page);
        await page.GetByTestId("older-than").FillAsync("-5");
        await page.GetByTestId("older-than").PressAsync("Tab");
        await Expect(FieldError(page, "older-than")).ToContainTextAsync("Older than must be 0 days or more");
        await Expect(page.GetByTestId("older-than")).ToHaveValueAsync("-5");
    }

    [Fact]
    public async Task registering_without_a_first_name_says_so_once_next_to_the_field_and_the_address_is_taken()
    {
        var page = await browser.SignedInAsync("billing@demo.test", "/patients");
        await page.GetByTestId("register-patient").ClickAsync();
        var last = $"Oyelaran{Guid.NewGuid():N}"[..14];
        await page.GetByTestId("last-name").FillAsync(last);
        await page.GetByTestId("date-of-birth").FillAsync("04/02/1986");
        await page.GetByTestId("address-line1").FillAsync("12 Birch Street");
        await page.GetByTestId("address-city").FillAsync("Oak Park");
        await page.GetByTestId("address-state").FillAsync("IL");
        await page.GetByTestId("address-zip").FillAsync("60302");
        await page.GetByTestId("save").ClickAsync();

        await Expect(FieldError(page, "first-name")).ToHaveTextAsync("First name is required");
        await Expect(page.GetByText("First name is required")).ToHaveCountAsync(1);
        await Expect(page.GetByText("firstName")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("dialog-error")).ToHaveCountAsync(0);

        await page.GetByTestId("first-name").FillAsync("Adaeze");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/patients/[0-9a-f-]{36}$"));
        await Expect(page.GetByTestId("patient-name")).ToHaveTextAsync($"Adaeze {last}");
        await Expect(page.GetByTestId("patient-address")).ToHaveTextAsync("12 Birch Street, Oak Park, IL 60302");
        var api = await browser.ApiAsync("billing@demo.test");
        var id = Guid.Parse(page.Url[^36..]);
        var view = await api.GetFromJsonAsync<PatientView>($"/api/patients/{id}", ClientCommands.Json, TestContext.Current.CancellationToken);
        Assert.Equal(new PostalAddress("12 Birch Street", null, "Oak Park", "IL", "60302"), view!.Address);
    }

    [Fact]
    public async Task the_patient_page_opens_edit_details_from_its_link_and_saves_the_corrected_name_and_address()
    {
        var (api, patient) = await PatientAsync("Jorunn", "Tveitt");
        // The worklist's "no address on file" fix links to this address.
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}?edit=details");
        await Expect(page.GetByTestId("first-name")).ToHaveValueAsync("Jorunn");
        await Expect(page.GetByTestId("patient-address")).ToHaveTextAsync("No address on file");
        await page.GetByTestId("last-name").FillAsync("Tveitt-Lund");
        await page.GetByTestId("address-line1").FillAsync("9 Harbor Road");
        await page.GetByTestId("address-city").FillAsync("Duluth");
        await page.GetByTestId("address-state").FillAsync("MN");
        await page.GetByTestId("address-zip").FillAsync("5580");
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "address-zip")).ToHaveTextAsync("ZIP code must be a 5 or 9 digit ZIP code");
        await page.GetByTestId("address-zip").FillAsync("55802");
        await page.GetByTestId("save").ClickAsync();

        await Expect(page.GetByTestId("patient-name")).ToHaveTextAsync("Jorunn Tveitt-Lund");
        await Expect(page.GetByTestId("patient-address")).ToHaveTextAsync("9 Harbor Road, Duluth, MN 55802");
        var view = await api.GetFromJsonAsync<PatientView>($"/api/patients/{patient}", ClientCommands.Json, TestContext.Current.CancellationToken);
        Assert.Equal(("Tveitt-Lund", "55802"), (view!.LastName, view.Address?.PostalCode));

        // The button opens the same dialog with what is now on file.
        await page.GetByTestId("edit-details").ClickAsync();
        await Expect(page.GetByTestId("address-city")).ToHaveValueAsync("Duluth");
    }

    [Fact]
    public async Task an_unknown_address_shows_the_not_found_page_and_an_unknown_api_path_stays_the_apis()
    {
        var page = await browser.SignedInAsync("billing@demo.test", "/no-such-page/anywhere");
        await Expect(page.GetByTestId("not-found")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("not-found")).ToContainTextAsync("There is nothing at this address");

        var ct = TestContext.Current.CancellationToken;
        using var anonymous = new HttpClient { BaseAddress = browser.BaseAddress };
        using var signedOut = await anonymous.GetAsync("/no-such-page", ct);
        Assert.Equal(HttpStatusCode.NotFound, signedOut.StatusCode);
        Assert.Contains("_framework/blazor.web.js", await signedOut.Content.ReadAsStringAsync(ct));
        using var apiSignedOut = await anonymous.GetAsync("/api/no-such-thing", ct);
        Assert.Equal(HttpStatusCode.Unauthorized, apiSignedOut.StatusCode);
        var api = await browser.ApiAsync("billing@demo.test");
        using var apiUnknown = await api.GetAsync("/api/no-such-thing", ct);
        Assert.Equal(HttpStatusCode.NotFound, apiUnknown.StatusCode);
        Assert.DoesNotContain("data-testid", await apiUnknown.Content.ReadAsStringAsync(ct));
    }
}
