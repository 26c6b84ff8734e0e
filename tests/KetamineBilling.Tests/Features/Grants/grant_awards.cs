using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace KetamineBilling.Tests.Features.Grants;

public class grant_awards(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private Guid _patient;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m);
        await Fixture.PricedCode("J3490", 60m);
        _patient = await Fixture.RegisteredPatient("Perpetua", "Okonkwo-Lind");
    }

    private Task<SessionCharge> Session(DateOnly on) => Fixture.AndWaitForCascades(() =>
        Fixture.DeliveredSession(_patient, Scenarios.Session(deliveredOn: on, lines: [("96365", 1), ("J3490", 1)]) with { Funding = ["grant", "self-pay"] }));

    [Fact]
    public async Task fee_sharing_halves_the_fee_the_foundation_pays_half_the_rest_until_the_award_runs_out_and_not_after_expiry()
    {
        // The clinic halves its 510.00 fee (255.00); the foundation pays half of the rest (127.50); the patient 127.50.
        var grant = (await Fixture.Post<GrantCreated>("/api/grants", new AwardGrant(Guid.NewGuid(), _patient, "Ketamine Access Fund", 300m, 3, "fee-sharing",
            null, null, 50m, 50m, Today.AddDays(-30), Today.AddDays(-3)))).Id;

        await Session(Today.AddDays(-20));
        await Session(Today.AddDays(-15));   // 127.50 again: 172.50 of the 300.00 was left
        await Session(Today.AddDays(-10));   // only 45.00 left: the award is used up
        await Session(Today.AddDays(-1));    // after expiry

        var view = await Fixture.Get<GrantView>($"/api/grants/{grant}");
        Assert.Equal((300m, 0m, 255m * 3), (view.Applied, view.RemainingAmount!.Value, view.ClinicReductions));
        Assert.Equal([127.50m, 127.50m, 45.00m], view.Uses.Select(u => u.Amount));
        var balance = await Fixture.BalanceOf(_patient);
        Assert.Equal((300m, 4 * 510m - 3 * 255m - 300m), (balance.GrantPending, balance.PatientDue));
        Assert.Equal(balance.TotalCharged - balance.TotalPaid - balance.TotalAdjusted + balance.TotalRefunded, balance.TotalOpen - balance.UnappliedCredit);

        await Fixture.Post<GrantView>($"/api/grants/{grant}/funds", new ReceiveGrantFunds("KAF-CHK-881", 200m, Today), 200);
        await Fixture.Post<GrantView>($"/api/grants/{grant}/funds", new ReceiveGrantFunds("KAF-CHK-881", 200m, Today), 200);
        await Fixture.Post<ValidationProblemDetails>($"/api/grants/{grant}/funds", new ReceiveGrantFunds("KAF-CHK-882", 200m, Today), 422);
        balance = await Fixture.BalanceOf(_patient);
        Assert.Equal((100m, 200m), (balance.GrantPending, balance.TotalPaid));
        var receipt = Assert.Single((await Fixture.Get<GrantView>($"/api/grants/{grant}")).Funds);
        Assert.Equal(("KAF-CHK-881", 200m, Today), (receipt.Reference, receipt.Amount, receipt.ReceivedOn));
        var organizations = await Fixture.Get<List<OrganizationUtilization>>("/api/grants/organizations");
        Assert.Equal((300m, 200m, 100m), (organizations.Single().Applied, organizations.Single().Received, organizations.Single().Outstanding));
    }

    [Fact]
    public async Task a_full_grant_with_a_session_limit_covers_that_many_sessions()
    {
        var grant = (await Fixture.Post<GrantCreated>("/api/grants", new AwardGrant(Guid.NewGuid(), _patient, "Veterans Relief", null, 2, "full",
            null, null, null, null, Today.AddDays(-30), Today.AddDays(30)))).Id;

        for (var i = 0; i < 3; i++) await Session(Today.AddDays(-10 + i));

        var view = await Fixture.Get<GrantView>($"/api/grants/{grant}");
        Assert.Equal((1020m, 0), (view.Applied, view.RemainingSessions!.Value));
        Assert.Equal(510m, (await Fixture.BalanceOf(_patient)).PatientDue);
    }
}
