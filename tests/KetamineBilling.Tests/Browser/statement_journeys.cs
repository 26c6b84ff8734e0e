using System.Text.RegularExpressions;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>Issue 18, statement runs: billing sets the rules and runs statements; the patient opens the emailed link.</summary>
[Collection("browser")]
public class statement_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    private static ILocator FieldError(IPage page, string testId) =>
        page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId(testId) }).Locator(".mud-input-helper-text");

    [Fact]
    public async Task billing_runs_statements_and_the_patient_opens_the_emailed_link_to_see_what_is_due()
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var email = $"june.{Guid.NewGuid():N}@patients.test";
        var last = $"Marchbank{Random.Shared.Next(1000, 9999)}";
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient("June", last, new DateOnly(1979, 8, 30), email, null))).Id;
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions", new DeliverSession(Guid.NewGuid(), Today.AddDays(-10), 45,
            "main-clinic", [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)], ["F33.2"], "dr-patel", ["self-pay"]));

        var page = await browser.SignedInAsync("billing@demo.test", "/statements");
        await Expect(page.GetByTestId("page-title")).ToHaveTextAsync("Patient statements");
        await page.AssertAccessibleAsync("statements");

        // A rule out of range is refused naming the field, and nothing is saved.
        await page.GetByTestId("policy-interval").FillAsync("0");
        await page.GetByTestId("save-policy").ClickAsync();
        await Expect(FieldError(page, "policy-interval")).ToContainTextAsync("from 1 to 365 days");
        await Expect(page.GetByTestId("policy-set-at")).ToContainTextAsync("The defaults");
        await page.GetByTestId("policy-interval").FillAsync("30");
        // The past-due letters: a final notice before the reminder is refused at its field.
        await Expect(page.GetByTestId("policy-reminder")).ToHaveValueAsync("60");
        await page.GetByTestId("policy-final").FillAsync("45");
        await page.GetByTestId("save-policy").ClickAsync();
        await Expect(FieldError(page, "policy-final")).ToContainTextAsync("after the reminder's age");
        await page.GetByTestId("policy-final").FillAsync("100");
        await page.GetByTestId("save-policy").ClickAsync();
        await Expect(page.GetByTestId("policy-set-at")).ToContainTextAsync("Last changed");

        // The run: June owes $450.00 and has an email address.
        await page.GetByTestId("run-statements").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/statements/[0-9a-f-]{36}$"));
        var row = page.GetByTestId("run-statements").Locator("tr").Filter(new() { HasText = $"June {last}" });
        await Expect(row).ToContainTextAsync("$450.00");
        await Expect(row.GetByTestId("statement-stage")).ToHaveTextAsync("statement");
        await Expect(page.GetByTestId("run-summary")).ToContainTextAsync("one every 30 days");
        for (var i = 0; i < 50 && !(await row.GetByTestId("notice-state").InnerTextAsync()).StartsWith("sent", StringComparison.Ordinal); i++)
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            await page.GetByTestId("refresh-run").ClickAsync();
        }

        await Expect(row.GetByTestId("notice-state")).ToContainTextAsync("sent");
        await page.AssertAccessibleAsync("statement run");

        // The email, opened by the patient: the date of birth first, then what is due.
        var mail = Assert.Single(await browser.Mail.To(email));
        var link = Regex.Match(mail.TextBody!, @"http://\S+/pay/\S+").Value;
        await using var context = await browser.Browser.NewContextAsync(new() { Locale = "en-US" });
        var patientPage = await context.NewPageAsync();
        await patientPage.GotoAsync(link);
        await Expect(patientPage.GetByTestId("pay-clinic")).ToBeVisibleAsync();
        await Expect(patientPage.Locator("main")).Not.ToContainTextAsync("450");
        await patientPage.AssertAccessibleAsync("payment page, date of birth", blazor: false);
        await patientPage.GetByLabel("Date of birth").FillAsync("1979-08-31");
        await patientPage.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Expect(patientPage.GetByRole(AriaRole.Alert)).ToContainTextAsync("does not match");
        await patientPage.GetByLabel("Date of birth").FillAsync("1979-08-30");
        await patientPage.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync();
        await Expect(patientPage.GetByTestId("pay-amount-due")).ToHaveTextAsync("$450.00");
        await patientPage.AssertAccessibleAsync("payment page", blazor: false);
        var pdf = await context.APIRequest.GetAsync(new Uri(new Uri(link), await patientPage.GetByTestId("pay-statement-pdf").GetAttributeAsync("href")).ToString());
        Assert.Equal("application/pdf", pdf.Headers["content-type"]);
    }
}
