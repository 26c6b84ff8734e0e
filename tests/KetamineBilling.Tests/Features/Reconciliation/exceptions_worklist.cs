using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Reconciliation;

public class exceptions_worklist(AppFixture fixture) : IntegrationContext(fixture)
{
    private const decimal SessionCharge = 450m + 60m;
    private DateOnly _today;
    private Guid _payer;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _today = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Today();
        await Fixture.PricedCode("96365", 450m);
        await Fixture.PricedCode("J3490", 60m);
        _payer = await Fixture.Payer("Blue Prairie Health", "BPH01");
    }

    private Task<SessionCharge> Deliver(Guid patient, int age, string funding, Guid? series = null, params (string, int)[] lines) => Fixture.AndWaitForCascades(() =>
        Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: _today.AddDays(-age), lines: lines.Length == 0 ? [("96365", 1), ("J3490", 1)] : lines)
            with { Funding = [funding], SeriesId = series }));

    private async Task<List<ExceptionItem>> Items(string? type = null) =>
        (await Fixture.GetCaughtUp<ExceptionPage>($"/api/reconciliation/exceptions{(type is null ? "" : $"?type={type}")}")).Items.ToList();

    private async Task<ExceptionItem> Only(string type) => Assert.Single(await Items(type));

    [Fact]
    public async Task credits_unbilled_sessions_and_patient_side_exceptions_appear_with_amount_and_age_and_go_when_resolved()
    {
        // A card payment larger than the one charge: the rest is a credit balance with nothing to apply it to...
        var ines = await Fixture.RegisteredPatient("Ines", "Aldana");
        await Deliver(ines, 10, "self-pay");
        var card = await Fixture.Post<PaymentResult>($"/api/patients/{ines}/payments", new RecordPayment(Guid.NewGuid(), "card", 600m, _today.AddDays(-1), "VISA-4411"));
        var credit = await Only("credit-balance");
        Assert.Equal((ines, 90m, _today.AddDays(-1), 1, "VISA-4411"), (credit.PatientId!.Value, credit.Amount, credit.Since, credit.AgeDays, credit.Reference));
        Assert.Equal($"credit-balance:{card.PaymentId}", credit.Key);
        // ...until the patient owes again: then it is an unapplied payment, gone once the credit is applied.
        await Deliver(ines, 2, "self-pay");
        Assert.Empty(await Items("credit-balance"));
        Assert.Equal(90m, (await Only("unapplied-payment")).Amount);
        await Fixture.Post<object>($"/api/patients/{ines}/credit-applications", new ApplyCredit(Guid.NewGuid(), null, null, null), 200);
        Assert.Empty(await Items("unapplied-payment"));

        // An insured session on no claim after 7 days (and with no authorization): unbilled, and beyond authorization.
        var tobias = await Fixture.RegisteredPatient("Tobias", "Reinholt");
        await Fixture.Coverage(tobias, _payer);
        var recent = await Deliver(tobias, 5, "insurance");
        var old = await Deliver(tobias, 12, "insurance");
        var unbilled = await Only("unbilled-session");
        Assert.Equal((tobias, SessionCharge, 12), (unbilled.PatientId!.Value, unbilled.Amount, unbilled.AgeDays));
        Assert.Equal(2, (await Items("beyond-authorization")).Count);
        // Its fix: the patient's prior authorizations, to approve or extend.
        Assert.All(await Items("beyond-authorization"), i => Assert.Equal($"/patients/{tobias}?do=authorizations", i.Fix));
        await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), tobias, _payer, [old.SessionId, recent.SessionId]));
        Assert.Empty(await Items("unbilled-session"));

        // A grant-funded session with no award: it fell to the patient.
        var odile = await Fixture.RegisteredPatient("Odile", "Fairweather");
        await Deliver(odile, 3, "grant");
        var grantGap = await Only("cap-exceeded");
        Assert.Equal((odile, SessionCharge), (grantGap.PatientId!.Value, grantGap.Amount));
        await Fixture.Post<PaymentResult>($"/api/patients/{odile}/payments", new RecordPayment(Guid.NewGuid(), "cash", SessionCharge, _today, "cash"));
        Assert.Empty(await Items("cap-exceeded"));

        // FSA money on a session no letter of medical necessity covers, until a letter is recorded.
        var wren = await Fixture.RegisteredPatient("Wren", "Castellano");
        await Deliver(wren, 6, "self-pay");
        await Fixture.Post<PaymentResult>($"/api/patients/{wren}/payments", new RecordPayment(Guid.NewGuid(), "fsa", 200m, _today.AddDays(-2), "FSA card"));
        var fsa = await Only("fsa-without-letter");
        Assert.Equal((wren, 200m, 2), (fsa.PatientId!.Value, fsa.Amount, fsa.AgeDays));
        Assert.Equal($"/patients/{wren}?do=letter", fsa.Fix);
        await Fixture.Post<object>($"/api/patients/{wren}/medical-necessity-letters", new RecordLetterOfMedicalNecessity(Guid.NewGuid(),
            "Treatment-resistant depression", "IV ketamine series", "6 infusions over 3 weeks", _today.AddDays(-30), _today.AddDays(180), AppFixture.ProviderId));
        Assert.Empty(await Items("fsa-without-letter"));

        // Self-pay charges 420.00 above the Good Faith Estimate of 900.00 (two infusions): 1,320.00 billed.
        var bastian = await Fixture.RegisteredPatient("Bastian", "Quill");
        var series = Guid.NewGuid();
        await Fixture.Post<object>($"/api/patients/{bastian}/series", new PlanSeries(series, "Two infusions", 2, null));
        await Fixture.Post<GoodFaithEstimateIssued>($"/api/patients/{bastian}/good-faith-estimates",
            new IssueGoodFaithEstimate(Guid.NewGuid(), series, null, [new EstimateLineInput("96365", 2)]));
        await Deliver(bastian, 9, "self-pay", series);
        await Deliver(bastian, 4, "self-pay", series, ("96365", 1), ("J3490", 6));
        var over = await Only("over-estimate");
        Assert.Equal((bastian, SessionCharge + 450m + 6 * 60m - 2 * 450m, 4), (over.PatientId!.Value, over.Amount, over.AgeDays));
        Assert.Equal($"/patients/{bastian}?do=discount", over.Fix);
        // The patient page's discount dialog starts at the series the alert names.
        Assert.Equal(series, (await Fixture.Get<PatientBalance>($"/api/patients/{bastian}/balance")).Alerts.Single(a => a.Kind == "estimate-exceeded").SeriesId);
        await Fixture.Post<GoodFaithEstimateIssued>($"/api/patients/{bastian}/good-faith-estimates",
            new IssueGoodFaithEstimate(Guid.NewGuid(), series, null, [new EstimateLineInput("96365", 2), new EstimateLineInput("J3490", 7)]));
        Assert.Empty(await Items("over-estimate"));

        // The summary adds up the list; filters narrow it; the types come in their order, the oldest first within each.
        var page = await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions");
        Assert.Equal(page.Items.Count, page.Summary.Sum(s => s.Count));
        Assert.Equal(page.Items.Sum(i => i.Amount), page.TotalAmount);
        Assert.Equal(page.Items.OrderBy(i => Array.IndexOf(ExceptionsWorklist.Types, i.Type)).ThenByDescending(i => i.AgeDays).Select(i => i.Key), page.Items.Select(i => i.Key));
        // The text filter looks in the patient's name, the reference and the detail, in any case.
        var someone = page.Items.Last(i => i.Patient is not null).Patient!;
        var found = await Fixture.GetCaughtUp<ExceptionPage>($"/api/reconciliation/exceptions?search={Uri.EscapeDataString(someone.ToUpperInvariant())}");
        Assert.Equal(page.Items.Where(i => i.Patient == someone).Select(i => i.Key), found.Items.Select(i => i.Key));
        Assert.NotEmpty(found.Items);
        Assert.Equal(found.Items.Count, found.Total);
        Assert.Equal(page.Summary.Where(s => found.Items.Any(i => i.Type == s.Type)).Select(s => s.Type), found.Summary.Select(s => s.Type));
        var summary = await Fixture.GetCaughtUp<List<ExceptionSummary>>("/api/reconciliation/exceptions/summary", As.Finance);
        Assert.Equal(page.Summary, summary);
        var older = await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?olderThanDays=8");
        Assert.All(older.Items, i => Assert.True(i.AgeDays > 8));
        Assert.Equal(page.Items.Count(i => i.AgeDays > 8), older.Total);
    }

    [Fact]
    public async Task unanswered_claims_denied_lines_and_unmatched_remittance_items_are_worked_off_the_list()
    {
        var marisol = await Fixture.RegisteredPatient("Marisol", "Vantongeren");
        await Fixture.Coverage(marisol, _payer);
        var session = await Deliver(marisol, 20, "insurance");
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), marisol, _payer, [session.SessionId]));

        // A claim filed 45 days ago (recorded as it happened) that the payer never answered.
        var oldClaim = Guid.NewGuid();
        var filedAt = DateTimeOffset.UtcNow.AddDays(-45);
        await using (var write = Fixture.Store.LightweightSession(AppFixture.Clinic))
        {
            write.Events.StartStream<Claim>(oldClaim, new ClaimFiled(oldClaim, marisol, _payer, Guid.NewGuid(), "KB-OLD-000045", [], ["F33.2"], null, null, [], 730m, filedAt));
            await write.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        var unanswered = await Only("claim-no-response");
        Assert.Equal((oldClaim, 730m, _today.DayNumber - DateOnly.FromDateTime(filedAt.UtcDateTime).DayNumber), (unanswered.ClaimId!.Value, unanswered.Amount, unanswered.AgeDays));
        // Its fix: the claims list found by its number, where it is sent again as a resubmission.
        Assert.Equal("/claims?search=KB-OLD-000045", unanswered.Fix);
        Assert.Contains("Resubmission", unanswered.Resolution, StringComparison.Ordinal);
        await Fixture.Post<ClaimView>($"/api/claims/{oldClaim}/acknowledge", new { }, 200);
        Assert.Single(await Items("claim-no-response"));
        await Fixture.Post<ClaimView>($"/api/claims/{oldClaim}/reject", new RejectClaim("never received by the payer"), 200);
        Assert.Empty(await Items("claim-no-response"));

        // Both lines denied (no authorization): each is open with the payer until appealed.
        await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/eob", new PostEob(Guid.NewGuid(), "EOB-1", [
            new EobLine(1, 0m, 0m, [new EobAdjustment("CO", "197", 450m)], null),
            new EobLine(2, 0m, 0m, [new EobAdjustment("CO", "197", 60m)], null)
        ]), 200);
        var denied = await Items("denied-line");
        Assert.Equal([450m, 60m], denied.OrderBy(d => d.Key).Select(d => d.Amount));
        Assert.All(denied, d => Assert.Equal((claim.Id, 20), (d.ClaimId!.Value, d.AgeDays)));
        await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/appeal", new AppealClaim("Authorization was requested in time", null), 200);
        Assert.Empty(await Items("denied-line"));

        // A remittance for a claim the clinic cannot find.
        var file = Build("CHK777001", "BLUE PRAIRIE HEALTH", "BPH01", 100m, _today, [
            new Clp("KB9999UNKNOWN", "1", 510m, 100m, 0m,
                new Svc("96365", 450m, 100m, _today.AddDays(-80), null, ("CO", "45", 350m)), new Svc("J3490", 60m, 0m, _today.AddDays(-80), null, ("CO", "45", 60m)))
        ]);
        var posted = await Fixture.Call(As.Billing, s =>
        {
            s.Post.Text(file).ToUrl("/api/remittances");
            s.StatusCodeShouldBeOk();
        });
        var remittanceId = System.Text.Json.JsonDocument.Parse(await posted.ReadAsTextAsync()).RootElement.GetProperty("remittances")[0].GetProperty("remittanceId").GetGuid();
        var unmatched = await Only("unmatched-remittance-item");
        Assert.Equal((100m, 0), (unmatched.Amount, unmatched.AgeDays));
        // Its date is the day it came in UTC: in the clinic's evening that is already tomorrow, and it shows all the same.
        await using (var query = Store.QuerySession(AppFixture.Clinic))
        {
            var dayBefore = await WorklistReads.AllAsync(query, unmatched.Since.AddDays(-1), new WorklistFilter("unmatched-remittance-item"), TestContext.Current.CancellationToken);
            Assert.Equal((unmatched.Key, 0), (Assert.Single(dayBefore).Key, dayBefore[0].AgeDays));
        }

        Assert.Contains("KB9999UNKNOWN", unmatched.Reference);
        // Its fix: the remittance's own page (match by hand).
        Assert.Equal($"/remittances/{remittanceId}", unmatched.Fix);

        var csv = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url("/api/reconciliation/exceptions?format=csv");
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe("text/csv");
        });
        var lines = (await csv.ReadAsTextAsync()).TrimStart('\uFEFF').TrimEnd('\n').Split('\n');
        Assert.Equal("type,since,age_days,amount,patient_id,patient,claim_id,reference,detail,resolution,key", lines[0]);
        Assert.Equal((await Items()).Count, lines.Length - 1);
    }

    [Fact]
    public async Task pages_come_from_the_server_in_one_order_and_the_counts_never_depend_on_the_page_asked()
    {
        // Three insured patients with a session of 12 days ago on no claim: three unbilled sessions, three beyond any
        // authorization and three with no address; two self-pay overpayments: two credit balances.
        var insured = new List<Guid>();
        foreach (var (first, last) in new[] { ("Agnes", "Holloway"), ("Bruno", "Castell"), ("Cato", "Linde") })
        {
            var patient = await Fixture.RegisteredPatient(first, last);
            await Fixture.Coverage(patient, _payer);
            await Deliver(patient, 12, "insurance");
            insured.Add(patient);
        }

        foreach (var (first, last) in new[] { ("Dora", "Quist"), ("Emil", "Sandor") })
        {
            var patient = await Fixture.RegisteredPatient(first, last);
            await Deliver(patient, 10, "self-pay");
            await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments", new RecordPayment(Guid.NewGuid(), "card", 600m, _today.AddDays(-1), "VISA"));
        }

        var all = await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions");
        Assert.Equal(new Dictionary<string, int> { ["credit-balance"] = 2, ["unbilled-session"] = 3, ["beyond-authorization"] = 3, ["missing-address"] = 3 },
            all.Summary.ToDictionary(s => s.Type, s => s.Count));

        // Pages of 4 in one order (the types in order, the oldest first): every item once, the counts the same on every page.
        var pages = new List<ExceptionPage>();
        for (var n = 1; n <= 4; n++) pages.Add(await Fixture.GetCaughtUp<ExceptionPage>($"/api/reconciliation/exceptions?page={n}&pageSize=4"));
        Assert.Equal([4, 4, 3, 0], pages.Select(p => p.Items.Count));
        Assert.Equal(all.Items.Select(i => i.Key), pages.SelectMany(p => p.Items).Select(i => i.Key));
        Assert.All(pages, p =>
        {
            Assert.Equal((all.Total, all.TotalAmount, 3, 4), (p.Total, p.TotalAmount, p.PageCount, p.PageSize!.Value));
            Assert.Equal(all.Summary, p.Summary);
        });

        // A type asked: its items paged, the summary still by every type (the chips), the total of that type.
        var unbilled = await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=unbilled-session&page=2&pageSize=2");
        Assert.Equal((1, 3, 2), (unbilled.Items.Count, unbilled.Total, unbilled.PageCount));
        Assert.Equal(all.Summary, unbilled.Summary);

        // Bad paging is named.
        var problem = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/reconciliation/exceptions?page=0&pageSize=501&search={new string('x', 101)}");
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal(["page", "pageSize", "search"], (await problem.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys.Order());
    }

    [Fact]
    public async Task every_item_links_to_the_screen_that_resolves_it()
    {
        // An insured patient with no address and an unbilled session; one with an address on file.
        var homeless = await Fixture.RegisteredPatient("Ferdinand", "Oyelaran");
        await Fixture.Coverage(homeless, _payer);
        var session = await Deliver(homeless, 12, "insurance");
        var housed = (await Fixture.Post<PatientCreated>("/api/patients", new RegisterPatient("Greta", "Munck", new DateOnly(1980, 2, 3), null, null,
            new PostalAddress("12 Elm Street", null, "Springfield", "IL", "62701")), 201)).Id;
        await Fixture.Coverage(housed, _payer);
        await Deliver(housed, 12, "insurance");
        var overpaid = await Fixture.RegisteredPatient("Hilde", "Aas");
        await Deliver(overpaid, 10, "self-pay");
        await Fixture.Post<PaymentResult>($"/api/patients/{overpaid}/payments", new RecordPayment(Guid.NewGuid(), "card", 600m, _today.AddDays(-1), "VISA"));

        var missing = await Only("missing-address");
        Assert.Equal((homeless, SessionCharge, 12, $"/patients/{homeless}?edit=details"), (missing.PatientId!.Value, missing.Amount, missing.AgeDays, missing.Fix));
        Assert.Contains("address", missing.Resolution, StringComparison.Ordinal);
        Assert.Contains($"({Fmt.Money(SessionCharge)} still owed by the payer)", missing.Detail, StringComparison.Ordinal);
        Assert.Equal($"/patients/{homeless}", (await Items("unbilled-session")).Single(i => i.PatientId == homeless).Fix);
        Assert.Equal($"/patients/{overpaid}", (await Only("credit-balance")).Fix);

        // Once the claim is filed and denied, the denied lines lead to the claim (its appeal).
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), homeless, _payer, [session.SessionId]));
        await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/eob", new PostEob(Guid.NewGuid(), "EOB-9", [
            new EobLine(1, 0m, 0m, [new EobAdjustment("CO", "197", 450m)], null),
            new EobLine(2, 0m, 0m, [new EobAdjustment("CO", "197", 60m)], null)
        ]), 200);
        Assert.All(await Items("denied-line"), i => Assert.Equal($"/claims/{claim.Id}", i.Fix));
        // A write-off takes only what the patient owes, so the fix offered is the appeal (the claim page's), never a write-off.
        Assert.All(await Items("denied-line"), i => Assert.StartsWith("Appeal the claim", i.Resolution, StringComparison.Ordinal));
        Assert.All(await Items("denied-line"), i => Assert.DoesNotContain("write the line off", i.Resolution, StringComparison.Ordinal));

        // Every item has a screen of its own, never the worklist itself.
        Assert.All(await Items(), i => Assert.StartsWith("/", i.Fix, StringComparison.Ordinal));
        Assert.All(await Items(), i => Assert.NotEqual("/reconciliation", i.Fix));
    }

    [Fact]
    public async Task bad_filters_are_named_and_employers_may_not_see_the_worklist()
    {
        var problem = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url("/api/reconciliation/exceptions?type=nonsense&olderThanDays=-1");
            s.StatusCodeShouldBe(400);
        });
        var errors = (await problem.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors;
        Assert.Equal(["olderThanDays", "type"], errors.Keys.Order());
        Assert.Contains("unbilled-session", errors["type"].Single());
        await Fixture.Call(As.EmployerA, s =>
        {
            s.Get.Url("/api/reconciliation/exceptions");
            s.StatusCodeShouldBe(403);
        });
    }
}
