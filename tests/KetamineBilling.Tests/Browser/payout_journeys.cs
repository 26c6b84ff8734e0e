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

/// <summary>
/// Issue 18, the card processor's money: a payout of a patient's card payment less its fee, seen and deposited by its net; and a
/// payment plan on autopay whose card is declined, seen on the plan and on the worklist, and stopped.
/// </summary>
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

    [Fact]
    public async Task billing_sees_a_plans_autopay_and_its_declined_charges_and_stops_it_with_a_reason()
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var last = $"Autopay{Random.Shared.Next(1000, 9999)}";
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient("Lena", last, new DateOnly(1990, 5, 1), null, null))).Id;
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions", new DeliverSession(Guid.NewGuid(), Today.AddDays(-20), 45,
            "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["self-pay"]));
        var plan = Guid.NewGuid();
        await ClientCommands.PostAsync<PaymentPlanView>(api, $"/api/patients/{patient}/payment-plans", new AgreePaymentPlan(plan, Today.AddDays(-15),
            [new InstalmentInput(Today.AddDays(-1), 100m), new InstalmentInput(Today.AddDays(29), 100m)]));
        var tag = Guid.NewGuid().ToString("N")[..10];
        browser.Stripe.SavedCard($"seti_{tag}", $"cus_{tag}", $"pm_{tag}", "mastercard", "0005");
        browser.Stripe.Declines($"pm_{tag}", "insufficient_funds");
        using var web = new HttpClient { BaseAddress = browser.BaseAddress };
        var saved = await DeliverAsync(web, Signed(EventTypes.CheckoutSessionCompleted, new Dictionary<string, object?>
        {
            ["id"] = $"cs_{tag}", ["object"] = "checkout.session", ["mode"] = "setup", ["status"] = "complete", ["customer"] = $"cus_{tag}", ["setup_intent"] = $"seti_{tag}",
            ["metadata"] = new Dictionary<string, string> { ["patientId"] = patient.ToString(), ["planId"] = plan.ToString() }
        }), DemoSeeder.Lakeside);
        Assert.Contains("recorded: autopay", saved.Body);
        var service = browser.Services.GetRequiredService<KetamineBilling.Features.PatientBilling.AutopayService>();
        foreach (var day in new[] { Today, Today.AddDays(3), Today.AddDays(6) }) await service.CheckAsync(TestContext.Current.CancellationToken, day);

        // The worklist names the missed instalment and leads to the account.
        var page = await browser.SignedInAsync("billing@demo.test", "/reconciliation");
        await browser.CaughtUpAsync();
        await page.ReloadAsync();
        await page.GetByTestId("summary-missed-instalment").ClickAsync();
        var item = page.Locator("tr").Filter(new() { HasText = $"Lena {last}" }).Filter(new() { HasText = "declined 3 times" });
        await Expect(item).ToContainTextAsync("ending 0005");
        await page.GotoAsync($"/patients/{patient}");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Payment plans" }).ClickAsync();
        var autopay = page.GetByTestId("plan-0-autopay");
        await Expect(autopay).ToContainTextAsync("Autopay on");
        await Expect(autopay).ToContainTextAsync("mastercard ending 0005");
        await Expect(page.GetByTestId("plan-0-autopay-last")).ToContainTextAsync("declined (insufficient funds): instalment 1, attempt 3");
        await Expect(page.GetByTestId("plan-0-autopay-last")).ToContainTextAsync("no more attempts");
        await page.AssertAccessibleAsync("a plan on autopay");

        // Stopping needs a reason; with one, the card is no longer charged.
        await page.GetByTestId("plan-0-autopay-stop").ClickAsync();
        await Expect(page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId("plan-0-autopay-reason") })).ToContainTextAsync("Reason is required: why the card is no longer charged");
        await page.GetByTestId("plan-0-autopay-reason").FillAsync("Pays by phone from now on");
        await page.GetByTestId("plan-0-autopay-stop").ClickAsync();
        await Expect(autopay).ToContainTextAsync("Autopay stopped");
        await Expect(autopay).ToContainTextAsync("stopped: Pays by phone from now on");
        await Expect(page.GetByTestId("plan-0-autopay-stop")).ToHaveCountAsync(0);
    }
}
