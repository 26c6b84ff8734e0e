using System.Text.RegularExpressions;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>
/// Issue 18, collections: an account past its final notice is placed with an agency from the collections desk, the agency's
/// remittance is recorded net of its commission, the account is recalled and written off, the bad debt is partly recovered, and
/// a missed appointment is charged at the clinic's price.
/// </summary>
[Collection("browser")]
public class collections_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    [Fact]
    public async Task billing_places_an_account_past_its_final_notice_records_the_agency_s_recovery_recalls_it_and_recovers_the_bad_debt()
    {
        var ct = TestContext.Current.CancellationToken;
        var api = await browser.ApiAsync("billing@demo.test");
        var last = $"Dunning{Random.Shared.Next(1000, 9999)}";
        var name = $"Otto {last}";
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients",
            new RegisterPatient("Otto", last, new DateOnly(1966, 9, 12), $"otto.{Guid.NewGuid():N}@patients.test", null))).Id;
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions", new DeliverSession(Guid.NewGuid(), Today.AddDays(-130), 45,
            "main-clinic", [new SessionLineInput("96374", 1)], ["F33.2"], "dr-patel", ["self-pay"]));
        // The dunning sequence ran its course: the monthly cycle's statements 70 and 35 days ago, and today's final notice.
        var bus = browser.Services.GetRequiredService<Wolverine.IMessageBus>();
        foreach (var daysAgo in new[] { 70, 35, 0 })
            await bus.InvokeForTenantAsync(DemoSeeder.Lakeside, new RunScheduledStatements(Guid.NewGuid(), Today.AddDays(-daysAgo)), ct);

        var page = await browser.SignedInAsync("billing@demo.test", "/collections");
        await Expect(page.GetByTestId("page-title")).ToHaveTextAsync("Collections");
        await Expect(page.GetByTestId("agencies")).ToContainTextAsync("Heartland Recovery Associates");
        var candidate = page.GetByTestId("candidates").Locator("tr").Filter(new() { HasText = name });
        await Expect(candidate).ToContainTextAsync("$150.00");
        await page.AssertAccessibleAsync("collections");

        // A second agency, refused first for a commission out of range, at its field.
        var agency = $"Tri-County Collections {last}";
        await page.GetByTestId("agency-name").FillAsync(agency);
        await page.GetByTestId("agency-commission").FillAsync("75");
        await page.GetByTestId("save-agency").ClickAsync();
        await Expect(page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId("agency-commission") })).ToContainTextAsync("0 to 60 percent");
        await page.GetByTestId("agency-commission").FillAsync("25");
        await page.GetByTestId("save-agency").ClickAsync();
        await Expect(page.GetByTestId("agencies").Locator("tr").Filter(new() { HasText = agency })).ToContainTextAsync("25 %");

        // Otto owes $150.00 and his final notice went out today: placed with the new agency.
        await Expect(candidate).ToContainTextAsync(Fmt.Date(Today));
        await candidate.GetByTestId("candidate-agency").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = agency }).ClickAsync();
        await candidate.GetByTestId("place").ClickAsync();
        await Expect(page.Locator(".mud-snackbar", new() { HasText = $"$150.00 placed with {agency}" })).ToBeVisibleAsync();
        var placed = page.GetByTestId("placed").Locator("tr").Filter(new() { HasText = name });
        await Expect(placed).ToContainTextAsync(agency);
        await Expect(page.GetByTestId("candidates")).Not.ToContainTextAsync(name);

        // On the account: the agency holds it; its remittance of $100.00 collected, 25 % kept.
        await Expect(placed.GetByRole(AriaRole.Link, new() { Name = name })).ToHaveAttributeAsync("href", $"/patients/{patient}?do=collections");
        // Loaded afresh (the placement's toast would stand in the accessibility check's way).
        await page.GotoAsync($"/patients/{patient}?do=collections");
        await Expect(page.GetByTestId("collections-due")).ToContainTextAsync("$150.00");
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("$0.00");
        await Expect(page.GetByTestId("placement-status")).ToContainTextAsync($"With {agency} since {Fmt.Date(Today)}: $150.00 still placed");
        await page.AssertAccessibleAsync("an account's collections");
        await page.GetByTestId("recovery-collected").FillAsync("100");
        await page.GetByTestId("recovery-reference").FillAsync("TCC-REM-0412");
        await page.GetByTestId("record-recovery").ClickAsync();
        await Expect(page.Locator(".mud-snackbar", new() { HasText = "$100.00 collected: $25.00 commission, $75.00 to the clinic" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("placement-status")).ToContainTextAsync("$50.00 still placed of $150.00 · collected $100.00, commission $25.00 (25 %), received $75.00");
        await Expect(page.GetByTestId("collections-due")).ToContainTextAsync("$50.00");

        // The agency gives up on the rest: recalled, then written off as bad debt.
        await page.GetByTestId("recall").ClickAsync();
        await Expect(page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId("recall-reason") })).ToContainTextAsync("is required");
        await page.GetByTestId("recall-reason").FillAsync("returned as uncollectable");
        await page.GetByTestId("recall").ClickAsync();
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("$50.00");
        await Expect(page.GetByTestId("placements")).ToContainTextAsync("returned as uncollectable");
        await ClientCommands.PostAsync<BalanceWrittenOff>(api, $"/api/patients/{patient}/write-offs", new WriteOffBalance(Guid.NewGuid(), "bad-debt", "agency gave up", null, null));
        await page.ReloadAsync();
        await page.GetByRole(AriaRole.Tab, new() { Name = "Collections" }).ClickAsync();
        await Expect(page.GetByTestId("bad-debt-summary")).ToContainTextAsync("Written off as bad debt: $50.00, recovered $0.00, still written off $50.00.");

        // Months later Otto mails a check for $30.00: a recovery, not a payment into thin air.
        await page.GetByTestId("bad-debt-amount").FillAsync("30");
        await page.GetByTestId("bad-debt-reference").FillAsync("check 5521");
        await page.GetByTestId("record-bad-debt-recovery").ClickAsync();
        await Expect(page.Locator(".mud-snackbar", new() { HasText = "Bad debt recovered: $30.00" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("bad-debt-summary")).ToContainTextAsync("recovered $30.00, still written off $20.00");
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("$0.00");
    }

    [Fact]
    public async Task billing_charges_a_missed_appointment_at_the_clinic_s_price_once()
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var last = $"Noshow{Random.Shared.Next(1000, 9999)}";
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient("Mia", last, new DateOnly(1991, 5, 6), null, null))).Id;

        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}?do=collections");
        await Expect(page.GetByTestId("no-shows")).ToContainTextAsync("No missed-appointment fee charged.");
        await page.GetByTestId("charge-no-show").ClickAsync();
        await Expect(page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId("missed-on") })).ToContainTextAsync("Missed on is required");
        await page.GetByTestId("missed-on").FillAsync(Fmt.Date(Today.AddDays(-1)));
        await page.GetByTestId("no-show-note").FillAsync("no call, no show");
        await page.GetByTestId("charge-no-show").ClickAsync();
        await Expect(page.Locator(".mud-snackbar", new() { HasText = "Missed-appointment fee of $75.00 charged" })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("no-show-fee")).ToContainTextAsync($"{Fmt.Date(Today.AddDays(-1))}: Missed appointment (no-show) fee, $75.00 ($75.00 open) · no call, no show");
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("$75.00");

        // The same day again is refused, saying why.
        await page.GetByTestId("missed-on").FillAsync(Fmt.Date(Today.AddDays(-1)));
        await page.GetByTestId("charge-no-show").ClickAsync();
        await Expect(page.GetByTestId("no-show-error")).ToHaveTextAsync($"A missed-appointment fee for {Fmt.Date(Today.AddDays(-1))} is on the account already");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Sessions" }).ClickAsync();
        await Expect(page.GetByTestId("sessions-table")).ToContainTextAsync("missed appointment");
    }
}
