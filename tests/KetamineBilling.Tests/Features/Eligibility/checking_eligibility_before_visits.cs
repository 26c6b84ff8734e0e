using Alba;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Clearinghouse;
using KetamineBilling.Features.Eligibility;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Mvc;
using static KetamineBilling.Tests.Infrastructure.Eligibility271Builder;

namespace KetamineBilling.Tests.Features.Eligibility;

/// <summary>
/// Eligibility before the visit (issue 20): a 270 for one patient or for the next days' insured visits, the payer's 271 recorded
/// on the coverage with its date, stale after 30 days, and tomorrow's insured visits without a current answer on the worklist.
/// </summary>
public class checking_eligibility_before_visits(AppFixture fixture) : IntegrationContext(fixture)
{
    private static DateOnly Today => Scenarios.ClinicToday;
    private Guid _payer;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _payer = await Fixture.Payer("Blue Prairie Health", "BPH01");
    }

    private async Task<(Guid Patient, Guid Coverage)> Insured(string first, string last, string memberId)
    {
        var patient = await Fixture.RegisteredPatient(first, last, new DateOnly(1981, 3, 9));
        return (patient, await Fixture.Coverage(patient, _payer, memberId));
    }

    private async Task<Guid> Visit(Guid patient, DateOnly on, string time = "09:00") =>
        (await Fixture.Post<VisitScheduled>($"/api/patients/{patient}/visits", new ScheduleVisit(Guid.NewGuid(), on, time, "Ketamine infusion"))).VisitId;

    private async Task<string> Inquiry(RequestEligibility request, int status = 200)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(request, JsonStyle.MinimalApi).ToUrl("/api/eligibility-inquiries");
            s.StatusCodeShouldBe(status);
        });
        return await result.ReadAsTextAsync();
    }

    private async Task<T> Upload<T>(string file, int status = 200)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text(file).ToUrl("/api/eligibility-answers");
            s.StatusCodeShouldBe(status);
        });
        return (await result.ReadAsJsonAsync<T>())!;
    }

    private static IReadOnlyList<string> Traces(string x12) =>
        X12Reader.Read(x12).Transactions.SelectMany(t => t.Segments).Where(s => s.Id == "TRN").Select(s => s[2]).ToList();

    private async Task<int> EligibilityEvents()
    {
        await using var session = Store.QuerySession(AppFixture.Clinic);
        return (await session.Events.QueryAllRawEvents().Where(e => e.EventTypeName == "eligibility_checked").ToListAsync(TestContext.Current.CancellationToken)).Count;
    }

    [Fact]
    public async Task a_270_asks_about_one_patient_and_the_271_that_answers_it_is_recorded_on_the_coverage_once()
    {
        var (patient, coverage) = await Insured("Marisol", "Quenneville", "QMX4410021");
        var request = new RequestEligibility(Guid.NewGuid(), patient);
        var x12 = await Inquiry(request);

        var interchange = X12Reader.Read(x12);
        var set = Assert.Single(interchange.Transactions);
        Assert.Equal(("270", "005010X279A1"), (set.Code, set.Version));
        Assert.Contains(set.Segments, s => s.Id == "NM1" && s[1] == "IL" && s[3] == "QUENNEVILLE" && s[9] == "QMX4410021");
        Assert.Contains(set.Segments, s => s.Id == "NM1" && s[1] == "PR" && s[9] == "BPH01");
        Assert.Equal(["30", "MH"], set.Segments.Where(s => s.Id == "EQ").Select(s => s[1]));
        Assert.Equal(Today.ToString("yyyyMMdd"), set.Segments.Single(s => s.Id == "DTP")[3]);
        var trace = Assert.Single(Traces(x12));
        // The same request again is the same file; another patient under its id is a conflict.
        Assert.Equal(x12, await Inquiry(request));
        await Inquiry(request with { PatientId = await Fixture.RegisteredPatient("Other", "Person") }, 409);

        var answer = Build("BPH01", 7001, Today, "BLUE PRAIRIE HEALTH", "BPH01", new Member(trace, "QMX4410021", "QUENNEVILLE", "MARISOL", Active));
        var imported = await Upload<EligibilityImport>(answer);
        var result = Assert.Single(imported.Results);
        Assert.Equal(("recorded", patient, coverage, true), (result.Effect, result.PatientId!.Value, result.CoverageId!.Value, result.Active));

        var eligibility = await Fixture.Get<PatientEligibility>($"/api/patients/{patient}/eligibility");
        var latest = Assert.Single(eligibility.Coverages).Latest!;
        Assert.False(eligibility.Coverages[0].Stale);
        Assert.Equal((Today, Today, trace), (latest.CheckedOn, latest.ServiceDate!.Value, latest.Trace));
        var a = latest.Answer;
        Assert.Equal((true, "SILVER PPO 2000", 1500m, 600m, 4000m, 2900m, 20m, 40m, true),
            (a.Active, a.Plan, a.Deductible!.Year, a.Deductible.Remaining, a.OutOfPocket!.Year, a.OutOfPocket.Remaining, a.Coinsurance, a.Copay, a.AuthorizationRequired));

        // The same file again changes nothing; other content under its control number is refused.
        var events = await EligibilityEvents();
        Assert.True((await Upload<EligibilityImport>(answer)).Duplicate);
        Assert.Equal(events, await EligibilityEvents());
        await Upload<ProblemDetails>(answer.Replace("*600*", "*500*"), 409);
    }

    [Fact]
    public async Task tomorrows_insured_visits_without_a_current_answer_are_on_the_worklist_asked_about_in_one_batch_and_leave_it_when_answered()
    {
        var tomorrow = Today.AddDays(1);
        var (first, _) = await Insured("Teodoro", "Albrechtsen", "TAL0000001");
        var (second, _) = await Insured("Ines", "Wojcikowska", "IWO0000002");
        var selfPay = await Fixture.RegisteredPatient("Cash", "Only");
        var firstVisit = await Visit(first, tomorrow, "08:30");
        await Visit(second, tomorrow, "10:00");
        await Visit(selfPay, tomorrow, "11:00");
        var later = await Visit(first, Today.AddDays(5));

        var day = await Fixture.Get<DayVisits>("/api/visits");
        Assert.Equal(tomorrow, day.On);
        Assert.Equal([("Teodoro Albrechtsen", "none"), ("Ines Wojcikowska", "none"), ("Cash Only", "self-pay")], day.Visits.Select(v => (v.Patient, v.Status)));
        Assert.Equal(2, day.NeedAttention);
        // The day's list names patients: its read is in the PHI access audit (as a search: who it found is known only once it ran).
        await using (var audit = Store.QuerySession(AppFixture.Clinic))
            Assert.Contains(await audit.Query<KetamineBilling.Features.AccessAudit.PhiAccess>().ToListAsync(TestContext.Current.CancellationToken),
                r => r.View == "visits" && r.Path == "/api/visits");
        var worklist = await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=eligibility-unverified");
        // The visit five days out is not yet shown: from the day before it.
        Assert.Equal([first, second], worklist.Items.Where(i => i.PatientId == first || i.PatientId == second).OrderBy(i => i.Detail.Contains("08:30") ? 0 : 1).Select(i => i.PatientId!.Value));
        Assert.DoesNotContain(worklist.Items, i => i.Key.EndsWith($"{later}", StringComparison.Ordinal));
        Assert.All(worklist.Items, i => Assert.Equal($"/patients/{i.PatientId}?do=coverage", i.Fix));

        var x12 = await Inquiry(new RequestEligibility(Guid.NewGuid(), Days: 1));
        var set = Assert.Single(X12Reader.Read(x12).Transactions);
        Assert.Equal(["ALBRECHTSEN", "WOJCIKOWSKA"], set.Segments.Where(s => s.Id == "NM1" && s[1] == "IL").Select(s => s[3]));
        Assert.Equal(tomorrow.ToString("yyyyMMdd"), set.Segments.First(s => s.Id == "DTP")[3]);
        var traces = Traces(x12);

        await Upload<EligibilityImport>(Build("BPH01", 7002, Today, "BLUE PRAIRIE HEALTH", "BPH01",
            new Member(traces[0], "TAL0000001", "ALBRECHTSEN", "TEODORO", Active), new Member(traces[1], "IWO0000002", "WOJCIKOWSKA", "INES", Inactive)));

        day = await Fixture.Get<DayVisits>("/api/visits");
        Assert.Equal(["current", "inactive", "self-pay"], day.Visits.Select(v => v.Status));
        Assert.Equal(1, day.NeedAttention);
        worklist = await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=eligibility-unverified");
        var left = Assert.Single(worklist.Items, i => i.PatientId == first || i.PatientId == second);
        Assert.Equal(second, left.PatientId);
        Assert.Contains("inactive", left.Detail);

        // Every visit with a current answer: a batch has no one to ask about.
        var refused = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new RequestEligibility(Guid.NewGuid(), Days: 1), JsonStyle.MinimalApi).ToUrl("/api/eligibility-inquiries");
            s.StatusCodeShouldBe(200);
        });
        Assert.Single(Traces(await refused.ReadAsTextAsync()));

        // A cancelled visit leaves the day's list and the worklist.
        await Fixture.Post<VisitCancelled>($"/api/patients/{first}/visits/{firstVisit}/cancel", new CancelVisit("Patient rescheduled"), 200);
        Assert.DoesNotContain((await Fixture.Get<DayVisits>("/api/visits")).Visits, v => v.VisitId == firstVisit);
    }

    [Fact]
    public async Task an_answer_without_a_trace_is_matched_by_member_id_and_one_older_than_thirty_days_is_stale()
    {
        var (patient, coverage) = await Insured("Ruairi", "Fennimore", "RFE7720019");
        var visit = await Visit(patient, Today.AddDays(1));
        var old = Today.AddDays(-40);
        var imported = await Upload<EligibilityImport>(Build("BPH01", 7003, old, "BLUE PRAIRIE HEALTH", "BPH01",
            new Member(null, "RFE7720019", "FENNIMORE", "RUAIRI", Active), new Member(null, "NOBODY00001", "NOBODY", "KNOWN", Active)));
        Assert.Equal([("recorded", (Guid?)coverage), ("unmatched", null)], imported.Results.Select(r => (r.Effect, r.CoverageId)));
        Assert.Contains("no one coverage at BLUE PRAIRIE HEALTH has the member id NOBODY00001", imported.Results[1].Detail);
        // The same member id at another payer is not this coverage.
        var elsewhere = await Upload<EligibilityImport>(Build("OTH01", 7006, Today, "OTHER HEALTH PLAN", "OTH01", new Member(null, "RFE7720019", "FENNIMORE", "RUAIRI", Inactive)));
        Assert.Equal("unmatched", Assert.Single(elsewhere.Results).Effect);

        var eligibility = await Fixture.Get<PatientEligibility>($"/api/patients/{patient}/eligibility");
        Assert.True(eligibility.Coverages[0].Stale);
        Assert.Equal(old, eligibility.Coverages[0].Latest!.CheckedOn);
        var row = Assert.Single(eligibility.Visits);
        Assert.Equal((visit, "stale"), (row.VisitId, row.Status));

        // A refusal (AAA) is recorded as such: the visit needs a call, not another inquiry as it was.
        await Upload<EligibilityImport>(Build("BPH01", 7004, Today, "BLUE PRAIRIE HEALTH", "BPH01", new Member(null, "RFE7720019", "FENNIMORE", "RUAIRI", [], "N**72*C")));
        row = Assert.Single((await Fixture.Get<PatientEligibility>($"/api/patients/{patient}/eligibility")).Visits);
        Assert.Equal("rejected", row.Status);
        Assert.Contains("Invalid/missing subscriber/insured ID (72): Please correct and resubmit", row.Detail);
    }

    [Fact]
    public async Task a_270_goes_to_the_clearinghouse_outbox_and_a_271_in_its_inbox_is_recorded()
    {
        var (patient, coverage) = await Insured("Solveig", "Marchetti", "SMA5550001");
        var x12 = await Inquiry(new RequestEligibility(Guid.NewGuid(), patient, ServiceDate: Today.AddDays(2)));
        var number = int.Parse(X12Reader.Read(x12).ControlNumber);
        var sent = await Fixture.Post<ExchangeResult>("/api/clearinghouse/exchange", new { }, 200);
        Assert.True(sent.Sent >= 1);
        var outbox = Path.Combine(Fixture.ClearinghouseFolder, AppFixture.Clinic, "outbox", ClearinghouseExchange.FileName("270", number));
        Assert.Equal(x12, await File.ReadAllTextAsync(outbox, TestContext.Current.CancellationToken));

        var inbox = Path.Combine(Fixture.ClearinghouseFolder, AppFixture.Clinic, "inbox");
        Directory.CreateDirectory(inbox);
        await File.WriteAllTextAsync(Path.Combine(inbox, "271-answer.x12"),
            Build("BPH01", 7005, Today, "BLUE PRAIRIE HEALTH", "BPH01", new Member(Assert.Single(Traces(x12)), "SMA5550001", "MARCHETTI", "SOLVEIG", Active)),
            TestContext.Current.CancellationToken);
        var received = await Fixture.Post<ExchangeResult>("/api/clearinghouse/exchange", new { }, 200);
        Assert.Equal(1, received.Imported);
        var latest = (await Fixture.Get<PatientEligibility>($"/api/patients/{patient}/eligibility")).Coverages.Single(c => c.Coverage.CoverageId == coverage).Latest!;
        Assert.Equal(Today.AddDays(2), latest.ServiceDate);
        Assert.StartsWith("271 BPH01/", latest.Source);
    }

    [Fact]
    public async Task bad_input_is_refused_naming_the_field_and_writes_nothing()
    {
        var (patient, _) = await Insured("Bad", "Input", "BAD0000001");
        var selfPay = await Fixture.RegisteredPatient("No", "Coverage");
        async Task<ValidationProblemDetails> Refused(string url, object body, int status)
        {
            var result = await Fixture.Call(As.Billing, s =>
            {
                s.Post.Json(body, JsonStyle.MinimalApi).ToUrl(url);
                s.StatusCodeShouldBe(status);
            });
            return (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;
        }

        Assert.Contains("on", (await Refused($"/api/patients/{patient}/visits", new ScheduleVisit(Guid.NewGuid(), Today.AddDays(-1), null, "Infusion"), 422)).Errors.Keys);
        Assert.Contains("time", (await Refused($"/api/patients/{patient}/visits", new ScheduleVisit(Guid.NewGuid(), Today, "9am", "Infusion"), 400)).Errors.Keys);
        Assert.Contains("purpose", (await Refused($"/api/patients/{patient}/visits", new ScheduleVisit(Guid.NewGuid(), Today, null, " "), 400)).Errors.Keys);
        Assert.Contains("reason", (await Refused($"/api/patients/{patient}/visits/{Guid.NewGuid()}/cancel", new CancelVisit(""), 400)).Errors.Keys);
        await Refused($"/api/patients/{patient}/visits/{Guid.NewGuid()}/cancel", new CancelVisit("gone"), 404);
        Assert.Contains("patientId", (await Refused("/api/eligibility-inquiries", new RequestEligibility(Guid.NewGuid()), 400)).Errors.Keys);
        Assert.Contains("days", (await Refused("/api/eligibility-inquiries", new RequestEligibility(Guid.NewGuid(), Days: 30), 400)).Errors.Keys);
        Assert.Contains("patientId", (await Refused("/api/eligibility-inquiries", new RequestEligibility(Guid.NewGuid(), selfPay), 422)).Errors.Keys);
        Assert.Contains("coverageId", (await Refused("/api/eligibility-inquiries", new RequestEligibility(Guid.NewGuid(), patient, Guid.NewGuid()), 422)).Errors.Keys);
        await Refused("/api/eligibility-inquiries", new RequestEligibility(Guid.NewGuid(), Guid.NewGuid()), 404);
        var notX12 = await Upload<ValidationProblemDetails>("hello", 400);
        Assert.Contains("file", notX12.Errors.Keys);
        var not271 = await Upload<ValidationProblemDetails>(Remittance835Builder.Build("T1", "BLUE PRAIRIE HEALTH", "BPH01", 0m, Today, []), 400);
        Assert.Contains("holds no 271", not271.Errors["file"][0]);

        await using var session = Store.QuerySession(AppFixture.Clinic);
        Assert.Equal(0, await session.Query<EligibilityInquiryBatch>().CountAsync(TestContext.Current.CancellationToken));
        Assert.Empty((await Fixture.Get<PatientEligibility>($"/api/patients/{patient}/eligibility")).Visits);
    }
}
