using System.Net.Http.Json;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Studies;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>Issue 15: the third parties' remaining writes from the UI: an enrolment ended, a study at no cost, a sponsor's statement, grant funds.</summary>
[Collection("browser")]
public class third_party_screens_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    private static ILocator FieldError(IPage page, string testId) =>
        page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId(testId) }).Locator(".mud-input-helper-text");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<T> GetAsync<T>(HttpClient api, string url) => (await api.GetFromJsonAsync<T>(url, ClientCommands.Json, Ct))!;

    private static async Task<(HttpClient Api, Guid Patient)> PatientAsync(BrowserFixture browser, string first, string last)
    {
        var api = await browser.ApiAsync("billing@demo.test");
        return (api, (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient(first, last, new DateOnly(1988, 3, 4), null, null))).Id);
    }

    private async Task<SessionCharge> SessionAsync(HttpClient api, Guid patient, DateOnly on, string funding) =>
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions", new DeliverSession(Guid.NewGuid(), on, 45, "main-clinic",
            [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)], ["F33.2"], "dr-patel", [funding]));

    [Fact]
    public async Task an_employer_enrolment_ends_on_its_last_covered_day_and_an_end_before_its_plan_year_is_refused()
    {
        var (api, patient) = await PatientAsync(browser, "Cordelia", "Fairweather-Nox");
        var employer = (await ClientCommands.PostAsync<EmployerCreated>(api, "/api/employers",
            new CreateEmployer($"Tidewater Mills {Guid.NewGuid():N}"[..24], null, 300m, null, null, null, null))).Id;
        await ClientCommands.PostAsync<object>(api, $"/api/employers/{employer}/enrollments", new EnrollEmployee(patient, "TWM-0099", Today.Year));

        var page = await browser.SignedInAsync("billing@demo.test", $"/employers/{employer}");
        await Expect(page.GetByTestId("enrollments")).ToContainTextAsync("TWM-0099");
        await page.AssertAccessibleAsync("an employer's page");
        await page.GetByTestId("end-enrollment").ClickAsync();
        await page.AssertAccessibleAsync("the end-enrolment dialog");

        await page.GetByTestId("ended-on").FillAsync(Fmt.Date(new DateOnly(Today.Year - 1, 12, 31)));
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "ended-on")).ToHaveTextAsync($"Last covered day must not be before the plan year starts ({Fmt.Date(new DateOnly(Today.Year, 1, 1))})");
        Assert.Null(Assert.Single((await GetAsync<EmployerView>(api, $"/api/employers/{employer}")).Enrollments).EndedOn);

        await page.GetByTestId("ended-on").FillAsync(Fmt.Date(Today));
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("enrollments")).ToContainTextAsync(Fmt.Date(Today));
        await Expect(page.GetByTestId("end-enrollment")).ToHaveCountAsync(0);
        Assert.Equal(Today, Assert.Single((await GetAsync<EmployerView>(api, $"/api/employers/{employer}")).Enrollments).EndedOn);
    }

    [Fact]
    public async Task a_study_at_no_cost_is_registered_at_zero_and_its_session_leaves_nothing_owed_by_anyone()
    {
        var protocol = $"FREE-{Guid.NewGuid():N}"[..12];
        var page = await browser.SignedInAsync("billing@demo.test", "/studies");
        await page.AssertAccessibleAsync("the studies list");
        await page.GetByTestId("register-study").ClickAsync();
        await page.AssertAccessibleAsync("the register-study dialog");
        await page.GetByTestId("study-sponsor").FillAsync("Northwind Neuro");
        await page.GetByTestId("study-protocol").FillAsync(protocol);
        await page.GetByTestId("study-rate").FillAsync("-5");
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "study-rate")).ToHaveTextAsync($"Amount per session must be {Fmt.Money(0m)} or more");
        var api = await browser.ApiAsync("billing@demo.test");
        Assert.DoesNotContain(await GetAsync<List<Study>>(api, "/api/studies"), s => s.ProtocolId == protocol);

        await page.GetByTestId("study-rate").FillAsync("0");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("studies")).ToContainTextAsync(protocol);
        var study = Assert.Single(await GetAsync<List<Study>>(api, "/api/studies"), s => s.ProtocolId == protocol);
        Assert.Equal(0m, study.PerSessionAmount);

        // A subject's session: covered by the study, the whole charge adjusted off, nothing owed by the sponsor or the patient.
        var (_, patient) = await PatientAsync(browser, "Evander", "Stroud-Kirkby");
        await ClientCommands.PostAsync<object>(api, $"/api/studies/{study.Id}/enrollments", new EnrollStudyPatient(patient, "NW-SUBJ-1"));
        var charge = await SessionAsync(api, patient, Today, "study");
        for (var i = 0; i < 50 && (await GetAsync<Study>(api, $"/api/studies/{study.Id}")).Sessions.Count == 0; i++) await Task.Delay(200, Ct);

        await page.GotoAsync($"/studies/{study.Id}");
        await BrowserFixture.LiveAsync(page);
        await Expect(page.GetByTestId("study-terms")).ToContainTextAsync("A trial at no cost");
        await Expect(page.GetByTestId("statement-sessions")).ToContainTextAsync("NW-SUBJ-1");
        await Expect(page.GetByTestId("statement-closing")).ToContainTextAsync(Fmt.Money(0m));
        await Expect(page.GetByTestId("record-sponsor-payment")).ToBeDisabledAsync();
        await page.AssertAccessibleAsync("a study's page and statement");

        PatientBalance balance = null!;
        for (var i = 0; i < 50 && (balance = await GetAsync<PatientBalance>(api, $"/api/patients/{patient}/balance")).TotalAdjusted == 0; i++) await Task.Delay(200, Ct);
        Assert.Equal((0m, 0m, charge.TotalCharge, 0m), (balance.PatientDue, balance.SponsorPending, balance.TotalAdjusted, balance.TotalOpen));
    }

    [Fact]
    public async Task a_sponsor_s_statement_shows_the_month_and_a_payment_above_what_it_owes_is_refused()
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var study = Guid.NewGuid();
        var protocol = $"MN-{Guid.NewGuid():N}"[..10];
        await ClientCommands.PostAsync<StudyCreated>(api, "/api/studies", new RegisterStudy(study, "Meridian Neuro", protocol, 300m));
        var (_, patient) = await PatientAsync(browser, "Rosalind", "Achterberg");
        await ClientCommands.PostAsync<object>(api, $"/api/studies/{study}/enrollments", new EnrollStudyPatient(patient, "MN-SUBJ-7"));
        var lastMonth = new DateOnly(Today.Year, Today.Month, 1).AddMonths(-1).AddDays(9);
        await SessionAsync(api, patient, lastMonth, "study");
        for (var i = 0; i < 50 && (await GetAsync<Study>(api, $"/api/studies/{study}")).Sessions.Count == 0; i++) await Task.Delay(200, Ct);

        var page = await browser.SignedInAsync("billing@demo.test", "/studies");
        await page.GetByTestId("studies").Locator("tr", new() { HasText = protocol }).GetByTestId("open-study").ClickAsync();
        await Expect(page.GetByTestId("study-title")).ToHaveTextAsync($"Meridian Neuro · {protocol}");
        // This month: last month's session is in the opening balance; the month before shows the session.
        await Expect(page.GetByTestId("statement-opening")).ToContainTextAsync("300.00");
        await page.GetByTestId("statement-previous").ClickAsync();
        await Expect(page.GetByTestId("statement-month")).ToHaveTextAsync(lastMonth.ToString("MMMM yyyy", Fmt.Clinic));
        await Expect(page.GetByTestId("statement-sessions")).ToContainTextAsync("MN-SUBJ-7");
        await Expect(page.GetByTestId("statement-closing")).ToContainTextAsync("300.00");
        await page.AssertAccessibleAsync("a sponsor's statement");

        await page.GetByTestId("record-sponsor-payment").ClickAsync();
        await page.AssertAccessibleAsync("the sponsor payment dialog");
        await page.GetByTestId("amount").FillAsync("301");
        await page.GetByTestId("reference").FillAsync("WIRE-MN-1");
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "amount")).ToHaveTextAsync($"Amount must not exceed the {Fmt.Money(300m)} the sponsor owes");
        Assert.Empty((await GetAsync<Study>(api, $"/api/studies/{study}")).Payments);

        await page.GetByTestId("amount").FillAsync("300");
        await page.GetByTestId("save").ClickAsync();
        await page.GetByTestId("statement-next").ClickAsync();
        await Expect(page.GetByTestId("statement-payments")).ToContainTextAsync("WIRE-MN-1");
        await Expect(page.GetByTestId("statement-closing")).ToContainTextAsync(Fmt.Money(0m));
        var paid = await GetAsync<Study>(api, $"/api/studies/{study}");
        Assert.Equal(("WIRE-MN-1", 300m, 0m), (Assert.Single(paid.Payments).Reference, paid.Payments[0].Amount, paid.Owed));
    }

    [Fact]
    public async Task grant_funds_are_recorded_on_the_grant_s_page_and_listed_there_and_more_than_it_owes_is_refused()
    {
        var (api, patient) = await PatientAsync(browser, "Augustin", "Pellegrini-Ross");
        var organization = $"Hope Infusion Fund {Guid.NewGuid():N}"[..26];
        var grant = (await ClientCommands.PostAsync<GrantCreated>(api, "/api/grants", new AwardGrant(Guid.NewGuid(), patient, organization, 2000m, null, "full",
            null, null, null, null, Today.AddDays(-30), Today.AddDays(60)))).Id;
        var charge = await SessionAsync(api, patient, Today.AddDays(-3), "grant");
        for (var i = 0; i < 50 && (await GetAsync<GrantView>(api, $"/api/grants/{grant}")).Applied == 0; i++) await Task.Delay(200, Ct);

        var page = await browser.SignedInAsync("billing@demo.test", "/grants");
        await page.AssertAccessibleAsync("the grants list");
        await page.GotoAsync($"/grants/{grant}");
        await BrowserFixture.LiveAsync(page);
        await Expect(page.GetByTestId("grant-title")).ToHaveTextAsync(organization);
        await Expect(page.GetByTestId("grant-outstanding")).ToContainTextAsync(Fmt.Money(charge.TotalCharge).TrimStart('$'));
        await page.AssertAccessibleAsync("a grant's page");

        await page.GetByTestId("record-grant-funds").ClickAsync();
        await page.AssertAccessibleAsync("the grant funds dialog");
        await page.GetByTestId("amount").FillAsync((charge.TotalCharge + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByTestId("reference").FillAsync("HIF-CHK-3301");
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "amount")).ToHaveTextAsync($"Amount must not exceed the {Fmt.Money(charge.TotalCharge)} the grant owes for sessions applied");
        Assert.Empty((await GetAsync<GrantView>(api, $"/api/grants/{grant}")).Funds);

        await page.GetByTestId("amount").FillAsync(charge.TotalCharge.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("grant-funds")).ToContainTextAsync("HIF-CHK-3301");
        await Expect(page.GetByTestId("grant-outstanding")).ToContainTextAsync("0.00");

        var view = await GetAsync<GrantView>(api, $"/api/grants/{grant}");
        Assert.Equal(("HIF-CHK-3301", charge.TotalCharge, Today, 0m), (Assert.Single(view.Funds).Reference, view.Funds[0].Amount, view.Funds[0].ReceivedOn, view.Outstanding));
        Assert.Equal(0m, (await GetAsync<PatientBalance>(api, $"/api/patients/{patient}/balance")).GrantPending);
    }
}
