using Alba;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Marten.Events;
using JasperFx.Events.Daemon;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Claims;

/// <summary>Issue 15: a claim's history and the patient ledger say who made each change and when.</summary>
public class claim_history_says_who(AppFixture fixture) : IntegrationContext(fixture)
{
    private async Task<(Guid Patient, ClaimView Claim)> FiledClaim()
    {
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        var patient = await Fixture.RegisteredPatient("Ottilie", "Brandvold");
        var payer = await Fixture.Payer();
        await Fixture.Coverage(patient, payer);
        var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(patient,
            Scenarios.Session(deliveredOn: DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-10))) with { Funding = ["insurance"] }));
        var claim = await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), patient, payer, [session.SessionId]));
        return (patient, claim);
    }

    [Fact]
    public async Task each_state_change_of_a_claim_is_listed_with_the_user_who_made_it_and_when()
    {
        var (patient, claim) = await FiledClaim();
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/acknowledge", new { }, 200);
        await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/eob", new PostEob(Guid.NewGuid(), "PCN-1",
            [new EobLine(1, 400m, 300m, [new EobAdjustment("CO", "45", 50m), new EobAdjustment("PR", "2", 100m)], [])]), 200);
        await Fixture.Post<ClaimView>($"/api/claims/{claim.Id}/close", new CloseClaim("paid as expected", "bill-patient"), 200);

        var history = await Fixture.Get<List<ClaimHistoryItem>>($"/api/claims/{claim.Id}/history");
        Assert.Equal(["filed", "acknowledged", "paid", "closed"], history.Select(h => h.Status));
        Assert.All(history, h => Assert.Equal("Billing Tester", h.By));
        Assert.All(history, h => Assert.InRange(h.At, before, DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.StartsWith("Adjudicated (eob:", history[2].What);
        Assert.Equal("Closed: paid as expected", history[3].What);

        // The patient ledger says who recorded each money change: the charge and the payer's payment, by billing.
        var ledger = await Fixture.Get<PatientLedger>($"/api/patients/{patient}/ledger");
        Assert.NotEmpty(ledger.Entries);
        Assert.All(ledger.Entries, e => Assert.Equal("Billing Tester", e.By));
        Assert.All(ledger.Entries, e => Assert.False(string.IsNullOrEmpty(e.UserId)));

        // Only billing reads it, it is a PHI read (recorded with the claim's patient), and an unknown claim is a 404.
        await Fixture.Call(As.Finance, s => { s.Get.Url($"/api/claims/{claim.Id}/history"); s.StatusCodeShouldBe(403); });
        await Fixture.Call(As.Billing, s => { s.Get.Url($"/api/claims/{Guid.NewGuid()}/history"); s.StatusCodeShouldBe(404); });
        await using var query = Fixture.Store.QuerySession(AppFixture.Clinic);
        var audit = await query.Query<PhiAccess>().Where(a => a.View == "claim-history").ToListAsync(TestContext.Current.CancellationToken);
        Assert.Contains(audit, a => a.PatientIds.Contains(patient));
    }

    [Fact]
    public async Task an_event_recorded_without_a_user_says_unknown_and_a_system_job_says_system()
    {
        var (_, claim) = await FiledClaim();
        // Events appended outside a request: one with no user header (as before events carried it), one by a system job.
        await using (var session = Fixture.Store.LightweightSession(AppFixture.Clinic))
        {
            session.Events.Append(claim.Id, new ClaimAcknowledged(claim.Id, DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        await using (var session = Fixture.Store.LightweightSession(AppFixture.Clinic))
        {
            session.SetHeader(AuditMiddleware.UserIdHeader, "system:demo-seed");
            session.Events.Append(claim.Id, new ClaimRejected(claim.Id, "no such member", DateTimeOffset.UtcNow));
            await session.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        var history = await Fixture.Get<List<ClaimHistoryItem>>($"/api/claims/{claim.Id}/history");
        Assert.Equal([("filed", "Billing Tester"), ("acknowledged", "unknown"), ("rejected", "system")], history.Select(h => (h.Status, h.By)));
    }

    [Fact]
    public void names_are_honest_about_what_they_do_not_know()
    {
        var known = Guid.NewGuid();
        var names = new ActorNames(new Dictionary<Guid, string> { [known] = "Dana Clerk" });
        Assert.Equal("Dana Clerk", names.Name(known.ToString()));
        Assert.Equal("unknown user", names.Name(Guid.NewGuid().ToString()));
        Assert.Equal("unknown", names.Name(null));
        Assert.Equal("unknown", names.Name(""));
        Assert.Equal("system", names.Name("system:rebuild"));
    }
}
