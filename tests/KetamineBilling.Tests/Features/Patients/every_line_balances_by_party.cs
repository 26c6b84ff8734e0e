using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Studies;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Features.Patients;

/// <summary>
/// Issue 21: employer, grant and sponsor payments showed only in the account's totalPaid; a session's and a line's
/// breakdown left them out. On every line and every session: charge = paid (by each party) + adjusted + open (by each party).
/// </summary>
public class every_line_balances_by_party(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task insurance_patient_employer_grant_and_sponsor_money_each_show_on_the_lines_they_paid()
    {
        var today = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Today();
        var day = today.AddDays(-3);
        await Fixture.PricedCode("96365", 450m);
        await Fixture.PricedCode("J3490", 60m);
        var patient = await Fixture.RegisteredPatient("Sam", "Everyparty");
        DeliverSession Session(string funding) => Scenarios.Session(deliveredOn: day, lines: [("96365", 1), ("J3490", 1)]) with { Funding = [funding] };

        // Insurance: paid 250.00 + 50.00, contractual 120.00 + 10.00, coinsurance 80.00 that the patient then pays.
        var payer = await Fixture.Payer("Blue Prairie Health", "BPH01");
        await Fixture.Coverage(patient, payer);
        var insured = (await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Session("insurance")))).SessionId;
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [insured]));
        await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/eob", new PostEob(Guid.NewGuid(), "EOB-1", [
            new EobLine(1, 330m, 250m, [new EobAdjustment("CO", "45", 120m), new EobAdjustment("PR", "2", 80m)], null),
            new EobLine(2, 50m, 50m, [new EobAdjustment("CO", "45", 10m)], null)
        ]), 200);
        await Fixture.Post<PaymentResult>($"/api/patients/{patient}/payments",
            new RecordPayment(Guid.NewGuid(), "card", 80m, today, "VISA 4242", [new LineTarget(insured, null)]));

        // Employer: 80% of the infusion (360.00), invoiced and paid; the rest (90.00 + 60.00) is the patient's.
        var employer = (await Fixture.Post<EmployerCreated>("/api/employers", new CreateEmployer("Acme Logistics", null, null, 80m, ["96365"], null, null))).Id;
        await Fixture.Post<object>($"/api/employers/{employer}/enrollments", new EnrollEmployee(patient, "ACM-1", day.Year));
        var employed = (await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Session("employer")))).SessionId;
        await Fixture.Post<InvoiceView>($"/api/employers/{employer}/invoices", new IssueInvoice(Guid.NewGuid(), $"{day:yyyy-MM}"));
        await Fixture.Post<EmployerPaymentReceived>($"/api/employers/{employer}/payments", new RecordEmployerPayment(Guid.NewGuid(), "ACH-1", 360m, today, null));

        // Grant, fee sharing 50/50: the clinic gives up 255.00, the fund owes 127.50 and pays it, the patient owes 127.50.
        var grant = (await Fixture.Post<GrantCreated>("/api/grants", new AwardGrant(Guid.NewGuid(), patient, "Ketamine Access Fund", 600m, 6, "fee-sharing",
            null, null, 50m, 50m, today.AddDays(-30), today.AddDays(30)))).Id;
        var granted = (await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Session("grant")))).SessionId;
        await Fixture.Post<GrantView>($"/api/grants/{grant}/funds", new ReceiveGrantFunds("KAF-1", 127.50m, today), 200);

        // Study: the sponsor owes its 400.00 rate and pays it; the other 110.00 is the contract's adjustment.
        var study = Guid.NewGuid();
        await Fixture.Post<StudyCreated>("/api/studies", new RegisterStudy(study, "Meridian Neuro", "MN-KET-204", 400m));
        await Fixture.Post<object>($"/api/studies/{study}/enrollments", new EnrollStudyPatient(patient, "SUBJ-1"));
        var studied = (await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient, Session("study")))).SessionId;
        await Fixture.Post<SponsorPaymentReceived>($"/api/studies/{study}/payments", new RecordSponsorPayment("WIRE-1", 400m, today));

        var balance = await Fixture.BalanceOf(patient);
        Assert.Equal(4, balance.Sessions.Count);
        foreach (var session in balance.Sessions)
        {
            foreach (var line in session.Lines)
            {
                Assert.Equal(line.PatientPaid + line.InsurancePaid + line.EmployerPaid + line.GrantPaid + line.SponsorPaid, line.Paid);
                Assert.Equal(line.Charge, line.Paid + line.Adjusted + line.PatientDue + line.InsurancePending + line.EmployerDue + line.GrantPending + line.SponsorPending);
            }

            Assert.Equal(session.PatientPaid + session.InsurancePaid + session.EmployerPaid + session.GrantPaid + session.SponsorPaid, session.Paid);
            Assert.Equal(session.Lines.Sum(l => l.Paid), session.Paid);
            Assert.Equal(session.Charge, session.Paid + session.Adjusted + session.PatientDue + session.InsurancePending + session.EmployerDue + session.GrantPending + session.SponsorPending);
        }

        // Every party's money is on the lines it paid, and the lines add up to the account's totalPaid.
        Assert.Equal(balance.TotalPaid, balance.Sessions.Sum(s => s.Paid));
        BalanceSession Of(Guid id) => balance.Sessions.Single(s => s.SessionId == id);
        static (decimal, decimal, decimal, decimal, decimal) PaidBy(BalanceLine l) => (l.PatientPaid, l.InsurancePaid, l.EmployerPaid, l.GrantPaid, l.SponsorPaid);
        static (decimal, decimal, decimal, decimal, decimal) OpenBy(BalanceLine l) => (l.PatientDue, l.InsurancePending, l.EmployerDue, l.GrantPending, l.SponsorPending);
        Assert.Equal((80m, 250m, 0m, 0m, 0m), PaidBy(Of(insured).Lines[0]));
        Assert.Equal((0m, 50m, 0m, 0m, 0m), PaidBy(Of(insured).Lines[1]));
        // The issue's example: the employer paid 360.00 of a 510.00 session; the patient still owes 150.00.
        Assert.Equal((510m, 360m, 0m, 150m), (Of(employed).Charge, Of(employed).Paid, Of(employed).Adjusted, Of(employed).PatientDue));
        Assert.Equal((0m, 0m, 360m, 0m, 0m), PaidBy(Of(employed).Lines[0]));
        Assert.Equal((90m, 0m, 0m, 0m, 0m), OpenBy(Of(employed).Lines[0]));
        Assert.Equal((0m, 0m, 0m, 112.50m, 0m), PaidBy(Of(granted).Lines[0]));
        Assert.Equal((112.50m, 0m, 0m, 0m, 0m), OpenBy(Of(granted).Lines[0]));
        Assert.Equal((255m, 127.50m, 127.50m), (Of(granted).Adjusted, Of(granted).GrantPaid, Of(granted).PatientDue));
        Assert.Equal((400m, 110m, 0m), (Of(studied).SponsorPaid, Of(studied).Adjusted, Of(studied).Open));
    }
}
