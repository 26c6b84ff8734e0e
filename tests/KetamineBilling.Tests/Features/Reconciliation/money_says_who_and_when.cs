using Alba;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Features.Reconciliation;

/// <summary>Issue 15: bank deposits and employer invoices say who recorded, matched, issued and paid them, and when.</summary>
public class money_says_who_and_when(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task the_deposits_list_is_paged_newest_first_and_says_who_recorded_and_matched_each()
    {
        var today = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Today();
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        var older = await Fixture.Post<DepositView>("/api/deposits", new RecordDeposit(Guid.NewGuid(), 180m, today.AddDays(-3), "BRANCH 1"));
        var newer = await Fixture.Post<DepositView>("/api/deposits", new RecordDeposit(Guid.NewGuid(), 90m, today, "BRANCH 2"));
        var patient = await Fixture.RegisteredPatient("Ines", "Aldana");
        await Fixture.Post<KetamineBilling.Features.Patients.PaymentResult>($"/api/patients/{patient}/payments",
            new KetamineBilling.Features.Patients.RecordPayment(Guid.NewGuid(), "cash", 180m, today.AddDays(-4), null));
        var key = $"cash-check-batch:{today.AddDays(-4):yyyy-MM-dd}";
        await Fixture.Post<DepositView>($"/api/deposits/{older.Id}/matches", new MatchDeposit([key]), 200);

        var first = await Fixture.Get<DepositPage>("/api/deposits?page=1&pageSize=1");
        Assert.Equal((2L, 1, 1), (first.TotalCount, first.Page, first.PageSize));
        Assert.Equal(newer.Id, first.Items.Single().Id);
        Assert.Equal("Billing Tester", first.Items.Single().Recorded!.By);
        Assert.Null(first.Items.Single().MatchedBy);

        var second = (await Fixture.Get<DepositPage>("/api/deposits?page=2&pageSize=1")).Items.Single();
        Assert.Equal(older.Id, second.Id);
        Assert.Equal(("Billing Tester", "Billing Tester"), (second.Recorded!.By, second.MatchedBy!.By));
        Assert.InRange(second.MatchedBy.At, before, DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.True(second.MatchedBy.At >= second.Recorded.At);
        Assert.Equal([older.Id], (await Fixture.Get<DepositPage>("/api/deposits?matched=true")).Items.Select(d => d.Id));
        Assert.Equal("Billing Tester", (await Fixture.Get<DepositView>($"/api/deposits/{older.Id}")).MatchedBy!.By);
        // Finance reads deposits too; bad paging is a 400 naming the parameter.
        Assert.Equal(2, (await Fixture.Get<DepositPage>("/api/deposits", As.Finance)).TotalCount);
        var bad = await Fixture.Call(As.Billing, s => { s.Get.Url("/api/deposits?page=0&pageSize=500"); s.StatusCodeShouldBe(400); });
        var problem = await bad.ReadAsJsonAsync<ValidationProblemDetails>();
        Assert.Equal(["page", "pageSize"], problem!.Errors.Keys.Order());
    }

    [Fact]
    public async Task an_employers_invoices_say_who_issued_and_who_recorded_each_payment_to_billing_only()
    {
        var today = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Today();
        await Fixture.PricedCode("96365", 450m);
        var employer = (await Fixture.Post<EmployerCreated>("/api/employers",
            new CreateEmployer("Acme Logistics", null, 300m, null, null, null, null, EmployerId: Fixture.EmployerAId))).Id;
        var patient = await Fixture.RegisteredPatient("Alicia", "Quennell-Marsh");
        var month = new DateOnly(today.Year, today.Month, 1).AddMonths(-1);
        await Fixture.Post<object>($"/api/employers/{employer}/enrollments", new EnrollEmployee(patient, "ACM-1", month.Year));
        await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Scenarios.Session(deliveredOn: month.AddDays(3)) with { Funding = ["employer"] }));
        var invoiceId = Guid.NewGuid();
        await Fixture.Post<object>($"/api/employers/{employer}/invoices", new IssueInvoice(invoiceId, month.ToString("yyyy-MM")));
        await Fixture.Post<object>($"/api/employers/{employer}/payments", new RecordEmployerPayment(Guid.NewGuid(), "ACH-1", 120m, today, invoiceId));

        var invoice = (await Fixture.Get<List<InvoiceView>>($"/api/employers/{employer}/invoices")).Single();
        Assert.Equal("Billing Tester", invoice.Issued!.By);
        Assert.Equal([("ACH-1", 120m, "Billing Tester")], invoice.Payments!.Select(p => (p.Reference, p.Amount, p.Recorded.By)));
        // The employer's own user and Finance see the invoices, not the clinic's staff names.
        foreach (var user in new[] { As.EmployerA, As.Finance })
        {
            var seen = (await Fixture.Get<List<InvoiceView>>($"/api/employers/{employer}/invoices", user)).Single();
            Assert.Equal((invoiceId, (Actor?)null, (IReadOnlyList<InvoicePaymentView>?)null), (seen.InvoiceId, seen.Issued, seen.Payments));
        }
    }
}
