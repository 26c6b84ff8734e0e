using System.Text;
using Alba;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using KetamineBilling.Features.Ledger;
using Marten;
using Marten.Events;

namespace KetamineBilling.Tests.Features.Analytics;

public class ar_aging(AppFixture fixture) : IntegrationContext(fixture)
{
    private const decimal Infusion = 450m;
    private const decimal Drug = 60m;
    private const decimal SessionCharge = Infusion + Drug;

    private DateOnly _today;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _today = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Today();
        await Fixture.PricedCode("96365", Infusion);
        await Fixture.PricedCode("J3490", Drug);
    }

    private static int Bucket(int age) => age <= 30 ? 0 : age <= 60 ? 1 : age <= 90 ? 2 : age <= 120 ? 3 : 4;

    private Task<SessionCharge> Deliver(Guid patient, int age, params string[] funding) => Fixture.AndWaitForCascades(() =>
        Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: _today.AddDays(-age), lines: [("96365", 1), ("J3490", 1)]) with { Funding = funding }));

    [Fact]
    public async Task receivables_are_aged_from_the_date_of_service_by_who_owes_them_with_credits_apart()
    {
        // Self-pay: five sessions, one voided, one paid by a card payment that goes to the oldest open charge.
        var selfPay = await Fixture.RegisteredPatient("Ines", "Aldana");
        int[] selfPayAges = [3, 40, 70, 100, 150];
        foreach (var age in selfPayAges) await Deliver(selfPay, age, "self-pay");
        var voided = await Deliver(selfPay, 50, "self-pay");
        await Fixture.Post<object>($"/api/patients/{selfPay}/sessions/{voided.SessionId}/void", new VoidSession("charged twice"), 200);
        await Fixture.Post<PaymentResult>($"/api/patients/{selfPay}/payments", new RecordPayment(Guid.NewGuid(), "card", SessionCharge, _today, "VISA-4411"), 201);

        // Two payers: what is on an open claim is the payer's.
        var bluePrairie = await Fixture.Payer("Blue Prairie Health", "BPH01");
        var lakeshore = await Fixture.Payer("Lakeshore Mutual", "LKM02");
        var insured = await Fixture.RegisteredPatient("Tobias", "Reinholt");
        await Fixture.Coverage(insured, bluePrairie);
        int[] bluePrairieAges = [10, 35];
        var claimed = new List<Guid>();
        foreach (var age in bluePrairieAges) claimed.Add((await Deliver(insured, age, "insurance")).SessionId);
        await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), insured, bluePrairie, claimed));
        var other = await Fixture.RegisteredPatient("Wren", "Castellano");
        await Fixture.Coverage(other, lakeshore, "LK-99120");
        var lakeshoreSession = await Deliver(other, 95, "insurance");
        await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), other, lakeshore, [lakeshoreSession.SessionId]));

        // A full grant owes its patient's session.
        var granted = await Fixture.RegisteredPatient("Odile", "Fairweather");
        var grant = (await Fixture.Post<GrantCreated>("/api/grants", new AwardGrant(Guid.NewGuid(), granted, "Ketamine Access Fund", null, 4, "full",
            null, null, null, null, _today.AddDays(-60), _today.AddDays(30)))).Id;
        await Deliver(granted, 20, "grant", "self-pay");

        // A deposit with nothing to pay yet is a credit balance, not a negative receivable.
        var prepaid = await Fixture.RegisteredPatient("Bastian", "Quill");
        await Fixture.Post<PaymentResult>($"/api/patients/{prepaid}/payments", new RecordPayment(Guid.NewGuid(), "cash", 200m, _today.AddDays(-4), "deposit"), 201);

        // The aging is kept by an asynchronous projection: read it once it has caught up.
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var report = await Fixture.Get<ArAgingReport>($"/api/analytics/aging?asOf={_today:yyyy-MM-dd}", As.Finance);

        // Expected figures from the inputs above: the payment settles the oldest self-pay session (150 days).
        var patientBuckets = new decimal[5];
        foreach (var age in selfPayAges.Where(a => a != selfPayAges.Max())) patientBuckets[Bucket(age)] += SessionCharge;
        var blueBuckets = new decimal[5];
        foreach (var age in bluePrairieAges) blueBuckets[Bucket(age)] += SessionCharge;
        var lakeshoreBuckets = new decimal[5];
        lakeshoreBuckets[Bucket(95)] += SessionCharge;
        var grantBuckets = new decimal[5];
        grantBuckets[Bucket(20)] += SessionCharge;

        static decimal[] Of(AgingRow r) => [r.Days0To30, r.Days31To60, r.Days61To90, r.Days91To120, r.Over120];
        var patients = report.Rows.Single(r => r.Party == ResponsibleParty.Patient);
        Assert.Equal(patientBuckets, Of(patients));
        Assert.Equal(selfPayAges.Length - 1, patients.Sessions);
        var insurers = report.Rows.Where(r => r.Party == ResponsibleParty.Insurance).ToList();
        Assert.Equal(["Blue Prairie Health", "Lakeshore Mutual"], insurers.Select(r => r.Name));
        Assert.Equal([bluePrairie, lakeshore], insurers.Select(r => r.PartyId!.Value));
        Assert.Equal(blueBuckets, Of(insurers[0]));
        Assert.Equal(lakeshoreBuckets, Of(insurers[1]));
        var grantRow = report.Rows.Single(r => r.Party == ResponsibleParty.Grant);
        Assert.Equal((grant, "Ketamine Access Fund"), (grantRow.PartyId!.Value, grantRow.Name));
        Assert.Equal(grantBuckets, Of(grantRow));
        Assert.Equal(4, report.Rows.Count);

        var expectedTotal = patientBuckets.Sum() + blueBuckets.Sum() + lakeshoreBuckets.Sum() + grantBuckets.Sum();
        Assert.Equal(expectedTotal, report.Total.Total);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => patientBuckets[i] + blueBuckets[i] + lakeshoreBuckets[i] + grantBuckets[i]), Of(report.Total));
        Assert.Equal(blueBuckets.Sum() + lakeshoreBuckets.Sum(), report.ByParty.Single(r => r.Party == ResponsibleParty.Insurance).Total);

        // Finance sees the credit as a figure, not whose it is (issue 13, minimum necessary): the worklist names the patient for BillingAdmin.
        var credit = Assert.Single(report.CreditBalances);
        Assert.Equal((200m, _today.AddDays(-4)), (credit.Amount, credit.OldestPaymentOn!.Value));
        Assert.Equal(200m, report.TotalCredit);
        Assert.DoesNotContain("Quill", System.Text.Json.JsonSerializer.Serialize(report));
        var worklist = await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=credit-balance", As.Billing);
        Assert.Equal(prepaid, Assert.Single(worklist.Items).PatientId);

        // The same receivables measured a month later: every amount moves one bucket on (or stays in the last).
        var later = await Fixture.Get<ArAgingReport>($"/api/analytics/aging?asOf={_today.AddDays(30):yyyy-MM-dd}", As.Billing);
        var shifted = new decimal[5];
        foreach (var age in selfPayAges.Where(a => a != selfPayAges.Max())) shifted[Bucket(age + 30)] += SessionCharge;
        Assert.Equal(shifted, Of(later.Rows.Single(r => r.Party == ResponsibleParty.Patient)));
    }

    [Fact]
    public async Task the_csv_opens_in_a_spreadsheet_and_bad_parameters_are_named()
    {
        var patient = await Fixture.RegisteredPatient("Jonah", "Abernathy");
        await Deliver(patient, 45, "self-pay");

        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var result = await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url($"/api/analytics/aging?asOf={_today:yyyy-MM-dd}&format=csv");
            s.StatusCodeShouldBeOk();
            s.ContentTypeShouldBe("text/csv");
        });
        var body = result.Context.Response.Body;
        using var copy = new MemoryStream();
        await body.CopyToAsync(copy, TestContext.Current.CancellationToken);
        var bytes = copy.ToArray();
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes.Take(3));
        var lines = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3).Split('\n');
        Assert.Equal("as_of,party,party_id,name,days_0_30,days_31_60,days_61_90,days_91_120,over_120,total,sessions", lines[0]);
        Assert.Equal($"{_today:yyyy-MM-dd},patient,,Patients,0.00,510.00,0.00,0.00,0.00,510.00,1", lines[1]);
        Assert.Equal($"{_today:yyyy-MM-dd},total,,Total,0.00,510.00,0.00,0.00,0.00,510.00,1", lines[2]);

        var problem = await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url("/api/analytics/aging?asOf=27/11/2026&format=xlsx");
            s.StatusCodeShouldBe(400);
        });
        var errors = (await problem.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors;
        Assert.Equal(["asOf", "format"], errors.Keys.Order());
        await Fixture.Call(As.EmployerA, s =>
        {
            s.Get.Url("/api/analytics/aging");
            s.StatusCodeShouldBe(403);
        });
    }

    [Theory]
    [InlineData("Acme Logistics", "Acme Logistics")]
    [InlineData("Smith, Jane", "\"Smith, Jane\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    // A leading tab or carriage return: spreadsheets drop it and then run what follows (OWASP CSV injection).
    [InlineData("\t=1+1", "'\t=1+1")]
    [InlineData("\r=1+1", "\"'\r=1+1\"")]
    public void csv_text_fields_are_quoted_and_never_run_as_formulas(string value, string expected) =>
        Assert.Equal(expected, CsvText.Field(value));
}
