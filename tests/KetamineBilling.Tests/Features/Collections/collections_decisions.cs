using KetamineBilling.Features.Collections;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Collections;

/// <summary>Collections decided without a host: placement with an agency, its recoveries and recall, bad-debt recovery, no-show fees.</summary>
public class collections_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 9, 20, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = new(2026, 9, 20);
    private static readonly Guid PatientId = Guid.NewGuid();
    private static readonly Guid S1 = Guid.NewGuid();
    private static readonly Guid S2 = Guid.NewGuid();
    private static readonly CollectionAgency Agency = new() { Id = Guid.NewGuid(), Name = "Prairie Recovery Services", CommissionPercent = 30m };

    /// <summary>Two self-pay sessions the patient owes: $450.00 (June) and $300.00 (July).</summary>
    private static PatientAccount Owing() => Given.Aggregate<PatientAccount>(
        new PatientRegistered(PatientId, "Cole", "Ections", new DateOnly(1980, 1, 1), null, null, Now),
        Session(S1, new DateOnly(2026, 6, 1), 450m),
        Session(S2, new DateOnly(2026, 7, 1), 300m));

    private static SessionDelivered Session(Guid id, DateOnly on, decimal amount) =>
        new(PatientId, id, on, 60, "main", [new ChargeLine(1, "96365", "IV infusion", 1, amount, amount)], ["F33.2"], amount, Now, "dr-a", [FundingSource.SelfPay]);

    private static IReadOnlyList<object> Accepted(Outcome outcome, int status)
    {
        var accepted = Assert.IsType<Outcome.Accepted>(outcome);
        Assert.Equal(status, accepted.Status);
        return outcome.EventsFor(PatientId);
    }

    private static Outcome.Rejected Rejected(Outcome outcome, int status, string? field = null)
    {
        var rejected = Assert.IsType<Outcome.Rejected>(outcome);
        Assert.Equal(status, rejected.Status);
        if (field is not null) Assert.Contains(field, rejected.Errors.Keys);
        return rejected;
    }

    private static PatientAccount Placed(out Guid placementId)
    {
        var account = Owing();
        placementId = Guid.NewGuid();
        account.Then([.. PlaceWithCollectionAgencyEndpoint.Decide(account, new PlaceWithCollectionAgency(placementId, Agency.Id), Agency, Today.AddDays(-10), Today, Now)
            .EventsFor(PatientId)]);
        return account;
    }

    [Fact]
    public void an_agency_is_added_once_changed_in_place_and_the_same_values_again_change_nothing()
    {
        var id = Guid.NewGuid();
        var set = new SetCollectionAgency(" Prairie Recovery ", 30m, null, null);
        var added = Assert.IsType<Outcome.Accepted>(SetCollectionAgencyEndpoint.Decide(id, null, set, Now));
        var agency = Assert.IsType<CollectionAgency>(added.Answer);
        Assert.Equal((201, "Prairie Recovery", 30m, true), (added.Status, agency.Name, agency.CommissionPercent, agency.Active));
        Assert.IsType<Outcome.Replayed>(SetCollectionAgencyEndpoint.Decide(id, agency, set, Now));
        var changed = Assert.IsType<Outcome.Accepted>(SetCollectionAgencyEndpoint.Decide(id, agency, set with { CommissionPercent = 25m }, Now.AddDays(1)));
        Assert.Equal((200, 25m, agency.CreatedAt), (changed.Status, ((CollectionAgency)changed.Answer!).CommissionPercent, ((CollectionAgency)changed.Answer!).CreatedAt));
        Assert.Contains("commissionPercent", Assert.IsType<Microsoft.AspNetCore.Http.HttpValidationProblemDetails>(
            SetCollectionAgencyEndpoint.Validate(set with { CommissionPercent = 61m }), exactMatch: false).Errors.Keys);
    }

    [Fact]
    public void a_placement_moves_every_open_patient_amount_to_the_agency_only_after_a_final_notice_and_one_at_a_time()
    {
        var account = Owing();
        var command = new PlaceWithCollectionAgency(Guid.NewGuid(), Agency.Id);

        Assert.Contains("final notice", Rejected(PlaceWithCollectionAgencyEndpoint.Decide(account, command, Agency, null, Today, Now), 422, "placementId")
            .Errors["placementId"][0]);
        Rejected(PlaceWithCollectionAgencyEndpoint.Decide(account, command, null, Today, Today, Now), 422, "agencyId");
        var inactive = new CollectionAgency { Id = Agency.Id, Name = "Closed", CommissionPercent = 20m, Active = false };
        Rejected(PlaceWithCollectionAgencyEndpoint.Decide(account, command, inactive, Today, Today, Now), 422, "agencyId");

        var placed = Assert.IsType<PlacedWithCollectionAgency>(Assert.Single(Accepted(
            PlaceWithCollectionAgencyEndpoint.Decide(account, command, Agency, Today.AddDays(-3), Today, Now), 201)));
        Assert.Equal((750m, 30m, "Prairie Recovery Services", Today), (placed.Total, placed.CommissionPercent, placed.AgencyName, placed.PlacedOn));
        Assert.All(placed.Moves, m => Assert.Equal((ResponsibleParty.Patient, ResponsibleParty.Collections), (m.From, m.To)));

        account.Then(placed);
        Assert.Equal((0m, 750m), (account.Open().Patient, account.Open().Collections));
        Assert.IsType<Outcome.Replayed>(PlaceWithCollectionAgencyEndpoint.Decide(account, command, Agency, Today, Today, Now));
        Rejected(PlaceWithCollectionAgencyEndpoint.Decide(account, command with { AgencyId = Guid.NewGuid() }, Agency, Today, Today, Now), 409);
        Assert.Contains("recall it", Rejected(PlaceWithCollectionAgencyEndpoint.Decide(account, new PlaceWithCollectionAgency(Guid.NewGuid(), Agency.Id), Agency, Today, Today, Now), 409)
            .Detail);
        // A placed session is the agency's to collect: it is not voided under it.
        Assert.Contains("recall the account", Rejected(VoidSessionEndpoint.Decide(account, new VoidSession("entered twice"), S1, null, Now), 409).Detail);
    }

    [Fact]
    public void a_recovery_takes_what_the_agency_collected_off_the_placed_lines_oldest_first_and_the_clinic_receives_it_less_commission()
    {
        var account = Placed(out var placement);
        var command = new RecordAgencyRecovery(Guid.NewGuid(), 500m, null, Today, "REM-0912");

        var recovered = Assert.IsType<CollectionAgencyRecovered>(Assert.Single(Accepted(RecordAgencyRecoveryEndpoint.Decide(account, placement, command, Now), 201)));
        Assert.Equal((500m, 150m, 350m), (recovered.Collected, recovered.Commission, recovered.Net));
        Assert.Equal([new LineAmount(S1, 1, 450m), new LineAmount(S2, 1, 50m)], recovered.Allocations);

        account.Then(recovered);
        Assert.Equal((250m, 500m), (account.Open().Collections, account.TotalPaid));
        Assert.IsType<Outcome.Replayed>(RecordAgencyRecoveryEndpoint.Decide(account, placement, command, Now));
        Rejected(RecordAgencyRecoveryEndpoint.Decide(account, placement, command with { Collected = 1m }, Now), 409);
        Assert.Contains("$250.00", Rejected(RecordAgencyRecoveryEndpoint.Decide(account, placement, new RecordAgencyRecovery(Guid.NewGuid(), 250.01m, null, Today, null), Now),
            422, "collected").Errors["collected"][0]);
        Rejected(RecordAgencyRecoveryEndpoint.Decide(account, placement, new RecordAgencyRecovery(Guid.NewGuid(), 100m, 100.01m, Today, null), Now), 422, "commission");
        Rejected(RecordAgencyRecoveryEndpoint.Decide(account, Guid.NewGuid(), new RecordAgencyRecovery(Guid.NewGuid(), 10m, null, Today, null), Now), 404);

        // The remittance's own commission (a flat fee agreed for this one) stands over the terms.
        var own = Assert.IsType<CollectionAgencyRecovered>(Assert.Single(Accepted(
            RecordAgencyRecoveryEndpoint.Decide(account, placement, new RecordAgencyRecovery(Guid.NewGuid(), 100m, 20m, Today, null), Now), 201)));
        Assert.Equal((20m, 80m), (own.Commission, own.Net));
    }

    [Fact]
    public void a_recall_gives_what_the_agency_still_holds_back_to_the_patient_and_ends_its_recoveries()
    {
        var account = Placed(out var placement);
        account.Then([.. RecordAgencyRecoveryEndpoint.Decide(account, placement, new RecordAgencyRecovery(Guid.NewGuid(), 300m, null, Today, null), Now).EventsFor(PatientId)]);

        var recalled = Assert.IsType<RecalledFromCollectionAgency>(Assert.Single(Accepted(
            RecallFromCollectionAgencyEndpoint.Decide(account, placement, new RecallFromCollectionAgency(" returned as uncollectable "), Now), 200)));
        Assert.Equal((450m, "returned as uncollectable"), (recalled.Total, recalled.Reason));

        account.Then(recalled);
        Assert.Equal((450m, 0m, null), (account.Open().Patient, account.Open().Collections, account.ActivePlacement));
        Assert.IsType<Outcome.Replayed>(RecallFromCollectionAgencyEndpoint.Decide(account, placement, new RecallFromCollectionAgency("again"), Now));
        Rejected(RecordAgencyRecoveryEndpoint.Decide(account, placement, new RecordAgencyRecovery(Guid.NewGuid(), 10m, null, Today, null), Now), 409);
        Rejected(RecallFromCollectionAgencyEndpoint.Decide(account, Guid.NewGuid(), new RecallFromCollectionAgency("x"), Now), 404);
        // What the agency collected stands: the session it paid is not voided, and a discount gives back only what the patient's own payments paid.
        Assert.Contains("collection agency collected", Rejected(VoidSessionEndpoint.Decide(account, new VoidSession("x"), S1, null, Now), 409).Detail);
        var discount = Assert.IsType<DiscountGranted>(Accepted(GrantDiscountEndpoint.Decide(account, new GrantDiscount(Guid.NewGuid(), "per-session", "percentage", 10m, null, S1, null,
            "hardship"), Now), 201).Single());
        Assert.Equal(15m, discount.Total);
    }

    [Fact]
    public void money_on_a_bad_debt_reinstates_that_much_of_the_write_off_and_pays_it_never_more_than_was_written_off()
    {
        var account = Owing();
        Assert.Contains("nothing on the account", Rejected(RecordBadDebtRecoveryEndpoint.Decide(account, new RecordBadDebtRecovery(Guid.NewGuid(), "cash", 10m, Today, null), Now),
            422, "amount").Errors["amount"][0]);
        account.Then([.. WriteOffBalanceEndpoint.Decide(account, new WriteOffBalance(Guid.NewGuid(), "bad-debt", "skipped town", 600m, null), Now).EventsFor(PatientId)]);
        Assert.Equal((150m, 600m), (account.Open().Patient, account.TotalAdjusted));

        var command = new RecordBadDebtRecovery(Guid.NewGuid(), "check", 500m, Today, "check 1204");
        var events = Accepted(RecordBadDebtRecoveryEndpoint.Decide(account, command, Now), 201);
        var reinstated = Assert.IsType<BadDebtReinstated>(events[0]);
        Assert.Equal([new LineAmount(S1, 1, 450m), new LineAmount(S2, 1, 50m)], reinstated.Allocations);
        Assert.Equal((command.RecoveryId, 500m, "check 1204"), (Assert.IsType<PaymentReceived>(events[1]).PaymentId, ((PaymentReceived)events[1]).Amount, ((PaymentReceived)events[1]).Reference));
        Assert.Equal(reinstated.Allocations, Assert.IsType<PaymentApplied>(events[2]).Allocations);

        account.Then([.. events]);
        // Still owed as before (the write-off's other part and what was never written off); the write-off is $500.00 smaller.
        Assert.Equal((150m, 100m, 500m), (account.Open().Patient, account.TotalAdjusted, account.TotalPaid));
        Assert.Equal(100m, account.BadDebtLines().Sum(l => l.Amount));
        Assert.IsType<Outcome.Replayed>(RecordBadDebtRecoveryEndpoint.Decide(account, command, Now));
        Assert.Contains("$100.00", Rejected(RecordBadDebtRecoveryEndpoint.Decide(account, new RecordBadDebtRecovery(Guid.NewGuid(), "cash", 100.01m, Today, null), Now), 422, "amount")
            .Errors["amount"][0]);
        Rejected(RecordBadDebtRecoveryEndpoint.Decide(account, new RecordBadDebtRecovery(Guid.NewGuid(), "cash", 10m, Today, null), Now, new PaymentOwner(Guid.NewGuid(), Guid.NewGuid())), 409);
    }

    [Fact]
    public void a_missed_appointment_is_charged_at_the_schedule_s_price_for_its_day_once()
    {
        var account = Owing();
        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        var command = new ChargeNoShowFee(Guid.NewGuid(), Today.AddDays(-2), "no call");
        Assert.Contains("NOSHW", Rejected(ChargeNoShowFeeEndpoint.Decide(account, command, schedule, null, Now), 422, "missedOn").Errors["missedOn"][0]);

        schedule.Codes["NOSHW"] = [new FeePrice("Missed appointment fee", 50m, new DateOnly(2026, 1, 1)), new FeePrice("Missed appointment fee", 75m, Today.AddDays(-1))];
        var charged = Assert.IsType<NoShowFeeCharged>(Assert.Single(Accepted(ChargeNoShowFeeEndpoint.Decide(account, command, schedule, null, Now), 201)));
        Assert.Equal((50m, "NOSHW", "no call"), (charged.Amount, charged.Code, charged.Note));

        account.Then(charged);
        var fee = account.Session(command.NoShowId)!;
        Assert.Equal((50m, true, 800m), (fee.Lines.Single().Open.Patient, fee.NoShow is not null, account.Open().Patient));
        Assert.IsType<Outcome.Replayed>(ChargeNoShowFeeEndpoint.Decide(account, command, schedule, null, Now));
        Rejected(ChargeNoShowFeeEndpoint.Decide(account, command with { Note = null }, schedule, null, Now), 409);
        Assert.Contains("already", Rejected(ChargeNoShowFeeEndpoint.Decide(account, new ChargeNoShowFee(Guid.NewGuid(), Today.AddDays(-2), null), schedule, null, Now), 409).Detail);
        Rejected(ChargeNoShowFeeEndpoint.Decide(account, new ChargeNoShowFee(Guid.NewGuid(), Today, null), schedule, new SessionOwner(Guid.NewGuid(), Guid.NewGuid()), Now), 409);
    }
}
