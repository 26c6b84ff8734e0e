using Alba;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using UglyToad.PdfPig;

namespace KetamineBilling.Tests.Features.Employers;

/// <summary>
/// An employer paying 80% of the infusion for its employees, capped at 1,000.00 per employee and year: two
/// employees, sessions across two months, the cap reached mid-month, invoices, a partial payment, statements.
/// </summary>
public class employer_direct_pay(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private static readonly DateOnly FirstMonth = new DateOnly(Today.Year, Today.Month, 1).AddMonths(-2);
    private static readonly DateOnly SecondMonth = FirstMonth.AddMonths(1);
    private Guid _employer;
    private Guid _alice;
    private Guid _bruno;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m);
        await Fixture.PricedCode("J3490", 60m);
        _employer = (await Fixture.Post<EmployerCreated>("/api/employers", new CreateEmployer("Acme Logistics", "ap@acme.example", null, 80m, ["96365"], 1000m, null,
            EmployerId: Fixture.EmployerAId))).Id;
        await Fixture.Post<EmployerCreated>("/api/employers", new CreateEmployer("Borealis Foods", null, 300m, null, null, null, 6, EmployerId: Fixture.EmployerBId));
        _alice = await Fixture.RegisteredPatient("Alicia", "Quennell-Marsh");
        _bruno = await Fixture.RegisteredPatient("Bruno", "Oyelaran-Tate");
        foreach (var (patient, member) in new[] { (_alice, "ACM-1001"), (_bruno, "ACM-1002") })
        {
            foreach (var year in new[] { FirstMonth.Year, Today.Year }.Distinct())
                await Fixture.Post<object>($"/api/employers/{_employer}/enrollments", new EnrollEmployee(patient, member, year));
        }
    }

    private Task<SessionCharge> Session(Guid patient, DateOnly on) => Fixture.AndWaitForCascades(() =>
        Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: on, lines: [("96365", 1), ("J3490", 1)]) with { Funding = ["employer"] }));

    private async Task<string> Text(string url, string user = As.Billing)
    {
        var result = await Fixture.Call(user, s => s.Get.Url(url));
        if (!url.Contains("format=pdf")) return await result.ReadAsTextAsync();
        using var buffer = new MemoryStream();
        await result.Context.Response.Body.CopyToAsync(buffer, TestContext.Current.CancellationToken);
        using var pdf = PdfDocument.Open(buffer.ToArray());
        return string.Join(" ", pdf.GetPages().SelectMany(p => p.GetWords()).Select(w => w.Text));
    }

    [Fact]
    public async Task the_employer_pays_its_share_up_to_the_cap_is_invoiced_paid_in_part_and_sees_statements_without_clinical_detail()
    {
        for (var day = 3; day <= 17; day += 7) await Session(_alice, FirstMonth.AddDays(day));   // 360 + 360 + 280: the cap is reached
        await Session(_alice, SecondMonth.AddDays(2));                                            // nothing left under the cap
        await Session(_bruno, SecondMonth.AddDays(4));
        await Session(_bruno, SecondMonth.AddDays(9));

        var alice = await Fixture.BalanceOf(_alice);
        Assert.Equal((1000m, 4 * 510m - 1000m), (alice.EmployerDue, alice.PatientDue));
        var bruno = await Fixture.BalanceOf(_bruno);
        Assert.Equal((720m, 300m), (bruno.EmployerDue, bruno.PatientDue));

        var first = await Fixture.Post<InvoiceView>($"/api/employers/{_employer}/invoices", new IssueInvoice(Guid.NewGuid(), $"{FirstMonth:yyyy-MM}"));
        var second = await Fixture.Post<InvoiceView>($"/api/employers/{_employer}/invoices", new IssueInvoice(Guid.NewGuid(), $"{SecondMonth:yyyy-MM}"));
        Assert.Equal((1000m, 3, 720m, 2), (first.Total, first.Sessions, second.Total, second.Sessions));

        var payment = new RecordEmployerPayment(Guid.NewGuid(), "ACH-55001", 600m, Today, first.InvoiceId);
        await Fixture.Post<EmployerPaymentReceived>($"/api/employers/{_employer}/payments", payment);
        await Fixture.Post<EmployerPaymentReceived>($"/api/employers/{_employer}/payments", payment, 200);
        await Fixture.Post<ProblemDetails>($"/api/employers/{_employer}/payments", payment with { PaymentId = Guid.NewGuid(), Amount = 601m }, 409);
        await Fixture.Post<ValidationProblemDetails>($"/api/employers/{_employer}/payments", new RecordEmployerPayment(Guid.NewGuid(), "ACH-55002", 5000m, Today, null), 422);

        var invoices = await Fixture.Get<List<InvoiceView>>($"/api/employers/{_employer}/invoices", As.EmployerA);
        Assert.Equal(["partly-paid", "open"], invoices.Select(i => i.Status));
        alice = await Fixture.BalanceOf(_alice);
        Assert.Equal((400m, 600m), (alice.EmployerDue, alice.TotalPaid));
        Assert.Equal(alice.TotalCharged - alice.TotalPaid - alice.TotalAdjusted + alice.TotalRefunded, alice.TotalOpen - alice.UnappliedCredit);

        var statement = await Fixture.Get<EmployerStatement>($"/api/employers/{_employer}/statements/{FirstMonth:yyyy-MM}", As.EmployerA);
        Assert.Equal((0m, 3, 1000m, 1000m), (statement.OpeningBalance, statement.SessionsCovered.Count, statement.Covered, statement.ClosingBalance));
        Assert.All(statement.SessionsCovered, s => Assert.Equal("ACM-1001", s.Member));
        var current = await Fixture.Get<EmployerStatement>($"/api/employers/{_employer}/statements/{Today:yyyy-MM}");
        Assert.Equal((1720m, 2, 600m, 1120m), (current.OpeningBalance, current.Invoices.Count, current.PaymentsReceived, current.ClosingBalance));

        foreach (var format in new[] { "json", "csv", "pdf" })
        {
            // The clinic's own name is on its letterhead (the employer contracted with it); nothing else may say what the care was.
            var text = (await Text($"/api/employers/{_employer}/statements/{FirstMonth:yyyy-MM}?format={format}", As.EmployerA))
                .Replace("Lakeside Ketamine Clinic", "");
            Assert.Contains("ACM-1001", text);
            foreach (var clinical in new[] { "F33", "96365", "J3490", "ketamine", "Ketamine", "infusion", "Alicia", "Quennell", "Bruno", "diagnos" })
            {
                Assert.DoesNotContain(clinical, text);
            }
        }
    }

    [Fact]
    public async Task one_employer_never_sees_another()
    {
        await Fixture.Call(As.EmployerA, s =>
        {
            s.Get.Url($"/api/employers/{Fixture.EmployerBId}/statements/{Today:yyyy-MM}");
            s.StatusCodeShouldBe(404);
        });
        await Fixture.Call(As.EmployerB, s =>
        {
            s.Get.Url($"/api/employers/{Fixture.EmployerAId}/invoices");
            s.StatusCodeShouldBe(404);
        });
        await Fixture.Call(As.EmployerA, s =>
        {
            s.Get.Url("/api/employers");
            s.StatusCodeShouldBe(403);
        });
        var own = await Fixture.Get<EmployerView>($"/api/employers/{Fixture.EmployerAId}", As.EmployerA);
        Assert.Empty(own.Enrollments);

        // Issue 13, minimum necessary: Finance reads the employer's figures and invoices, not who its members are.
        await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url($"/api/employers/{Fixture.EmployerBId}/statements/{Today:yyyy-MM}");
            s.StatusCodeShouldBe(403);
        });
        var figures = await Fixture.Get<EmployerView>($"/api/employers/{_employer}", As.Finance);
        Assert.Empty(figures.Enrollments);
        Assert.NotEmpty((await Fixture.Get<EmployerView>($"/api/employers/{_employer}", As.Billing)).Enrollments);
        await Fixture.Get<List<InvoiceView>>($"/api/employers/{_employer}/invoices", As.Finance);
    }

    [Fact]
    public async Task an_enrolment_ends_on_its_last_covered_day_never_before_its_plan_year_and_later_sessions_are_the_patients()
    {
        var before = await Fixture.Post<ValidationProblemDetails>($"/api/employers/{_employer}/enrollments/{_alice}/end",
            new EndEmployment(new DateOnly(FirstMonth.Year - 1, 12, 31)), 422);
        Assert.Equal([$"must not be before the plan year starts (01/01/{FirstMonth.Year})"], before.Errors["endedOn"]);
        Assert.All((await Fixture.Get<EmployerView>($"/api/employers/{_employer}")).Enrollments, e => Assert.Null(e.EndedOn));

        await Fixture.Post<EmploymentEnded>($"/api/employers/{_employer}/enrollments/{_alice}/end", new EndEmployment(Today.AddDays(-5)), 200);
        await Session(_alice, Today.AddDays(-2));

        Assert.All((await Fixture.Get<EmployerView>($"/api/employers/{_employer}")).Enrollments.Where(e => e.PatientId == _alice),
            e => Assert.Equal(Today.AddDays(-5), e.EndedOn));
        Assert.Equal((0m, 510m), ((await Fixture.BalanceOf(_alice)).EmployerDue, (await Fixture.BalanceOf(_alice)).PatientDue));
        await Fixture.Post<ProblemDetails>($"/api/employers/{_employer}/enrollments/{_alice}/end", new EndEmployment(Today), 404);
    }

    [Fact]
    public async Task a_session_without_an_enrolment_on_its_date_is_the_patients()
    {
        var outsider = await Fixture.RegisteredPatient("Nobody", "Enrolled");

        await Session(outsider, Today.AddDays(-1));

        var balance = await Fixture.BalanceOf(outsider);
        Assert.Equal((0m, 510m), (balance.EmployerDue, balance.PatientDue));
    }

    [Fact]
    public async Task voiding_a_committed_session_releases_it_until_it_is_invoiced()
    {
        var released = await Session(_bruno, SecondMonth.AddDays(1));
        var invoiced = await Session(_bruno, SecondMonth.AddDays(2));
        // The employer lets the session go in the void's cascade.
        await Fixture.AndWaitForCascades(() => Fixture.Post<object>($"/api/patients/{_bruno}/sessions/{released.SessionId}/void", new VoidSession("Entered for the wrong day"), 200));

        var invoice = await Fixture.Post<InvoiceView>($"/api/employers/{_employer}/invoices", new IssueInvoice(Guid.NewGuid(), $"{SecondMonth:yyyy-MM}"));
        await Fixture.Post<ProblemDetails>($"/api/patients/{_bruno}/sessions/{invoiced.SessionId}/void", new VoidSession("too late"), 409);

        Assert.Equal((1, 360m), (invoice.Sessions, invoice.Total));
        var employer = await Fixture.Get<EmployerView>($"/api/employers/{_employer}");
        Assert.Equal(360m, employer.Committed);
    }
}
