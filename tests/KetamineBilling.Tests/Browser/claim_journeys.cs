using System.Net.Http.Json;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>
/// Issue 15: a claim's life in the browser (acknowledge, a paper EOB, reject, close) with its history saying who did each
/// step, and who recorded the money on the ledger, the employer's invoices and the bank deposits.
/// </summary>
[Collection("browser")]
public class claim_journeys(BrowserFixture browser)
{
    private const string Billing = "billing@demo.test";
    private const string BillingName = "Billing Admin (demo)";

    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A patient covered by Blue Prairie with one infusion (96365, $450.00) and its claim, filed through the API.</summary>
    private async Task<(HttpClient Api, Guid Patient, ClaimView Claim)> FiledClaimAsync(string first, string last)
    {
        var api = await browser.ApiAsync(Billing);
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient(first, last, new DateOnly(1981, 3, 4), null, null))).Id;
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, $"BPH{Random.Shared.Next(100000, 999999)}", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));
        var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), Today.AddDays(-15), 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["insurance"]));
        var claim = await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, DemoIds.BluePrairie, [charge.SessionId]));
        return (api, patient, claim);
    }

    private static Task<ClaimView?> ClaimAsync(HttpClient api, Guid id) => api.GetFromJsonAsync<ClaimView>($"/api/claims/{id}", ClientCommands.Json, Ct);

    private static ILocator HelperOf(IPage page, string testId) =>
        page.Locator(".mud-input-control").Filter(new() { Has = page.GetByTestId(testId) }).Locator(".mud-input-helper-text");

    [Fact]
    public async Task an_administrator_acknowledges_a_claim_posts_a_paper_eob_and_the_history_and_ledger_say_who()
    {
        var (api, patient, claim) = await FiledClaimAsync("Rosalind", "Okonkwo");
        var page = await browser.SignedInAsync(Billing, $"/claims/{claim.Id}");
        await Expect(page.GetByTestId("claim-title")).ToContainTextAsync(claim.ControlNumber);
        await page.AssertAccessibleAsync("claim page");

        await page.GetByTestId("acknowledge").ClickAsync();
        await Expect(page.GetByTestId("claim-history")).ToContainTextAsync("Acknowledged by the payer");
        Assert.Equal("acknowledged", (await ClaimAsync(api, claim.Id))!.Status);

        await page.GetByTestId("post-eob").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("paper EOB dialog");

        // Refused: paid and the adjustments do not account for the $450.00 charge. Nothing is sent.
        await page.GetByTestId("eob-line-1-allowed").FillAsync("400");
        await page.GetByTestId("eob-line-1-paid").FillAsync("300");
        await page.GetByTestId("eob-line-1-adj-1-amount").FillAsync("50");
        await page.GetByTestId("save").ClickAsync();
        await Expect(HelperOf(page, "eob-line-1-paid"))
            .ToHaveTextAsync($"Line 1: charge {Fmt.Money(450m)} less paid {Fmt.Money(300m)} is {Fmt.Money(150m)}; the adjustments add up to {Fmt.Money(50m)}");
        var unchanged = (await ClaimAsync(api, claim.Id))!;
        Assert.Equal(("acknowledged", 0), (unchanged.Status, unchanged.Adjudications.Count));

        // The patient's coinsurance (PR-2) accounts for the rest.
        await page.GetByTestId("eob-line-1-adj-2-reason").FillAsync("2");
        await page.GetByTestId("eob-line-1-adj-2-amount").FillAsync("100");
        await page.GetByTestId("eob-line-1-adj-2-amount").BlurAsync();
        await Expect(page.GetByTestId("eob-line-1-patient")).ToHaveTextAsync(Fmt.Money(100m));
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("EOB posted")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("claim-history")).ToContainTextAsync($"paid {Fmt.Money(300m)}, patient responsibility {Fmt.Money(100m)}");

        var posted = (await ClaimAsync(api, claim.Id))!;
        Assert.Equal(("paid", 300m), (posted.Status, posted.Paid));
        Assert.Equal([("CO", "45", 50m), ("PR", "2", 100m)], posted.Adjudications.Single().Lines.Single().Adjustments.Select(a => (a.Group, a.Reason, a.Amount)));
        var balance = (await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, Ct))!;
        Assert.Equal(100m, balance.PatientDue);

        // The history: every change with who made it and when.
        var by = page.GetByTestId("claim-history-by");
        await Expect(by).ToHaveCountAsync(3);
        foreach (var cell in await by.AllAsync()) await Expect(cell).ToHaveTextAsync(BillingName);
        var history = (await api.GetFromJsonAsync<List<ClaimHistoryItem>>($"/api/claims/{claim.Id}/history", ClientCommands.Json, Ct))!;
        Assert.Equal(["filed", "acknowledged", "paid"], history.Select(h => h.Status));
        Assert.All(history, h => Assert.Equal(BillingName, h.By));
        await Expect(page.GetByTestId("claim-history")).ToContainTextAsync(Fmt.Date(history[^1].At, browser.Services.GetRequiredService<ClinicCalendar>().Zone));

        // The ledger says who recorded each money change, and when.
        await page.GotoAsync($"/patients/{patient}");
        await BrowserFixture.LiveAsync(page);
        await page.GetByRole(AriaRole.Tab, new() { Name = "Ledger" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Columnheader, new() { Name = "By" })).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Columnheader, new() { Name = "Recorded" })).ToBeVisibleAsync();
        var ledgerBy = page.GetByTestId("ledger-by");
        await Expect(ledgerBy.First).ToHaveTextAsync(BillingName);
        foreach (var cell in await ledgerBy.AllAsync()) await Expect(cell).ToHaveTextAsync(BillingName);
        await page.AssertAccessibleAsync("the ledger with who and when");
    }

    [Fact]
    public async Task an_administrator_rejects_a_claim_with_a_reason_then_closes_it()
    {
        var (api, _, claim) = await FiledClaimAsync("Leopold", "Asantewaa");
        var page = await browser.SignedInAsync(Billing, $"/claims/{claim.Id}");
        await page.GetByTestId("reject").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("reject claim dialog");

        // Refused: no reason. Nothing is recorded.
        await page.GetByTestId("save").ClickAsync();
        await Expect(HelperOf(page, "claim-reason")).ToHaveTextAsync("Reason is required");
        Assert.Equal("filed", (await ClaimAsync(api, claim.Id))!.Status);

        await page.GetByTestId("claim-reason").FillAsync("Subscriber id not on file");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Claim rejected")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("claim-history")).ToContainTextAsync("Rejected: Subscriber id not on file");
        Assert.Equal("rejected", (await ClaimAsync(api, claim.Id))!.Status);
        await Expect(page.GetByTestId("reject")).ToHaveCountAsync(0);

        await page.GetByTestId("close").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("close claim dialog");
        await page.GetByTestId("claim-reason").FillAsync("Filed again under the right member id");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByText("Claim closed")).ToBeVisibleAsync();
        Assert.Equal("closed", (await ClaimAsync(api, claim.Id))!.Status);
        await Expect(page.GetByTestId("claim-history-by")).ToHaveCountAsync(3);
        foreach (var cell in await page.GetByTestId("claim-history-by").AllAsync()) await Expect(cell).ToHaveTextAsync(BillingName);
    }

    [Fact]
    public async Task the_deposits_and_employer_invoices_say_who_recorded_them_and_when()
    {
        var api = await browser.ApiAsync(Billing);
        var reference = $"WHO-{Guid.NewGuid():N}"[..14];
        var deposit = await ClientCommands.PostAsync<DepositView>(api, "/api/deposits", new RecordDeposit(Guid.NewGuid(), 12_345.67m, Today, reference));
        var page = await browser.SignedInAsync(Billing, "/deposits");
        var row = page.GetByTestId("all-deposits").Locator("tr").Filter(new() { HasText = reference });
        await Expect(row.GetByTestId("deposit-recorded-by")).ToContainTextAsync(BillingName);
        var listed = (await api.GetFromJsonAsync<DepositPage>("/api/deposits?page=1&pageSize=200", ClientCommands.Json, Ct))!.Items.Single(d => d.Id == deposit.Id);
        Assert.Equal(BillingName, listed.Recorded!.By);
        await Expect(row.GetByTestId("deposit-recorded-by")).ToContainTextAsync(Fmt.Date(listed.Recorded.At, browser.Services.GetRequiredService<ClinicCalendar>().Zone));
        await page.AssertAccessibleAsync("deposits page with who and when");

        // An employer invoice issued and paid through the API: the employer's page says by whom and when.
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient("Wendeline", "Achterberg", new DateOnly(1984, 6, 7), null, null))).Id;
        var employer = (await ClientCommands.PostAsync<EmployerCreated>(api, "/api/employers",
            new CreateEmployer($"Who Freight {Guid.NewGuid():N}"[..20], null, 300m, null, null, null, null))).Id;
        var year = Today.AddMonths(-1).Year;
        (await api.PostAsJsonAsync($"/api/employers/{employer}/enrollments", new EnrollEmployee(patient, "WHO-7", year), Ct)).EnsureSuccessStatusCode();
        var lastMonth = new DateOnly(Today.Year, Today.Month, 1).AddMonths(-1).AddDays(4);
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions", new DeliverSession(Guid.NewGuid(), lastMonth, 45, "main-clinic",
            [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["employer"]));
        for (var i = 0; i < 200 && (await api.GetFromJsonAsync<EmployerView>($"/api/employers/{employer}", ClientCommands.Json, Ct))!.Committed == 0; i++)
            await Task.Delay(100, Ct);
        var invoiceId = Guid.NewGuid();
        (await api.PostAsJsonAsync($"/api/employers/{employer}/invoices", new IssueInvoice(invoiceId, lastMonth.ToString("yyyy-MM")), Ct)).EnsureSuccessStatusCode();
        (await api.PostAsJsonAsync($"/api/employers/{employer}/payments", new RecordEmployerPayment(Guid.NewGuid(), "ACH-WHO-1", 300m, Today, invoiceId), Ct))
            .EnsureSuccessStatusCode();

        await page.GotoAsync($"/employers/{employer}");
        await BrowserFixture.LiveAsync(page);
        await Expect(page.GetByTestId("invoice-issued-by")).ToContainTextAsync(BillingName);
        await Expect(page.GetByTestId("invoice-paid-by")).ToContainTextAsync($"{Fmt.Money(300m)} (ACH-WHO-1) · {BillingName}");
        await page.AssertAccessibleAsync("the employer's invoices with who and when");
        var invoice = (await api.GetFromJsonAsync<List<InvoiceView>>($"/api/employers/{employer}/invoices", ClientCommands.Json, Ct))!.Single();
        Assert.Equal(BillingName, invoice.Issued!.By);
        Assert.Equal([(300m, BillingName)], invoice.Payments!.Select(p => (p.Amount, p.Recorded.By)));
    }
}
