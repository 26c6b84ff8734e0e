using Alba;
using KetamineBilling.Features.Analytics;
using KetamineBilling.Features.Collections;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Features.Collections;

/// <summary>
/// Collections through the API: an account the dunning sequence finished with is placed with an agency (a party in aging), the
/// agency's recoveries post net of its commission, a recall gives the rest back, a bad debt recovered is recorded as a
/// recovery, and a missed appointment is charged at the clinic's price.
/// </summary>
public class collections_and_no_show_fees(AppFixture fixture) : IntegrationContext(fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static DateOnly Today => Scenarios.ClinicToday;

    private async Task<string> Problem(string url, object body, int status, bool put = false)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            if (put) s.Put.Json(body, JsonStyle.MinimalApi).ToUrl(url);
            else s.Post.Json(body, JsonStyle.MinimalApi).ToUrl(url);
            s.StatusCodeShouldBe(status);
        });
        return await result.ReadAsTextAsync();
    }

    private async Task<CollectionAgency> Agency(Guid id, string name, decimal percent, int status = 201)
    {
        var result = await Fixture.Call(As.Billing, s =>
        {
            s.Put.Json(new SetCollectionAgency(name, percent, "555-0142", null), JsonStyle.MinimalApi).ToUrl($"/api/collection-agencies/{id}");
            s.StatusCodeShouldBe(status);
        });
        return (await result.ReadAsJsonAsync<CollectionAgency>())!;
    }

    /// <summary>Statements 70 and 35 days ago and today: the third is the account's final notice (its oldest amount 100 days old).</summary>
    private async Task FinalNoticesAsync()
    {
        var bus = Fixture.Host.Services.GetRequiredService<Wolverine.IMessageBus>();
        foreach (var daysAgo in new[] { 70, 35, 0 })
        {
            var run = Guid.NewGuid();
            await Fixture.AndWaitForCascades(async () =>
            {
                await bus.InvokeForTenantAsync(AppFixture.Clinic, new RunScheduledStatements(run, Today.AddDays(-daysAgo)), Ct);
                return run;
            });
        }
    }

    [Fact]
    public async Task an_account_past_its_final_notice_goes_to_an_agency_whose_recoveries_post_net_of_commission_until_it_is_recalled()
    {
        await Fixture.PricedCode("96365", 450m);
        var agencyId = Guid.NewGuid();
        Assert.Equal(30m, (await Agency(agencyId, "Prairie Recovery Services", 30m)).CommissionPercent);
        await Agency(agencyId, "Prairie Recovery Services", 30m, 200);
        Assert.Contains("commissionPercent", await Problem($"/api/collection-agencies/{Guid.NewGuid()}", new SetCollectionAgency("Greedy", 75m, null, null), 400, put: true));

        var gus = (await Fixture.Post<PatientCreated>("/api/patients",
            new RegisterPatient("Gus", "Collected", new DateOnly(1970, 2, 3), $"gus.{Guid.NewGuid():N}@patients.test", null))).Id;
        await Fixture.DeliveredSession(gus, Scenarios.Session(deliveredOn: Today.AddDays(-100)));
        var placement = Guid.NewGuid();
        Assert.Contains("final notice", await Problem($"/api/patients/{gus}/collection-placements", new PlaceWithCollectionAgency(placement, agencyId), 422));

        await FinalNoticesAsync();
        var desk = await Fixture.Get<CollectionsDesk>("/api/collections");
        Assert.Equal((gus, 450m, Today), desk.Candidates.Single() is var c ? (c.PatientId, c.PatientDue, c.FinalNoticeOn) : default);

        var placed = await Fixture.Post<PlacementView>($"/api/patients/{gus}/collection-placements", new PlaceWithCollectionAgency(placement, agencyId));
        Assert.Equal((450m, 450m, 30m), (placed.Placed, placed.StillPlaced, placed.CommissionPercent));
        await Fixture.Post<PlacementView>($"/api/patients/{gus}/collection-placements", new PlaceWithCollectionAgency(placement, agencyId), 200);
        Assert.Contains("recall it", await Problem($"/api/patients/{gus}/collection-placements", new PlaceWithCollectionAgency(Guid.NewGuid(), agencyId), 409));
        var balance = await Fixture.BalanceOf(gus);
        Assert.Equal((0m, 450m, 450m), (balance.PatientDue, balance.CollectionsDue, balance.TotalOpen));

        // A party in aging, under the agency's name; no statement goes to an account the agency has.
        var aging = await Fixture.GetCaughtUp<ArAgingReport>($"/api/analytics/aging?asOf={Today:yyyy-MM-dd}");
        var row = aging.Rows.Single(r => r.Party == ResponsibleParty.Collections);
        Assert.Equal(("Prairie Recovery Services", agencyId, 450m, 450m), (row.Name, row.PartyId, row.Days91To120, row.Total));
        Assert.Equal("Collection agencies", aging.ByParty.Single(r => r.Party == ResponsibleParty.Collections).Name);
        Assert.DoesNotContain(aging.Rows, r => r.Party == ResponsibleParty.Patient);
        var later = await Fixture.AndWaitForCascades(() => Fixture.Post<StatementRunView>("/api/statement-runs", new RunStatements(Guid.NewGuid())));
        Assert.Equal(0, later.Statements);

        // The agency collects $200.00 and keeps its 30 %: the debt falls by $200.00, the clinic receives $140.00.
        var recovery = new RecordAgencyRecovery(Guid.NewGuid(), 200m, null, Today, "REM-0912");
        var after = await Fixture.Post<PlacementView>($"/api/patients/{gus}/collection-placements/{placement}/recoveries", recovery);
        Assert.Equal((200m, 60m, 140m, 250m), (after.Collected, after.Commission, after.Net, after.StillPlaced));
        await Fixture.Post<PlacementView>($"/api/patients/{gus}/collection-placements/{placement}/recoveries", recovery, 200);
        Assert.Contains("$250.00", await Problem($"/api/patients/{gus}/collection-placements/{placement}/recoveries",
            new RecordAgencyRecovery(Guid.NewGuid(), 300m, null, Today, null), 422));
        balance = await Fixture.BalanceOf(gus);
        Assert.Equal((250m, 200m), (balance.CollectionsDue, balance.TotalPaid));

        await Fixture.CaughtUp();
        var receipts = (await Fixture.Get<DepositWorkspace>("/api/deposits/workspace")).UndepositedReceipts;
        var receipt = receipts.Single(r => r.Kind == "agency-recovery");
        Assert.Equal((140m, $"agency-recovery:{recovery.RecoveryId}"), (receipt.Amount, receipt.Key));
        Assert.Contains("$200.00 less $60.00 commission", receipt.Reference);
        var kpis = await Fixture.Get<KpiReport>($"/api/analytics/kpis?from={Today:yyyy-MM}&to={Today:yyyy-MM}");
        Assert.Equal(140m, kpis.PayerMixByCollections.Single(m => m.Source == "collection agency").Amount);

        desk = await Fixture.Get<CollectionsDesk>("/api/collections");
        Assert.Empty(desk.Candidates);
        Assert.Equal((1, 250m, 200m, 60m, 140m), desk.Agencies.Single() is var a ? (a.Accounts, a.StillPlaced, a.Collected, a.Commission, a.Net) : default);

        // The agency returns it: the rest is the patient's again, and the agency records nothing more on it.
        var recalled = await Fixture.Post<PlacementView>($"/api/patients/{gus}/collection-placements/{placement}/recall",
            new RecallFromCollectionAgency("returned as uncollectable"), 200);
        Assert.Equal((250m, 0m), (recalled.Recalled, recalled.StillPlaced));
        Assert.Contains("recalled", await Problem($"/api/patients/{gus}/collection-placements/{placement}/recoveries",
            new RecordAgencyRecovery(Guid.NewGuid(), 10m, null, Today, null), 409));
        balance = await Fixture.BalanceOf(gus);
        Assert.Equal((250m, 0m), (balance.PatientDue, balance.CollectionsDue));

        var mine = await Fixture.Get<AccountCollections>($"/api/patients/{gus}/collections");
        Assert.Equal((true, Today, 1), (mine.CanPlace, mine.FinalNoticeOn, mine.Placements.Count));
        Assert.Equal("REM-0912", mine.Placements.Single().Recoveries.Single().Reference);

        var ledger = await Fixture.Get<PatientLedger>($"/api/patients/{gus}/ledger");
        Assert.Equal(["charge", "collections", "agency-recovery", "collections"], ledger.Entries.Select(e => e.Type).Where(t => t is "charge" or "collections" or "agency-recovery"));
    }

    [Fact]
    public async Task a_bad_debt_paid_later_is_recorded_as_a_recovery_and_a_missed_appointment_is_charged_at_the_clinic_s_price()
    {
        await Fixture.PricedCode("96365", 450m);
        var ida = await Fixture.RegisteredPatient("Ida", "Recovered");
        var session = Guid.NewGuid();
        await Fixture.DeliveredSession(ida, Scenarios.Session(session, Today.AddDays(-200)));
        await Fixture.Post<BalanceWrittenOff>($"/api/patients/{ida}/write-offs", new WriteOffBalance(Guid.NewGuid(), "bad-debt", "no contact", null, null));

        var recovery = new RecordBadDebtRecovery(Guid.NewGuid(), "check", 300m, Today, "check 2210");
        var paid = await Fixture.Post<PaymentResult>($"/api/patients/{ida}/bad-debt-recoveries", recovery);
        Assert.Equal((300m, 0m), (paid.Applied.Sum(a => a.Amount), paid.Unapplied));
        await Fixture.Post<PaymentResult>($"/api/patients/{ida}/bad-debt-recoveries", recovery, 200);
        Assert.Contains("$150.00", await Problem($"/api/patients/{ida}/bad-debt-recoveries", new RecordBadDebtRecovery(Guid.NewGuid(), "cash", 151m, Today, null), 422));
        var balance = await Fixture.BalanceOf(ida);
        Assert.Equal((0m, 300m, 150m), (balance.PatientDue, balance.TotalPaid, balance.TotalAdjusted));
        var mine = await Fixture.Get<AccountCollections>($"/api/patients/{ida}/collections");
        Assert.Equal((450m, 300m, 150m), (mine.BadDebtWrittenOff, mine.BadDebtRecovered, mine.BadDebtRecoverable));
        await Fixture.CaughtUp();
        Assert.Equal(300m, (await Fixture.Get<DepositWorkspace>("/api/deposits/workspace")).UndepositedReceipts.Single(r => r.Kind == "cash-check-batch").Amount);

        // The missed appointment's fee: the schedule's price for the day, a charge of its own that no superbill carries.
        var noShow = new ChargeNoShowFee(Guid.NewGuid(), Today.AddDays(-1), "no call, no show");
        Assert.Contains("NOSHW", await Problem($"/api/patients/{ida}/no-show-fees", noShow, 422));
        await Fixture.PricedCode("NOSHW", 75m, description: "Missed appointment fee");
        var fee = await Fixture.Post<NoShowFeeView>($"/api/patients/{ida}/no-show-fees", noShow);
        Assert.Equal((75m, 75m, "Missed appointment fee"), (fee.Amount, fee.Open, fee.Description));
        await Fixture.Post<NoShowFeeView>($"/api/patients/{ida}/no-show-fees", noShow, 200);
        Assert.Contains("already", await Problem($"/api/patients/{ida}/no-show-fees", new ChargeNoShowFee(Guid.NewGuid(), Today.AddDays(-1), null), 409));
        Assert.Contains("missedOn", await Problem($"/api/patients/{ida}/no-show-fees", new ChargeNoShowFee(Guid.NewGuid(), Today.AddDays(1), null), 400));

        balance = await Fixture.BalanceOf(ida);
        var charge = balance.Sessions.Single(s => s.SessionId == noShow.NoShowId);
        Assert.Equal((true, 75m, "NOSHW"), (charge.NoShow, charge.PatientDue, charge.Lines.Single().Code));
        Assert.Equal(75m, balance.PatientDue);
        Assert.Equal(75m, (await Fixture.Get<AccountCollections>($"/api/patients/{ida}/collections")).NoShowFees.Single().Open);
        var superbill = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/patients/{ida}/superbill?sessionIds={noShow.NoShowId}");
            s.StatusCodeShouldBe(400);
        });
        Assert.Contains("missed-appointment fee", await superbill.ReadAsTextAsync());
        Assert.Contains("Missed appointment of", (await Fixture.Get<PatientLedger>($"/api/patients/{ida}/ledger")).Entries.Last().Description);
    }
}
