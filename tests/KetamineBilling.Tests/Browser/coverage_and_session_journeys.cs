using System.Net.Http.Json;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>
/// Issue 15 on the patient account: coverage (add, change, end, copay assistance), treatment series and boosters, and a
/// session funded by several sources with its split shown before it is recorded. Each journey checks its effect through the API.
/// </summary>
[Collection("browser")]
public class coverage_and_session_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    private async Task<(HttpClient Api, Guid Patient)> PatientAsync(string first, string last)
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var patient = await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient(first, last, new DateOnly(1986, 4, 2), null, null));
        return (api, patient.Id);
    }

    private static async Task<T> GetAsync<T>(HttpClient api, string url) =>
        (await api.GetFromJsonAsync<T>(url, ClientCommands.Json, TestContext.Current.CancellationToken))!;

    /// <summary>The message MudBlazor shows under the field whose input carries the test id.</summary>
    private static ILocator FieldError(IPage page, string testId) =>
        page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId(testId) }).Locator(".mud-input-helper-text");

    private static ILocator Dialog(IPage page) => page.Locator(".mud-dialog");

    [Fact]
    public async Task an_administrator_adds_a_coverage_changes_its_member_id_from_today_and_ends_it()
    {
        var (api, patient) = await PatientAsync("Oriana", "Feldmann");
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Coverage" }).ClickAsync();
        await page.AssertAccessibleAsync("the coverage tab");

        // Add: Blue Prairie, primary, from today.
        await page.GetByTestId("add-coverage").ClickAsync();
        await Expect(Dialog(page)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("the add-a-coverage dialog");
        await page.GetByTestId("coverage-payer").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Blue Prairie Health" }).ClickAsync();
        await page.GetByTestId("coverage-member-id").FillAsync("BPH-OF-100");
        await page.GetByTestId("coverage-copay").FillAsync("40");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Coverage added")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("coverages-table")).ToContainTextAsync("BPH-OF-100");
        var added = Assert.Single((await GetAsync<CoverageHistory>(api, $"/api/patients/{patient}/coverage-history")).Coverages);
        Assert.Equal((DemoIds.BluePrairie, "BPH-OF-100", 40m, Today), (added.PayerId, added.MemberId, added.Copay, added.ActiveFrom));

        // Change: refused first (a date before the coverage began, the API's rule at its field), then from today.
        await page.GetByTestId($"change-coverage-{added.CoverageId}").ClickAsync();
        await Expect(Dialog(page)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("the change-the-coverage dialog");
        await page.GetByTestId("coverage-member-id").FillAsync("BPH-OF-200");
        var effective = page.GetByLabel("New terms apply from");
        await effective.FillAsync(Fmt.Date(Today.AddDays(-3)));
        await effective.PressAsync("Tab");
        await page.GetByTestId("save").ClickAsync();
        await Expect(Dialog(page)).ToContainTextAsync("New terms apply from must be within the coverage's active period");
        Assert.Empty((await GetAsync<CoverageHistory>(api, $"/api/patients/{patient}/coverage-history")).Changes);
        await effective.FillAsync(Fmt.Date(Today));
        await effective.PressAsync("Tab");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Coverage changed")).ToBeVisibleAsync();
        var history = await GetAsync<CoverageHistory>(api, $"/api/patients/{patient}/coverage-history");
        var change = Assert.Single(history.Changes);
        Assert.Equal(("BPH-OF-200", Today), (change.MemberId, change.EffectiveFrom));
        await Expect(page.GetByTestId($"coverage-status-{added.CoverageId}")).ToContainTextAsync($"changed from {Fmt.Date(Today)}");

        // End the new terms today.
        await page.GetByTestId($"end-coverage-{change.NewCoverageId}").ClickAsync();
        await Expect(Dialog(page)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("the end-the-coverage dialog");
        await page.GetByTestId("save").ClickAsync();
        await Expect(Dialog(page)).ToContainTextAsync("Reason is required");
        await page.GetByTestId("coverage-end-reason").FillAsync("Changed employer");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Coverage ended")).ToBeVisibleAsync();
        await Expect(page.GetByTestId($"coverage-status-{change.NewCoverageId}")).ToContainTextAsync("ended");
        var ended = Assert.Single((await GetAsync<CoverageHistory>(api, $"/api/patients/{patient}/coverage-history")).Ends);
        Assert.Equal((change.NewCoverageId, Today, "Changed employer"), (ended.CoverageId, ended.EndedOn, ended.Reason));
    }

    [Fact]
    public async Task an_administrator_records_a_copay_assistance_program_and_a_zero_maximum_is_refused()
    {
        var (api, patient) = await PatientAsync("Bastian", "Oyelaran");
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Coverage" }).ClickAsync();

        await page.GetByTestId("add-copay-assistance").ClickAsync();
        await Expect(Dialog(page)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("the copay-assistance dialog");
        await page.GetByTestId("copay-program").FillAsync("Spravato withMe");
        await page.GetByTestId("copay-member-id").FillAsync("SWM-5521");
        await page.GetByTestId("copay-maximum").FillAsync("0");
        await page.GetByTestId("copay-member-id").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "copay-maximum")).ToHaveTextAsync($"Annual maximum must be more than {Fmt.Money(0m)}");
        Assert.Empty((await GetAsync<CoverageHistory>(api, $"/api/patients/{patient}/coverage-history")).CopayAssistance);

        await page.GetByTestId("copay-maximum").FillAsync("8000");
        await page.GetByTestId("copay-member-id").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Copay assistance recorded")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("copay-table")).ToContainTextAsync("SWM-5521");
        await Expect(page.GetByTestId("copay-table")).ToContainTextAsync(Fmt.Money(8000m));
        var program = Assert.Single((await GetAsync<CoverageHistory>(api, $"/api/patients/{patient}/coverage-history")).CopayAssistance);
        Assert.Equal(("Spravato withMe", "SWM-5521", 8000m), (program.ProgramName, program.MemberId, program.AnnualMaximum));
    }

    [Fact]
    public async Task an_administrator_plans_a_series_and_records_a_booster_in_it_given_by_telehealth_with_a_modifier_and_its_drugs_ndc()
    {
        var (api, patient) = await PatientAsync("Linnea", "Achterberg");
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Series" }).ClickAsync();
        await page.AssertAccessibleAsync("the series tab");

        await page.GetByTestId("plan-series").ClickAsync();
        await Expect(Dialog(page)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("the plan-a-series dialog");
        await page.GetByTestId("series-planned").FillAsync("0");
        await page.GetByTestId("series-description").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "series-planned")).ToHaveTextAsync("Planned sessions must be from 1 to 52");
        Assert.Empty(await GetAsync<List<SeriesView>>(api, $"/api/patients/{patient}/series"));
        await page.GetByTestId("series-planned").FillAsync("6");
        await page.GetByTestId("series-description").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        // Exact: the empty table's "No treatment series planned" would match too.
        await Expect(page.GetByText("Series planned", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("series-table")).ToContainTextAsync("Initial series of six infusions");
        var series = Assert.Single(await GetAsync<List<SeriesView>>(api, $"/api/patients/{patient}/series"));

        // A booster in that series, through "Record a session".
        await page.GetByTestId("record-session").ClickAsync();
        await Expect(Dialog(page)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("the record-a-session dialog");
        await page.GetByTestId("series").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { NameRegex = new Regex("^Initial series of six infusions") }).ClickAsync();
        await page.GetByLabel("Booster session").CheckAsync();
        // Given by telehealth at home with modifier 95 on the infusion, the drug identified by its NDC and the amount given.
        await page.GetByTestId("place-of-service").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "10 · Telehealth provided in the patient's home" }).ClickAsync();
        await page.GetByTestId("modifiers-0").FillAsync("95");
        await page.GetByTestId("ndc-1").FillAsync("0409-2051-01");
        await page.GetByTestId("ndc-quantity-1").FillAsync("2.5");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Session recorded")).ToBeVisibleAsync();
        await Expect(page.GetByTestId($"series-boosters-{series.SeriesId}")).ToHaveTextAsync("1");
        var after = Assert.Single(await GetAsync<List<SeriesView>>(api, $"/api/patients/{patient}/series"));
        Assert.Equal((1, 1), (after.Delivered, after.Boosters));
        var session = Assert.Single((await GetAsync<PatientBalance>(api, $"/api/patients/{patient}/balance")).Sessions);
        Assert.Equal((series.SeriesId, 1, true), (session.SeriesId!.Value, session.SeriesSessionNumber!.Value, session.Booster));
        Assert.Equal("10", session.PlaceOfService);
        Assert.Equal(["95"], session.Lines[0].Modifiers!);
        Assert.Equal(new KetamineBilling.Features.Ledger.DrugGiven("00409205101", 2.5m, "ML"), session.Lines[1].Drug);
    }

    [Fact]
    public async Task a_session_paid_by_an_employer_and_a_grant_shows_its_split_before_it_is_recorded()
    {
        var (api, patient) = await PatientAsync("Tamsin", "Okonkwo-Reid");
        // An employer paying 80% of the infusion (not the drug), the patient enrolled for this year.
        var employer = await ClientCommands.PostAsync<EmployerCreated>(api, "/api/employers",
            new CreateEmployer($"Split Freight {Guid.NewGuid():N}"[..24], null, null, 80m, ["96365"], null, null));
        await ClientCommands.PostAsync<object>(api, $"/api/employers/{employer.Id}/enrollments", new EnrollEmployee(patient, "SPL-1", Today.Year));
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");

        await page.GetByTestId("record-session").ClickAsync();
        await Expect(Dialog(page)).ToBeVisibleAsync();
        await page.GetByTestId("funding").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Self-pay" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Employer" }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Grant" }).ClickAsync();
        // Closes the list as a click beside it does (the list's overlay takes the click).
        await Dialog(page).Locator(".mud-dialog-title").ClickAsync(new() { Force = true });
        await Expect(page.GetByRole(AriaRole.Option, new() { Name = "Study sponsor" })).ToBeHiddenAsync();

        // A refused input: the split is asked of the API, which names the line.
        await page.GetByTestId("units-0").FillAsync("0");
        await page.GetByTestId("duration").ClickAsync();
        await Expect(page.GetByTestId("save")).ToHaveTextAsync("See the split");
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "units-0")).ToHaveTextAsync("Units must be from 1 to 99");
        Assert.Empty((await GetAsync<PatientBalance>(api, $"/api/patients/{patient}/balance")).Sessions);

        // The split: 80% of 450.00 from the employer, the rest and the drug the patient's; the grant is not asked.
        await page.GetByTestId("units-0").FillAsync("1");
        await page.GetByTestId("duration").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("split")).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("the record-a-session dialog with its split");
        await Expect(page.GetByTestId("split-1-employer")).ToHaveTextAsync(Fmt.Money(360m));
        await Expect(page.GetByTestId("split-1-patient")).ToHaveTextAsync(Fmt.Money(90m));
        await Expect(page.GetByTestId("split-2-patient")).ToHaveTextAsync(Fmt.Money(60m));
        await Expect(page.GetByTestId("split-note").First).ToBeVisibleAsync();
        Assert.Empty((await GetAsync<PatientBalance>(api, $"/api/patients/{patient}/balance")).Sessions);

        await Expect(page.GetByTestId("save")).ToHaveTextAsync("Record");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Session recorded")).ToBeVisibleAsync();
        // What the split showed is what the account holds once the employer's cascade has run.
        PatientBalance balance;
        var waited = 0;
        do
        {
            balance = await GetAsync<PatientBalance>(api, $"/api/patients/{patient}/balance");
            if (balance.EmployerDue == 360m) break;
            await Task.Delay(100, TestContext.Current.CancellationToken);
        } while (++waited < 100);
        var session = Assert.Single(balance.Sessions);
        Assert.Equal((360m, 150m), (session.EmployerDue, session.PatientDue));
    }
}
