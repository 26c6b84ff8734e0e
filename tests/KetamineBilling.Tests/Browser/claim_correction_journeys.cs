using System.Net.Http.Json;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>
/// Issue 19 in the browser: a claim the payer's 277CA rejects, corrected and filed again, then paid; a denied claim replaced
/// by a corrected one through its dialog.
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
}
