using System.Net.Http.Json;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>
/// Issue 19 in the browser: a claim the payer's 277CA rejects, corrected and filed again, then paid; a denied claim replaced
/// by a corrected one through its dialog; a primary ERA leading to a secondary claim that is sent and paid.
/// </summary>
[Collection("browser")]
public class claim_correction_journeys(BrowserFixture browser)
{
    private const string Billing = "billing@demo.test";

    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A patient covered by Blue Prairie with one infusion (96365, $450.00) and its claim, filed through the API.</summary>
    private async Task<(HttpClient Api, Guid Patient, Guid Coverage, ClaimView Claim)> FiledClaimAsync(string first, string last)
    {
        var api = await browser.ApiAsync(Billing);
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient(first, last, new DateOnly(1979, 6, 14), null, null))).Id;
        var coverage = await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH00000X", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));
        var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), Today.AddDays(-12), 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["insurance"]));
        var claim = await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, DemoIds.BluePrairie, [charge.SessionId]));
        return (api, patient, coverage.CoverageId, claim);
    }

    private static Task<ClaimView?> ClaimAsync(HttpClient api, Guid id) => api.GetFromJsonAsync<ClaimView>($"/api/claims/{id}", ClientCommands.Json, Ct);

    private static async Task<string> FileAsync(string name, string content)
    {
        var file = Path.Combine(Path.GetTempPath(), name);
        await File.WriteAllTextAsync(file, content, Ct);
        return file;
    }

    [Fact]
    public async Task a_claim_the_payers_277ca_rejects_is_corrected_filed_again_and_paid()
    {
        var (api, patient, coverage, claim) = await FiledClaimAsync("Wilhelmina", "Oyelaran-Brandt");
        var page = await browser.SignedInAsync(Billing, "/claims/acknowledgments");
        await page.AssertAccessibleAsync("the claim acknowledgments page");

        // The payer's 277CA: the subscriber's id is not found.
        var control = Random.Shared.Next(100_000, 999_999_999);
        await page.Locator("input[type=file]").SetInputFilesAsync(await FileAsync($"ack{control}.277", AckBuilder.Ack277Ca(control, (claim.ControlNumber, 450m, "A7:33:IL", null))));
        await Expect(page.GetByTestId("ack-effect")).ToHaveTextAsync("Claim rejected, sessions freed", new() { Timeout = 20_000 });
        await Expect(page.GetByTestId("ack-results")).ToContainTextAsync("Subscriber and subscriber id not found");
        await page.AssertAccessibleAsync("the claim acknowledgments page with a result");

        await page.GetByRole(AriaRole.Link, new() { Name = claim.ControlNumber }).ClickAsync();
        await Expect(page.GetByTestId("claim-title")).ToContainTextAsync(claim.ControlNumber);
        await Expect(page.GetByTestId("claim-history")).ToContainTextAsync("A7:33:IL Rejected for invalid information: Subscriber and subscriber id not found");

        // Corrected: the member id as the payer has it (the coverage dialog has its own journey), then the session filed again from the account.
        await ClientCommands.PostAsync<object>(api, $"/api/patients/{patient}/coverages/{coverage}/changes",
            new ChangeCoverage(Guid.NewGuid(), Today.AddDays(-13), "BPH4471902", "primary"));
        await page.GotoAsync($"/patients/{patient}");
        await page.GetByTestId($"file-claim-{claim.Lines[0].SessionId}").ClickAsync();
        await Expect(page.GetByText("filed with Blue Prairie")).ToBeVisibleAsync();
        var refiled = (await api.GetFromJsonAsync<ClaimPage>($"/api/claims?patientId={patient}&status=filed", ClientCommands.Json, Ct))!.Items.Single();
        Assert.NotEqual(claim.Id, refiled.Id);

        // The payer pays the corrected claim.
        page = await browser.SignedInAsync(Billing, "/remittances");
        var trace = $"RC{Guid.NewGuid():N}"[..16];
        await page.Locator("input[type=file]").SetInputFilesAsync(await FileAsync($"{trace}.835", Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 288m, Today,
            [new Remittance835Builder.Clp(refiled.ControlNumber, "1", 450m, 288m, 72m,
                new Remittance835Builder.Svc("96365", 450m, 288m, Today.AddDays(-12), $"{refiled.ControlNumber}-1", ("CO", "45", 90m), ("PR", "2", 72m)))])));
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync("1 claim(s) posted", new() { Timeout = 20_000 });
        Assert.Equal(("paid", 288m), (await ClaimAsync(api, refiled.Id)) is { } paid ? (paid.Status, paid.Paid) : default);
        Assert.Equal("rejected", (await ClaimAsync(api, claim.Id))!.Status);
    }

    [Fact]
    public async Task a_denied_claim_is_replaced_by_a_corrected_one_through_its_dialog()
    {
        var (api, _, _, claim) = await FiledClaimAsync("Anselm", "Quarshie-Lindqvist");
        // The payer denies it: the infusion needs a modifier (CO-4).
        var trace = $"DN{Guid.NewGuid():N}"[..16];
        using (var denial = await api.PostAsync("/api/remittances", new StringContent(Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 0m, Today,
                   [new Remittance835Builder.Clp(claim.ControlNumber, "4", 450m, 0m, 0m,
                       new Remittance835Builder.Svc("96365", 450m, 0m, Today.AddDays(-12), $"{claim.ControlNumber}-1", ("CO", "4", 450m)))])), Ct))
        {
            Assert.True(denial.IsSuccessStatusCode, await denial.Content.ReadAsStringAsync(Ct));
        }

        var page = await browser.SignedInAsync(Billing, $"/claims/{claim.Id}");
        await Expect(page.GetByTestId("payer-claim-number")).ToContainTextAsync($"PCN{claim.ControlNumber[^6..]}");
        await page.GetByTestId("replace").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("the replace-claim dialog");
        // Refused: no reason; nothing is filed.
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("Reason is required");
        await page.GetByTestId("correct-reason").FillAsync("Modifier 59 was missing on the infusion");
        await page.GetByTestId("correct-modifiers-1").FillAsync("59");
        await page.GetByTestId("save").ClickAsync();

        await Expect(page.GetByTestId("replaces")).ToContainTextAsync($"Replacement claim (frequency 7) of payer claim PCN{claim.ControlNumber[^6..]}");
        await Expect(page.GetByTestId("claim-line-1-modifiers")).ToHaveTextAsync("59");
        var replaced = (await ClaimAsync(api, claim.Id))!;
        Assert.Equal("replaced", replaced.Status);
        await page.GotoAsync($"/claims/{claim.Id}");
        await Expect(page.GetByTestId("replaced-by")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("replace")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task a_primary_era_leaves_coinsurance_which_goes_to_the_copay_assistance_program_as_a_secondary_claim_that_is_sent_and_paid()
    {
        var (api, patient, _, claim) = await FiledClaimAsync("Theodora", "Achebe-Lindgren");

        // The drug maker's program, enrolled on the Coverage tab and billed through its payer.
        var page = await browser.SignedInAsync(Billing, $"/patients/{patient}");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Coverage" }).ClickAsync();
        await page.GetByTestId("add-copay-assistance").ClickAsync();
        await page.GetByTestId("copay-program").FillAsync("Spravato withMe");
        await page.GetByTestId("copay-member-id").FillAsync("SWM-40417");
        await page.GetByTestId("copay-maximum").FillAsync("500");
        await page.GetByTestId("copay-from").FillAsync(Fmt.Date(Today.AddDays(-90)));
        await page.GetByTestId("copay-payer").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "Spravato withMe copay assistance" }).ClickAsync();
        await page.GetByTestId("copay-member-id").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("copay-table")).ToContainTextAsync("Spravato withMe copay assistance");

        // The primary's ERA: 288.00 paid, 72.00 coinsurance left to the patient.
        page = await browser.SignedInAsync(Billing, "/remittances");
        var trace = $"CB{Guid.NewGuid():N}"[..16];
        await page.Locator("input[type=file]").SetInputFilesAsync(await FileAsync($"{trace}.835", Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 288m, Today,
            [new Remittance835Builder.Clp(claim.ControlNumber, "1", 450m, 288m, 72m,
                new Remittance835Builder.Svc("96365", 450m, 288m, Today.AddDays(-12), $"{claim.ControlNumber}-1", ("CO", "45", 90m), ("PR", "2", 72m)))])));
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync("1 claim(s) posted", new() { Timeout = 20_000 });

        // The primary claim names its secondary claim, which carries the primary's decision.
        var programs = (await api.GetFromJsonAsync<CoverageHistory>($"/api/patients/{patient}/coverage-history", ClientCommands.Json, Ct))!.CopayAssistance;
        Assert.Equal(DemoIds.CopayAssistance, Assert.Single(programs).PayerId);
        var adjudicated = (await ClaimAsync(api, claim.Id))!;
        Assert.True(adjudicated.SecondaryClaimId is not null, $"{adjudicated.Status}: {adjudicated.SecondaryNotPrepared}; {string.Join(" | ", adjudicated.History.Select(h => h.What))}");
        await page.GotoAsync($"/claims/{claim.Id}");
        await Expect(page.GetByTestId("secondary-claim")).ToBeVisibleAsync();
        await page.GetByTestId("secondary-claim").GetByRole(AriaRole.Link).ClickAsync();
        await Expect(page.GetByTestId("prior-payer")).ToContainTextAsync($"the primary payer paid {Fmt.Money(288m)} and left {Fmt.Money(72m)} to the patient");
        await page.AssertAccessibleAsync("a secondary claim");
        var secondary = (await ClaimAsync(api, SecondaryClaims.IdOf(claim.Id)))!;
        Assert.Equal(("filed", DemoIds.CopayAssistance), (secondary.Status, secondary.PayerId));

        // Sent in an 837 batch from the claims page.
        page = await browser.SignedInAsync(Billing, "/claims");
        await page.GetByTestId("claims-search").FillAsync(secondary.ControlNumber);
        var row = page.GetByTestId("claims-table").Locator("tbody tr").Filter(new() { HasText = secondary.ControlNumber });
        // The search has reloaded the table (one row left): a reload after the box is ticked would clear the selection.
        await Expect(page.GetByTestId("claims-table").Locator("tbody tr")).ToHaveCountAsync(1, new() { Timeout = 20_000 });
        await Expect(row).ToHaveCountAsync(1);
        await row.Locator("input[type=checkbox]").CheckAsync();
        await Expect(page.GetByTestId("export-837")).ToContainTextAsync("for 1 selected");
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("export-837").ClickAsync(), new() { Timeout = 30_000 });
        var sent = await File.ReadAllTextAsync(await download.PathAsync(), Ct);
        Assert.Contains($"CLM*{secondary.ControlNumber}*450*", sent);
        Assert.Contains("SBR*P*18*GRP-1******CI~", sent);
        Assert.Contains("AMT*D*288~", sent);
        Assert.Contains("SVD*BPH01*288*HC:96365**1~", sent);
        await Expect(page.GetByTestId("batch-result")).ToContainTextAsync("837P batch of 1 claim(s) saved");

        // The program pays the 72.00: nothing is left to the patient.
        page = await browser.SignedInAsync(Billing, "/remittances");
        var second = $"CA{Guid.NewGuid():N}"[..16];
        await page.Locator("input[type=file]").SetInputFilesAsync(await FileAsync($"{second}.835", Remittance835Builder.Build(second, "SPRAVATO WITHME", "SPRCA1", 72m, Today,
            [new Remittance835Builder.Clp(secondary.ControlNumber, "2", 450m, 72m, 0m,
                new Remittance835Builder.Svc("96365", 450m, 72m, Today.AddDays(-12), $"{secondary.ControlNumber}-1", ("OA", "23", 378m)))])));
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync("1 claim(s) posted", new() { Timeout = 20_000 });
        Assert.Equal(("paid", 72m), (await ClaimAsync(api, secondary.Id)) is { } paid ? (paid.Status, paid.Paid) : default);
        var balance = (await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, Ct))!;
        Assert.Equal((0m, 0m, 360m), (balance.PatientDue, balance.InsurancePending, balance.TotalInsurancePaid));
    }

    [Fact]
    public async Task a_payers_duplicate_payment_is_refunded_from_the_claim_page_and_the_remittance_shows_how_its_plb_posted()
    {
        var (api, _, _, claim) = await FiledClaimAsync("Cordelia", "Mbeki-Sørensen");
        async Task PostAsync(string trace, decimal total, params (string, string, decimal)[] plb)
        {
            var file = Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", total, Today,
                [new Remittance835Builder.Clp(claim.ControlNumber, "1", 450m, 288m, 72m,
                    new Remittance835Builder.Svc("96365", 450m, 288m, Today.AddDays(-12), $"{claim.ControlNumber}-1", ("CO", "45", 90m), ("PR", "2", 72m)))], plb);
            using var posted = await api.PostAsync("/api/remittances", new StringContent(file), Ct);
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync(Ct));
        }

        // Paid, then paid again on another check with 4.10 of interest: 288.00 is owed back to the payer.
        await PostAsync($"OP{Guid.NewGuid():N}"[..16], 288m);
        var second = $"OQ{Guid.NewGuid():N}"[..16];
        await PostAsync(second, 292.1m, ("L6", "", -4.1m));

        var page = await browser.SignedInAsync(Billing, $"/claims/{claim.Id}");
        await Expect(page.GetByTestId("payer-credit")).ToContainTextAsync($"{Fmt.Money(288m)} is owed back to it");
        await page.GetByTestId("refund-payer").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToBeVisibleAsync();
        await page.AssertAccessibleAsync("the refund-to-payer dialog");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByRole(AriaRole.Dialog)).ToContainTextAsync("Check number is required");
        await page.GetByTestId("refund-check").FillAsync("10442");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("payer-credit")).ToContainTextAsync("all of it was returned");
        await Expect(page.GetByTestId("payer-credit")).ToContainTextAsync("Refunded by check 10442");
        Assert.Equal(0m, (await ClaimAsync(api, claim.Id))!.PayerCredit!.Open);

        var remittance = (await api.GetFromJsonAsync<KetamineBilling.Features.Remittances.RemittancePage>($"/api/remittances?search={second}", ClientCommands.Json, Ct))!
            .Items.Single(r => r.TraceNumber == second);
        await page.GotoAsync($"/remittances/{remittance.Id}");
        await Expect(page.GetByTestId("provider-adjustment-posted")).ToHaveTextAsync($"Interest paid: {Fmt.Money(4.1m)}");
        await page.AssertAccessibleAsync("a remittance with provider adjustments");
    }
}
