using System.Net.Http.Json;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Eligibility;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>
/// Issue 20 in the browser: a visit scheduled on the patient's Coverage tab, a 270 downloaded for the coverage, the payer's 271
/// uploaded, and the benefits it gives shown there and on tomorrow's visits list.
/// </summary>
[Collection("browser")]
public class eligibility_journeys(BrowserFixture browser)
{
    private const string Billing = "billing@demo.test";

    private DateOnly Today => browser.Services.GetRequiredService<ClinicCalendar>().Today();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> FileAsync(string name, string content)
    {
        var file = Path.Combine(Path.GetTempPath(), name);
        await File.WriteAllTextAsync(file, content, Ct);
        return file;
    }

    [Fact]
    public async Task eligibility_is_checked_from_an_uploaded_271_and_its_benefits_are_shown_on_the_patient_and_tomorrows_visits()
    {
        var api = await browser.ApiAsync(Billing);
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient("Evander", "Okonkwo-Lindqvist", new DateOnly(1983, 2, 11), null, null))).Id;
        var coverage = await ClientCommands.PostAsync<CoverageRecorded>(api, $"/api/patients/{patient}/coverages",
            new RecordCoverage(null, DemoIds.BluePrairie, "BPH55120034", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: Today.AddDays(-200)));

        // A visit tomorrow, scheduled on the Coverage tab: not checked yet.
        var page = await browser.SignedInAsync(Billing, $"/patients/{patient}?do=coverage");
        await page.GetByTestId("schedule-visit").ClickAsync();
        await page.GetByTestId("visit-time").FillAsync("08:45");
        await page.GetByTestId("visit-purpose").FillAsync("Ketamine infusion, session 3");
        await page.GetByTestId("save").ClickAsync();
        var visits = page.GetByTestId("visits-table");
        await Expect(visits).ToContainTextAsync("Ketamine infusion, session 3");
        await Expect(visits.GetByTestId("eligibility-status")).ToHaveTextAsync("Not checked");

        // The 270 for the coverage, downloaded; the payer's 271 answering its trace, uploaded.
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId($"check-eligibility-{coverage.CoverageId}").ClickAsync());
        var inquiry = X12Reader.Read(await File.ReadAllTextAsync(await download.PathAsync(), Ct));
        var segments = Assert.Single(inquiry.Transactions).Segments;
        Assert.Contains(segments, s => s.Id == "NM1" && s[1] == "IL" && s[9] == "BPH55120034");
        var trace = segments.Single(s => s.Id == "TRN")[2];
        await Expect(page.GetByTestId("eligibility-asked")).ToContainTextAsync("270 inquiry saved");

        var control = Random.Shared.Next(100_000, 999_999_999);
        var answer = Eligibility271Builder.Build("BPH01", control, Today, "BLUE PRAIRIE HEALTH", "BPH01",
            new Eligibility271Builder.Member(trace, "BPH55120034", "OKONKWO-LINDQVIST", "EVANDER", Eligibility271Builder.Active));
        await page.Locator("input[type=file][accept*='.271']").SetInputFilesAsync(await FileAsync($"elig{control}.271", answer));
        await Expect(page.GetByTestId("upload-271-result")).ToContainTextAsync("1 answer(s) recorded", new() { Timeout = 20_000 });

        var card = page.GetByTestId($"eligibility-{coverage.CoverageId}");
        await Expect(card.GetByTestId("eligibility-status")).ToHaveTextAsync("Verified");
        await Expect(card.GetByTestId("benefit-active")).ToContainTextAsync("Active · SILVER PPO 2000");
        await Expect(card.GetByTestId("benefit-deductible")).ToHaveTextAsync($"{Fmt.Money(1500m)} a year · {Fmt.Money(600m)} left");
        await Expect(card.GetByTestId("benefit-oop")).ToHaveTextAsync($"{Fmt.Money(4000m)} a year · {Fmt.Money(2900m)} left");
        await Expect(card.GetByTestId("benefit-coinsurance")).ToHaveTextAsync("20%");
        await Expect(card.GetByTestId("benefit-copay")).ToHaveTextAsync(Fmt.Money(40m));
        await Expect(card.GetByTestId("benefit-authorization")).ToHaveTextAsync("Required");
        await Expect(visits.GetByTestId("eligibility-status")).ToHaveTextAsync("Verified");
        await page.AssertAccessibleAsync("the patient's eligibility and visits");

        // Tomorrow's visits: the patient is verified.
        page = await browser.SignedInAsync(Billing, "/visits");
        var row = page.GetByTestId("day-visits").Locator("tbody tr").Filter(new() { HasText = "Evander Okonkwo-Lindqvist" });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row.GetByTestId("eligibility-status")).ToHaveTextAsync("Verified");
        await Expect(row).ToContainTextAsync("08:45");
        await page.AssertAccessibleAsync("tomorrow's visits");
        var day = await api.GetFromJsonAsync<DayVisits>("/api/visits", ClientCommands.Json, Ct);
        Assert.Equal("current", day!.Visits.Single(v => v.PatientId == patient).Status);
    }

    [Fact]
    public async Task an_estimate_is_built_for_a_self_pay_patient_and_its_good_faith_estimate_is_issued_and_downloaded()
    {
        var api = await browser.ApiAsync(Billing);
        var patient = (await ClientCommands.PostAsync<PatientCreated>(api, "/api/patients", new RegisterPatient("Leocadia", "Fairweather-Ngata", new DateOnly(1990, 12, 4), null, null))).Id;

        // From the patient's page: More, Estimate a series.
        var page = await browser.SignedInAsync(Billing, $"/patients/{patient}");
        await page.GetByTestId("more-actions").ClickAsync();
        await page.GetByTestId("estimate-series").ClickAsync();
        await Expect(page.GetByTestId("series-builder")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("estimate-code-0")).ToHaveValueAsync("96365");
        await page.GetByTestId("run-estimate").ClickAsync();

        // Six infusions at the cash prices (400.00 and 50.00): no insurance to compare.
        await Expect(page.GetByTestId("estimate-advice")).ToContainTextAsync($"the patient pays the cash price, {Fmt.Money(2700m)}", new() { Timeout = 20_000 });
        await Expect(page.GetByTestId("estimate-self-pay")).ToContainTextAsync($"Self-pay: {Fmt.Money(2700m)}");
        await Expect(page.GetByTestId("estimate-insurance")).ToContainTextAsync("No insurance");
        await page.AssertAccessibleAsync("the series estimate");

        // The Good Faith Estimate, issued from it and downloaded.
        await page.GetByTestId("gfe-diagnoses").FillAsync("F33.2");
        await page.GetByTestId("issue-gfe").ClickAsync();
        await Expect(page.GetByTestId("download-gfe")).ToBeVisibleAsync(new() { Timeout = 20_000 });
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("download-gfe").ClickAsync());
        Assert.StartsWith("good-faith-estimate-", download.SuggestedFilename);
        using (var pdf = UglyToad.PdfPig.PdfDocument.Open(await File.ReadAllBytesAsync(await download.PathAsync(), Ct)))
        {
            var text = string.Join(" ", pdf.GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text));
            foreach (var expected in new[] { "Good Faith Estimate", "Leocadia Fairweather-Ngata", "F33.2", "96365", "J3490", Fmt.Money(2700m), "www.cms.gov/nosurprises" })
                Assert.Contains(expected, text);
        }

        // The estimate stands on the account: the $400 check compares the series with it.
        var balance = await api.GetFromJsonAsync<PatientBalance>($"/api/patients/{patient}/balance", ClientCommands.Json, Ct);
        Assert.NotNull(balance);
        var series = await api.GetFromJsonAsync<List<SeriesView>>($"/api/patients/{patient}/series", ClientCommands.Json, Ct);
        Assert.Equal(("Initial series: six IV ketamine infusions", 6), (Assert.Single(series!).Description, series![0].PlannedSessions));
    }
}
