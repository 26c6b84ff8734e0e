using Alba;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Features.Analytics;

public class revenue_kpis(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task the_month_s_kpis_follow_their_standard_definitions()
    {
        var today = Fixture.Host.Services.GetRequiredService<ClinicCalendar>().Today();
        await Fixture.PricedCode("96365", 450m);
        await Fixture.PricedCode("J3490", 60m);
        var payer = await Fixture.Payer("Blue Prairie Health", "BPH01");
        var insured = await Fixture.RegisteredPatient("Tobias", "Reinholt");
        await Fixture.Coverage(insured, payer);
        var sessions = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            sessions.Add((await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(insured,
                Scenarios.Session(deliveredOn: today, lines: [("96365", 1), ("J3490", 1)]) with { Funding = ["insurance"] }))).SessionId);
        }

        // Claim A (two sessions) is paid on its first answer: per session 250.00 + 50.00 paid, 120.00 + 10.00 contractual, 80.00 coinsurance.
        var a = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), insured, payer, [sessions[0], sessions[1]]));
        EobLine Infusion(int n) => new(n, 330m, 250m, [new EobAdjustment("CO", "45", 120m), new EobAdjustment("PR", "2", 80m)], null);
        EobLine Drug(int n) => new(n, 50m, 50m, [new EobAdjustment("CO", "45", 10m)], null);
        await Fixture.Post<ClaimView>($"/api/claims/{a.Id}/eob", new PostEob(Guid.NewGuid(), "EOB-A", [Infusion(1), Drug(2), Infusion(3), Drug(4)]), 200);
        // Claim B is rejected at the front door; its session goes again on claim C, which is denied.
        var b = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), insured, payer, [sessions[2]]));
        await Fixture.Post<ClaimView>($"/api/claims/{b.Id}/reject", new RejectClaim("member id not on file"), 200);
        var c = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), insured, payer, [sessions[2]]));
        await Fixture.Post<ClaimView>($"/api/claims/{c.Id}/eob", new PostEob(Guid.NewGuid(), "EOB-C", [
            new EobLine(1, 0m, 0m, [new EobAdjustment("CO", "197", 450m)], null), new EobLine(2, 0m, 0m, [new EobAdjustment("CO", "197", 60m)], null)
        ]), 200);

        // A self-pay session, part paid by card.
        var selfPay = await Fixture.RegisteredPatient("Ines", "Aldana");
        await Fixture.DeliveredSession(selfPay, Scenarios.Session(deliveredOn: today, lines: [("96365", 1), ("J3490", 1)]));
        await Fixture.Post<PaymentResult>($"/api/patients/{selfPay}/payments", new RecordPayment(Guid.NewGuid(), "card", 300m, today, "VISA"));

        var month = today.ToString("yyyy-MM");
        // The KPIs are kept by an asynchronous projection: read them once it has caught up.
        await Store.WaitForNonStaleProjectionDataAsync(AppFixture.Clinic, TimeSpan.FromSeconds(30));
        var kpis = await Fixture.Get<KpiReport>($"/api/analytics/kpis?from={month}&to={month}", As.Finance);

        var days = DateTime.DaysInMonth(today.Year, today.Month);
        const decimal gross = 4 * 510m, insurancePaid = 2 * 300m, collected = insurancePaid + 300m, contractual = 2 * 130m;
        const decimal receivables = 2 * 80m + 510m + 210m;
        Assert.Equal((days, gross, collected, contractual, receivables), (kpis.Days, kpis.GrossCharges, kpis.Collections, kpis.ContractualAdjustments, kpis.CurrentReceivables));
        Assert.Equal(Math.Round(receivables / (gross / days), 1), kpis.DaysInAr);
        Assert.Equal(Math.Round(collected / gross, 4), kpis.GrossCollectionRate);
        Assert.Equal(Math.Round(collected / (gross - contractual), 4), kpis.NetCollectionRate);
        Assert.Equal(Math.Round(2m / 6m, 4), kpis.DenialRate);          // 2 of the 6 adjudicated lines
        Assert.Equal(Math.Round(2m / 3m, 4), kpis.CleanClaimRate);      // A and C accepted, B rejected
        Assert.Equal(0.5m, kpis.FirstPassResolutionRate);                // A paid on its first answer, C denied
        Assert.Equal((3, 3), (kpis.ClaimsFiled, kpis.ClaimsAnswered));
        Assert.Equal([("Blue Prairie Health", 1530m, 0.75m), ("self-pay", 510m, 0.25m)], kpis.PayerMixByCharges.Select(m => (m.Source, m.Amount, m.Share!.Value)));
        Assert.Equal([("Blue Prairie Health", 600m, Math.Round(600m / 900m, 4)), ("self-pay", 300m, Math.Round(300m / 900m, 4))],
            kpis.PayerMixByCollections.Select(m => (m.Source, m.Amount, m.Share!.Value)));

        // One payer's KPIs: the sessions on its claims, its money, what it still owes (the denied session), its claims; no patient money.
        var mine = await Fixture.Get<KpiReport>($"/api/analytics/kpis?from={month}&to={month}&payerId={payer}", As.Finance);
        Assert.Equal((payer, 3 * 510m, insurancePaid, contractual, 510m), (mine.PayerId!.Value, mine.GrossCharges, mine.Collections, mine.ContractualAdjustments, mine.CurrentReceivables));
        Assert.Equal(Math.Round(510m / (3 * 510m / days), 1), mine.DaysInAr);
        Assert.Equal((Math.Round(insurancePaid / (3 * 510m), 4), Math.Round(insurancePaid / (3 * 510m - contractual), 4)), (mine.GrossCollectionRate, mine.NetCollectionRate));
        Assert.Equal((kpis.DenialRate, kpis.CleanClaimRate, kpis.FirstPassResolutionRate, 3, 3),
            (mine.DenialRate, mine.CleanClaimRate, mine.FirstPassResolutionRate, mine.ClaimsFiled, mine.ClaimsAnswered));
        Assert.Equal([("Blue Prairie Health", 1530m, 1m)], mine.PayerMixByCharges.Select(m => (m.Source, m.Amount, m.Share!.Value)));
        Assert.Equal([("Blue Prairie Health", 600m, 1m)], mine.PayerMixByCollections.Select(m => (m.Source, m.Amount, m.Share!.Value)));
        var other = await Fixture.Payer("Cedar Valley Health Plan", "CVH01");
        var none = await Fixture.Get<KpiReport>($"/api/analytics/kpis?from={month}&to={month}&payerId={other}", As.Finance);
        Assert.Equal((0m, 0m, 0m, (decimal?)null, 0, 0), (none.GrossCharges, none.Collections, none.CurrentReceivables, none.DaysInAr, none.ClaimsFiled, none.PayerMixByCharges.Count));
        await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url($"/api/analytics/kpis?from={month}&to={month}&payerId={Guid.NewGuid()}");
            s.StatusCodeShouldBe(404);
        });

        var problem = await Fixture.Call(As.Finance, s =>
        {
            s.Get.Url("/api/analytics/kpis?from=2026-05&to=2026-04");
            s.StatusCodeShouldBe(400);
        });
        var errors = (await problem.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors;
        Assert.Equal(["to"], errors.Keys);
        Assert.Equal(["must not be before from"], errors["to"]);
    }
}
