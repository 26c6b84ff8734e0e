using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Stripe;
using static Microsoft.Playwright.Assertions;
using static KetamineBilling.Tests.Infrastructure.FakeStripe;
using static KetamineBilling.Tests.Infrastructure.ProcessorEvents;

namespace KetamineBilling.Tests.Browser;

/// <summary>Issue 18, payouts: the processor pays out a patient's card payment less its fee; billing sees it and deposits its net.</summary>
[Collection("browser")]
public class payout_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    [Fact]
    public async Task billing_sees_a_payouts_gross_fees_and_net_and_the_bank_deposit_of_its_net_matches_it()
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var last = $"Paidout{Random.Shared.Next(1000, 9999)}";
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient("Noor", last, new DateOnly(1988, 2, 14), null, null))).Id;
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions", new DeliverSession(Guid.NewGuid(), Today.AddDays(-4), 45,
            "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["self-pay"]));
        var tag = Guid.NewGuid().ToString("N")[..10];
        using var web = new HttpClient { BaseAddress = browser.BaseAddress };
        var paid = await DeliverAsync(web, Signed(EventTypes.CheckoutSessionCompleted, CheckoutCompleted($"pi_{tag}", 31_700, patient, Guid.NewGuid(), DemoSeeder.Lakeside)), DemoSeeder.Lakeside);
        Assert.Contains("recorded", paid.Body);
        browser.Stripe.Payout($"po_{tag}", Transaction($"txn_{tag}_1", "charge", 31_700, 949, "charge", $"pi_{tag}"), Transaction($"txn_{tag}_2", "payout", -30_751, 0));
        Assert.Contains("recorded: payout", (await DeliverAsync(web, Signed(EventTypes.PayoutPaid, PayoutPaid($"po_{tag}", 30_751, Today)), DemoSeeder.Lakeside)).Body);

        var page = await browser.SignedInAsync("billing@demo.test", "/payouts");
        await Expect(page.GetByTestId("page-title")).ToHaveTextAsync("Card processor payouts");
        var row = page.GetByTestId("payouts").Locator("tr").Filter(new() { HasText = $"po_{tag}" });
        await Expect(row).ToContainTextAsync("$317.00");
        await Expect(row).ToContainTextAsync("$9.49");
        await Expect(row).ToContainTextAsync("$307.51");
        await Expect(row.GetByTestId("payout-deposit")).ToHaveTextAsync("not deposited yet");
        await row.GetByTestId("payout-link").ClickAsync();
        var detail = page.GetByTestId("payout-detail");
        await Expect(detail).ToContainTextAsync("$317.00 less $9.49 fees: $307.51 to the bank.");
        await Expect(detail.GetByRole(AriaRole.Row, new() { Name = $"txn_{tag}_1 card payment pi_{tag} $317.00 $9.49 $307.51" })).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("payouts");

        // The bank statement shows the net with the payout's id: recorded on Bank deposits and matched to the payout at once.
        await page.GotoAsync("/deposits");
        await Expect(page.GetByTestId("undeposited")).ToContainTextAsync($"card processor payout po_{tag}: $317.00 less $9.49 fees");
        await page.GetByLabel("Amount").FillAsync("307.51");
        await page.GetByLabel("Reference (trace number, batch)").FillAsync($"STRIPE TRANSFER po_{tag}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Record", Exact = true }).ClickAsync();
        await Expect(page.Locator(".mud-snackbar")).ToContainTextAsync("Recorded and matched to 1 receipt(s)");
        await Expect(page.GetByTestId("undeposited")).Not.ToContainTextAsync($"po_{tag}");

        await page.GotoAsync("/payouts");
        await Expect(page.GetByTestId("payouts").Locator("tr").Filter(new() { HasText = $"po_{tag}" }).GetByTestId("payout-deposit")).ToHaveTextAsync("matched");
    }
}
