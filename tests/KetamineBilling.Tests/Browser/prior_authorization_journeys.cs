using System.Net.Http.Json;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>Issue 15: prior authorizations worked from their own screens, from the request with its evidence to expiry.</summary>
[Collection("browser")]
public class prior_authorization_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    private static ILocator FieldError(IPage page, string testId) =>
        page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId(testId) }).Locator(".mud-input-helper-text");

    /// <summary>A patient insured by Blue Prairie, listed in the (asynchronous) patient directory.</summary>
    private async Task<(HttpClient Api, Guid Patient)> InsuredPatientAsync(string first, string last)
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient(first, last, new DateOnly(1984, 6, 7), null, null))).Id;
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, $"BPH{Random.Shared.Next(10000, 99999)}", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));
        for (var i = 0; i < 200 && (await api.GetFromJsonAsync<PatientPage>($"/api/patients?search={last}", ClientCommands.Json, TestContext.Current.CancellationToken))!.Items.Count == 0; i++)
            await Task.Delay(100, TestContext.Current.CancellationToken);
        return (api, patient);
    }

    private static async Task<List<AuthorizationView>> AuthorizationsOf(HttpClient api, Guid patient) =>
        (await api.GetFromJsonAsync<List<AuthorizationView>>($"/api/prior-authorizations?patientId={patient}", ClientCommands.Json, TestContext.Current.CancellationToken))!;

    /// <summary>Types the name into a patient picker and chooses the patient (typing again if the first search shows nothing).</summary>
    private static async Task PickPatientAsync(IPage page, ILocator field, string last, string first)
    {
        var option = page.GetByRole(AriaRole.Option, new() { NameRegex = new Regex($"{last}, {first}") });
        for (var attempt = 1; ; attempt++)
        {
            await field.FillAsync("");
            await field.FillAsync(last);
            try
            {
                await option.WaitForAsync(new() { Timeout = 5_000 });
                break;
            }
            catch (TimeoutException) when (attempt < 3)
            {
            }
        }

        await option.ClickAsync();
        await Expect(field).ToHaveValueAsync(new Regex($"^{last}, {first} \\("));
    }

    [Fact]
    public async Task an_administrator_requests_an_authorization_with_its_evidence_and_a_bad_code_is_refused_at_its_field()
    {
        var (api, patient) = await InsuredPatientAsync("Ignatius", "Wolstenholme");
        var page = await browser.SignedInAsync("billing@demo.test", "/prior-authorizations");
        await Expect(page.GetByTestId("authorizations-list")).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("the prior authorizations list");

        await page.GetByTestId("request-authorization").ClickAsync();
        var dialog = page.Locator(".mud-dialog");
        await PickPatientAsync(page, dialog.GetByLabel("Patient", new() { Exact = true }), "Wolstenholme", "Ignatius");
        await Expect(dialog.GetByTestId("request-payer")).ToContainTextAsync("Blue Prairie");
        await page.AssertAccessibleAsync("the request dialog");

        // A code that is not a CPT/HCPCS code: the API refuses it, at the field, and writes nothing.
        await page.GetByTestId("request-codes").FillAsync("96365, 9636");
        await page.GetByTestId("request-sessions").FillAsync("6");
        await page.GetByTestId("request-trials").FillAsync("sertraline 200 mg, 8 weeks\nbupropion XL 300 mg, 10 weeks");
        await page.GetByTestId("request-phq9").FillAsync("21");
        await page.GetByTestId("request-madrs").FillAsync("34");
        await page.GetByTestId("request-note").FillAsync("Treatment-resistant depression; two adequate trials failed.");
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "request-codes")).ToHaveTextAsync("Procedure codes must be five-character CPT/HCPCS codes");
        Assert.Empty(await AuthorizationsOf(api, patient));

        await page.GetByTestId("request-codes").FillAsync("96365, J3490");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("authorization-title")).ToHaveTextAsync("Prior authorization (requested)");
        await Expect(page.GetByTestId("authorization-evidence")).ToContainTextAsync("bupropion XL 300 mg, 10 weeks");
        await Expect(page.GetByTestId("authorization-patient")).ToHaveTextAsync("Ignatius Wolstenholme");
        await page.AssertAccessibleAsync("a requested authorization");

        var requested = Assert.Single(await AuthorizationsOf(api, patient));
        Assert.Equal(("requested", 6, DemoIds.BluePrairie), (requested.Status, requested.SessionsRequested, requested.PayerId));
        Assert.Equal(["96365", "J3490"], requested.Codes);
        Assert.Equal(["F33.2"], requested.DiagnosisCodes!);
        Assert.Equal((2, 21, 34), (requested.Evidence.FailedAntidepressantTrials.Count, requested.Evidence.Phq9Score, requested.Evidence.MadrsScore));
        Assert.EndsWith($"/prior-authorizations/{requested.Id}", page.Url);
    }

    [Fact]
    public async Task an_approval_counts_the_session_already_delivered_an_extension_adds_sessions_and_the_authorization_expires()
    {
        var (api, patient) = await InsuredPatientAsync("Philippa", "Marchbanks");
        var authorization = Guid.NewGuid();
        await ClientCommands.PostAsync<AuthorizationView>(api, "/api/prior-authorizations", new RequestPriorAuthorization(authorization, patient, DemoIds.BluePrairie,
            ["96365"], 4, ["F33.2"], new MedicalNecessityEvidence(["escitalopram 20 mg, 8 weeks"], 19, null, null), Today.AddDays(-9)));
        var served = Today.AddDays(-5);
        var session = Guid.NewGuid();
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(session, served, 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["insurance"]));

        // Found in the list by patient and status.
        var page = await browser.SignedInAsync("billing@demo.test", "/prior-authorizations");
        await PickPatientAsync(page, page.GetByLabel("Filter by patient", new() { Exact = true }), "Marchbanks", "Philippa");
        var row = page.GetByTestId("authorizations-list").Locator("tr", new() { HasText = "Philippa Marchbanks" });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.GetByTestId("authorization-status")).ToHaveTextAsync("requested");
        await row.GetByTestId("open-authorization").ClickAsync();
        await Expect(page.GetByTestId("authorization-title")).ToHaveTextAsync("Prior authorization (requested)");

        // The payer's approval: a number with an X12 separator is refused by the API at its field.
        await page.GetByTestId("approve-authorization").ClickAsync();
        await page.AssertAccessibleAsync("the approve dialog");
        await page.GetByTestId("auth-number").FillAsync("BPH~PA~77");
        await page.GetByTestId("auth-sessions").FillAsync("4");
        await page.GetByTestId("auth-valid-from").FillAsync(Fmt.Date(Today.AddDays(-10)));
        await page.GetByTestId("auth-valid-to").FillAsync(Fmt.Date(Today.AddDays(20)));
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "auth-number")).ToHaveTextAsync("Authorization number must not contain ~ * : ^ or control characters: they are X12 delimiters and the field is sent in the 837 claim file");
        Assert.Equal("requested", Assert.Single(await AuthorizationsOf(api, patient)).Status);

        await page.GetByTestId("auth-number").FillAsync("BPH-PA-7731");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("authorization-title")).ToHaveTextAsync("Prior authorization BPH-PA-7731");
        // The session delivered before the approval is counted by the cascade: used 1, 3 left.
        for (var i = 0; i < 50 && Assert.Single(await AuthorizationsOf(api, patient)).Used == 0; i++) await Task.Delay(200, TestContext.Current.CancellationToken);
        await page.ReloadAsync();
        await BrowserFixture.LiveAsync(page);
        await Expect(page.GetByTestId("authorization-used")).ToHaveTextAsync("1");
        await Expect(page.GetByTestId("authorization-remaining")).ToHaveTextAsync("3");
        await Expect(page.GetByTestId("authorization-uses")).ToContainTextAsync(Fmt.Date(served));
        await Expect(page.GetByTestId("authorization-uses").GetByTestId("use-session")).ToHaveAttributeAsync("href", $"/patients/{patient}");
        await page.AssertAccessibleAsync("an approved authorization");

        // An extension may not end earlier than the approval: the API says so at the field.
        await page.GetByTestId("extend-authorization").ClickAsync();
        await page.AssertAccessibleAsync("the extend dialog");
        await page.GetByTestId("extend-sessions").FillAsync("2");
        await page.GetByTestId("extend-valid-to").FillAsync(Fmt.Date(Today.AddDays(10)));
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "extend-valid-to")).ToHaveTextAsync($"Valid to must not be before the current end {Fmt.Date(Today.AddDays(20))}");
        await page.GetByTestId("extend-valid-to").FillAsync(Fmt.Date(Today.AddDays(60)));
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("authorization-approved")).ToHaveTextAsync("6");
        await Expect(page.GetByTestId("authorization-remaining")).ToHaveTextAsync("5");

        await page.GetByTestId("expire-authorization").ClickAsync();
        await page.AssertAccessibleAsync("the expire confirmation");
        await page.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Mark expired", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("authorization-status-chip")).ToHaveTextAsync("expired");
        await Expect(page.GetByTestId("extend-authorization")).ToHaveCountAsync(0);

        var view = Assert.Single(await AuthorizationsOf(api, patient));
        Assert.Equal(("expired", "BPH-PA-7731", 6, 1, Today.AddDays(60)), (view.Status, view.AuthorizationNumber, view.SessionsApproved, view.Used, view.ValidTo!.Value));
        Assert.Equal(session, Assert.Single(view.Uses).SessionId);
    }

    [Fact]
    public async Task a_denial_needs_the_payer_s_reason_and_shows_it()
    {
        var (api, patient) = await InsuredPatientAsync("Bartholomew", "Quillfeather");
        var authorization = Guid.NewGuid();
        await ClientCommands.PostAsync<AuthorizationView>(api, "/api/prior-authorizations", new RequestPriorAuthorization(authorization, patient, DemoIds.BluePrairie,
            ["96365"], 6, ["F33.2"], null, null));

        var page = await browser.SignedInAsync("billing@demo.test", $"/prior-authorizations/{authorization}");
        await page.GetByTestId("deny-authorization").ClickAsync();
        await page.AssertAccessibleAsync("the deny dialog");
        await page.GetByTestId("save").ClickAsync();
        await Expect(FieldError(page, "deny-reason")).ToHaveTextAsync("Reason is required: the payer's words or denial code");
        Assert.Equal("requested", Assert.Single(await AuthorizationsOf(api, patient)).Status);

        await page.GetByTestId("deny-reason").FillAsync("Step therapy not met: ECT not tried");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("denial-reason")).ToHaveTextAsync("Denied: Step therapy not met: ECT not tried");
        await Expect(page.GetByTestId("authorization-status-chip")).ToHaveTextAsync("denied");
        await Expect(page.GetByTestId("approve-authorization")).ToHaveCountAsync(0);

        var view = Assert.Single(await AuthorizationsOf(api, patient));
        Assert.Equal(("denied", "Step therapy not met: ECT not tried"), (view.Status, view.DenialReason));
        var denied = await api.GetFromJsonAsync<AuthorizationPage>($"/api/prior-authorizations/list?status=denied&patientId={patient}", ClientCommands.Json,
            TestContext.Current.CancellationToken);
        Assert.Equal(authorization, Assert.Single(denied!.Items).Id);
    }
}
