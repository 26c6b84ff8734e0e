using System.Net.Http.Json;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>A billing administrator's day in a real browser, asserting what they see.</summary>
[Collection("browser")]
public class billing_journeys(BrowserFixture browser)
{
    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();



    private async Task<(HttpClient Api, Guid Patient)> PatientAsync(string first, string last)
    {
        var api = await browser.ApiAsync("billing@demo.test");
        var patient = await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient(first, last, new DateOnly(1986, 4, 2), null, null));
        return (api, patient.Id);
    }

    [Fact]
    public async Task an_administrator_records_a_session_and_a_payment_and_sees_the_balance_change()
    {
        var (_, patient) = await PatientAsync("Marisol", "Quintero");
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");
        await Expect(page.GetByTestId("patient-name")).ToHaveTextAsync("Marisol Quintero");
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("0.00");

        // A self-pay infusion with its ketamine at the list prices (450.00 + 60.00), less the cash prices' 60.00.
        await page.GetByTestId("record-session").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("450.00");
        await Expect(page.GetByTestId("sessions-table")).ToContainTextAsync("96365, J3490");
        await Expect(page.GetByTestId("sessions-table")).ToContainTextAsync("510.00");

        await page.GetByTestId("take-payment").ClickAsync();
        await page.GetByLabel("Amount").FillAsync("300");
        await page.GetByLabel("Reference (card last four, check number)").FillAsync("VISA ending 4242");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("patient-due")).ToContainTextAsync("150.00");
        await Expect(page.GetByText("Payment recorded")).ToBeVisibleAsync();

        // The ledger shows both, with the running balance.
        await page.GetByRole(AriaRole.Tab, new() { Name = "Ledger" }).ClickAsync();
        await Expect(page.GetByTestId("ledger-table")).ToContainTextAsync("VISA ending 4242");
        await Expect(page.GetByTestId("ledger-table").Locator("tbody tr").Last).ToContainTextAsync("150.00");
    }

    [Fact]
    public async Task bad_input_in_a_dialog_shows_the_rule_it_broke_and_records_nothing()
    {
        var (api, patient) = await PatientAsync("Tobias", "Lindgren");
        var page = await browser.SignedInAsync("billing@demo.test", $"/patients/{patient}");
        await page.GetByTestId("take-payment").ClickAsync();
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("dialog-error")).ToContainTextAsync("amount");
        var balance = await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, TestContext.Current.CancellationToken);
        Assert.Equal(0m, balance!.TotalPaid);
    }

    [Fact]
    public async Task an_administrator_uploads_an_835_and_sees_the_posted_claim_and_an_unmatched_item()
    {
        var (api, patient) = await PatientAsync("Ingrid", "Halvorsen");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77001", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));
        var served = Today.AddDays(-20);
        var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), served, 45, "main-clinic", [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)], ["F33.2"], "dr-patel", ["insurance"]));
        var claim = await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, DemoIds.BluePrairie, [charge.SessionId]));

        var trace = $"UI{Guid.NewGuid():N}"[..16];
        var file = Path.Combine(Path.GetTempPath(), $"{trace}.835");
        await File.WriteAllTextAsync(file, Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 256m + 90m, Today,
        [
            new Remittance835Builder.Clp(claim.ControlNumber, "1", 510m, 256m, 64m,
                new Remittance835Builder.Svc("96365", 450m, 256m, served, null, ("CO", "45", 130m), ("PR", "2", 64m)),
                new Remittance835Builder.Svc("J3490", 60m, 0m, served, null, ("CO", "45", 60m))),
            new Remittance835Builder.Clp("NOSUCHCLAIM42", "1", 200m, 90m, 0m,
                new Remittance835Builder.Svc("99213", 200m, 90m, served, null, ("CO", "45", 110m)))
        ]), TestContext.Current.CancellationToken);

        var page = await browser.SignedInAsync("billing@demo.test", "/remittances");
        await page.Locator("input[type=file]").SetInputFilesAsync(file);
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync("1 claim(s) posted (2 lines)", new() { Timeout = 20_000 });
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync("1 item(s) could not be matched");
        await Expect(page.GetByTestId("posted-claim")).ToContainTextAsync($"claim {claim.ControlNumber}, paid 256.00");
        await Expect(page.GetByTestId("unmatched")).ToContainTextAsync("NOSUCHCLAIM42");

        // The posted claim, as the claim page shows it: paid, with the CARC in words.
        await page.GetByRole(AriaRole.Link, new() { Name = $"claim {claim.ControlNumber}" }).ClickAsync();
        await Expect(page.GetByTestId("claim-title")).ToContainTextAsync(claim.ControlNumber);
        await Expect(page.GetByTestId("adjudication").First).ToContainTextAsync("Charge exceeds fee schedule");
    }

    [Fact]
    public async Task an_administrator_works_an_exception_until_it_disappears()
    {
        // An insured session of ten days ago on no claim: "not billed after 7 days".
        var (api, patient) = await PatientAsync("Ottilie", "Brandvold");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77002", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));
        var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), Today.AddDays(-10), 45, "main-clinic", [new SessionLineInput("96365", 1), new SessionLineInput("J3490", 1)], ["F33.2"], "dr-patel", ["insurance"]));

        var page = await browser.SignedInAsync("billing@demo.test", "/reconciliation");
        await page.GetByTestId("summary-unbilled-session").ClickAsync();
        var row = page.GetByTestId("worklist").Locator("tr", new() { HasText = "Ottilie Brandvold" });
        await Expect(row).ToBeVisibleAsync();
        await row.GetByTestId("resolve").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex($"/patients/{patient}$"));
        await page.GetByTestId($"file-claim-{charge.SessionId}").ClickAsync();
        await Expect(page.GetByText("filed with Blue Prairie Health")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Link, new() { Name = "Reconciliation" }).ClickAsync();
        await BrowserFixture.LiveAsync(page);
        await page.GetByTestId("summary-unbilled-session").ClickAsync();
        await Expect(page.GetByTestId("worklist")).Not.ToContainTextAsync("Ottilie Brandvold");
    }

    /// <summary>The worklist page as shown: each group's title, the rows under it, and the "N in all" its header says.</summary>
    private const string Groups = """
        () => {
          const groups = [];
          for (const row of document.querySelectorAll('[data-testid=worklist] tbody tr')) {
            const header = row.querySelector('th');
            if (header) { const m = header.textContent.match(/^(.*?)\s*·\s*(\d+) in all/); groups.push({ title: m ? m[1].trim() : header.textContent.trim(), all: m ? +m[2] : -1, rows: 0 }); }
            else if (groups.length > 0 && row.querySelector('[data-testid=resolve]')) groups[groups.length - 1].rows++;
          }
          return groups.map(g => `${g.title}|${g.all}|${g.rows}`);
        }
        """;

    [Fact]
    public async Task the_worklist_never_splits_a_group_across_pages_and_a_missing_address_opens_the_patient_s_details()
    {
        // An insured patient with no address and an unbilled session: an address to add.
        var (api, patient) = await PatientAsync("Waltraud", "Eskeland");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77004", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));
        await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), Today.AddDays(-9), 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["insurance"]));

        var page = await browser.SignedInAsync("billing@demo.test", "/reconciliation");

        var seen = new Dictionary<string, int>();
        var n = 1;
        while (true)
        {
            await Expect(page.GetByTestId("worklist-page-info")).ToContainTextAsync($"Page {n} of ");
            foreach (var group in await page.EvaluateAsync<string[]>(Groups))
            {
                var (title, all, rows) = (group.Split('|')[0], int.Parse(group.Split('|')[1]), int.Parse(group.Split('|')[2]));
                Assert.False(seen.TryGetValue(title, out var earlier), $"'{title}' is on page {earlier} and page {n}");
                seen[title] = n;
                Assert.True(all == rows, $"page {n}: '{title}' shows {rows} of its {all}");
            }

            if (await page.GetByTestId("worklist-next").IsDisabledAsync()) break;
            await page.GetByTestId("worklist-next").ClickAsync();
            n++;
        }

        Assert.True(n >= 2, "the demo's worklist should fill more than one page of 50");
        Assert.Contains("Insured patients with no address on file", seen.Keys);

        // The address item opens the patient's details to edit.
        await page.GetByTestId("summary-missing-address").ClickAsync();
        var row = page.GetByTestId("worklist").Locator("tr", new() { HasText = "Waltraud Eskeland" });
        await Expect(row.GetByTestId("resolve")).ToHaveAttributeAsync("href", $"/patients/{patient}?edit=details");
        await row.GetByTestId("resolve").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/patients/{patient}\\?edit=details$"));
    }

    [Fact]
    public async Task a_remittance_cut_short_shows_on_the_list_and_the_worklist_until_the_same_file_is_uploaded_again()
    {
        var (api, patient) = await PatientAsync("Rasmus", "Oldervik");
        await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH77003", "primary", "GRP-1", ActiveFrom: Today.AddDays(-200)));
        var served = Today.AddDays(-15);
        var charge = await ClientCommands.PostAsync<SessionCharge>(api, $"/api/patients/{patient}/sessions",
            new DeliverSession(Guid.NewGuid(), served, 45, "main-clinic", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-patel", ["insurance"]));
        var claim = await ClientCommands.PostAsync<ClaimView>(api, "/api/claims", new FileClaim(Guid.NewGuid(), patient, DemoIds.BluePrairie, [charge.SessionId]));
        var trace = $"CUT{Guid.NewGuid():N}"[..16];
        var text = Remittance835Builder.Build(trace, "BLUE PRAIRIE HEALTH", "BPH01", 300m, Today,
            [new Remittance835Builder.Clp(claim.ControlNumber, "1", 450m, 300m, 0m, new Remittance835Builder.Svc("96365", 450m, 300m, served, null, ("CO", "45", 150m)))]);

        // What an upload cut short by a crash leaves: the trace claimed for this content, nothing recorded after it.
        var remittance = KetamineBilling.Features.Claims.X12.Remittance835Reader.Read(KetamineBilling.Features.Claims.X12.X12Reader.Read(text)).Single();
        var id = KetamineBilling.Features.Remittances.ImportRemittanceEndpoint.RemittanceId(remittance);
        await using (var session = browser.Services.GetRequiredService<Marten.IDocumentStore>().LightweightSession())
        {
            session.Events.StartStream<KetamineBilling.Features.Remittances.Remittance>(id, new KetamineBilling.Features.Remittances.RemittancePostingStarted(id,
                remittance.PayerName, remittance.PayerIdentifier, DemoIds.BluePrairie, trace, remittance.PaymentMethod, remittance.PaymentAmount, remittance.PaymentDate,
                KetamineBilling.Features.Remittances.ImportRemittanceEndpoint.ContentHash(remittance), 1, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        var page = await browser.SignedInAsync("billing@demo.test", "/reconciliation");
        await page.GetByTestId("summary-remittance-incomplete").ClickAsync();
        var row = page.GetByTestId("worklist").Locator("tr", new() { HasText = trace });
        await Expect(row).ToContainTextAsync("Upload the same 835 file again");
        await row.GetByTestId("resolve").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/remittances$"));
        await BrowserFixture.LiveAsync(page);
        var listed = page.GetByTestId("remittances").Locator("tr", new() { HasText = trace });
        await Expect(listed.GetByTestId("remittance-incomplete")).ToBeVisibleAsync();

        var file = Path.Combine(Path.GetTempPath(), $"{trace}.835");
        await File.WriteAllTextAsync(file, text, TestContext.Current.CancellationToken);
        await page.Locator("input[type=file]").SetInputFilesAsync(file);
        await Expect(page.GetByTestId("upload-result")).ToContainTextAsync("1 claim(s) posted (1 lines)", new() { Timeout = 20_000 });
        await Expect(listed.GetByTestId("remittance-incomplete")).ToHaveCountAsync(0);
        await Expect(listed).ToContainTextAsync("300.00");
    }
}
