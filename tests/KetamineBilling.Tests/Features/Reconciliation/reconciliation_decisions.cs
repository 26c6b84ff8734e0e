using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Reconciliation;

/// <summary>The pure decisions behind POST /api/deposits and POST /api/deposits/{id}/matches, without a host.</summary>
public class reconciliation_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 6, 10, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Monday = new(2026, 6, 8);
    private static readonly Guid DepositId = Guid.NewGuid();

    private static readonly Receipt CardFriday = new("card-batch:2026-06-05", "card-batch", "card takings Jun 5, 2026", 350.00m, new DateOnly(2026, 6, 5));
    private static readonly Receipt Remittance = new("remittance:1", "remittance", "CHK555001", 400.00m, new DateOnly(2026, 6, 7));
    private static readonly Receipt Cash = new("cash-check-batch:2026-06-01", "cash-check-batch", "cash and checks Jun 1, 2026", 80.00m, new DateOnly(2026, 6, 1));
    private static readonly Receipt Employer = new("employer-payment:1", "employer-payment", "Acme 1001", 100.00m, new DateOnly(2026, 6, 2));

    private static DepositRecorded Recorded(decimal amount, string reference = "BRANCH DEPOSIT") =>
        new(DepositId, amount, Monday, reference, Now.AddDays(-1));

    private static ReceiptMatch Match(Receipt r) => new(r.Key, r.Kind, r.Reference, r.Amount);

    [Fact]
    public void a_deposit_of_a_processor_payouts_net_matches_the_payout_within_the_settlement_days()
    {
        var payout = new Receipt("processor-payout:po_1", "processor-payout", "card processor payout po_1: $600.00 less $19.45 fees", 580.55m, new DateOnly(2026, 6, 6));
        var late = new Receipt("processor-payout:po_0", "processor-payout", "card processor payout po_0: $10.00 less $0.59 fees", 9.41m, new DateOnly(2026, 6, 1));
        var deposit = new BankDeposit { Id = DepositId, Amount = 580.55m, DepositedOn = Monday, Reference = "STRIPE TRANSFER" };
        Assert.Equal([payout], Receipts.AutoMatch(deposit, [CardFriday, payout, late]));
        Assert.Equal([late], Receipts.AutoMatch(new BankDeposit { Id = DepositId, Amount = 9.41m, DepositedOn = Monday, Reference = "po_0" }, [late]));
        // Two weeks later it is no longer taken for that payout without billing's say.
        Assert.Empty(Receipts.AutoMatch(new BankDeposit { Id = DepositId, Amount = 580.55m, DepositedOn = Monday.AddDays(10), Reference = "STRIPE" }, [payout]));
    }

    [Fact]
    public void a_new_deposit_is_recorded_and_matched_to_the_one_receipt_of_the_week_before_for_its_amount()
    {
        var outcome = RecordDepositEndpoint.Decide(null, new RecordDeposit(DepositId, 400.00m, Monday, " ACH BLUE PRAIRIE CHK555001 "), [CardFriday, Remittance, Cash], Now);

        Assert.Equal([
            new DepositRecorded(DepositId, 400.00m, Monday, "ACH BLUE PRAIRIE CHK555001", Now),
        ], outcome.EventsFor(DepositId).Take(1));
        var matched = Assert.IsType<DepositMatched>(outcome.EventsFor(DepositId)[1]);
        Assert.Equal((DepositId, true, Now), (matched.DepositId, matched.Automatic, matched.MatchedAt));
        Assert.Equal([Match(Remittance)], matched.Receipts);
        var accepted = Assert.IsType<Outcome.Accepted>(outcome);
        Assert.Equal(($"/api/deposits/{DepositId}", typeof(BankDeposit)), (accepted.Location, accepted.Streams.Single().StartAs));
        var view = Assert.IsType<DepositView>(accepted.Answer);
        Assert.True(view.Matched && view.Automatic);
    }

    [Fact]
    public void a_deposit_is_matched_to_the_one_card_batch_of_the_days_before_it_for_the_same_amount()
    {
        var outcome = RecordDepositEndpoint.Decide(null, new RecordDeposit(DepositId, 350.00m, Monday, "MERCHANT SETTLEMENT"), [CardFriday, Remittance], Now);
        Assert.Equal([Match(CardFriday)], Assert.IsType<DepositMatched>(outcome.EventsFor(DepositId)[1]).Receipts);
    }

    [Fact]
    public void a_deposit_nothing_fits_unambiguously_is_recorded_unmatched()
    {
        var twin = Employer with { Key = "employer-payment:2", Reference = "Acme 1002" };
        var outcome = RecordDepositEndpoint.Decide(null, new RecordDeposit(DepositId, 100.00m, Monday, null), [Employer, twin], Now);

        Assert.Equal([new DepositRecorded(DepositId, 100.00m, Monday, "", Now)], outcome.EventsFor(DepositId));
        Assert.False(Assert.IsType<DepositView>(Assert.IsType<Outcome.Accepted>(outcome).Answer).Matched);
    }

    [Fact]
    public void the_same_deposit_again_is_a_replay_and_with_other_details_a_conflict()
    {
        var existing = Given.Aggregate<BankDeposit>(Recorded(180.00m));

        var replay = Assert.IsType<Outcome.Replayed>(RecordDepositEndpoint.Decide(existing, new RecordDeposit(DepositId, 180.00m, Monday, "BRANCH DEPOSIT"), [], Now));
        Assert.Equal(DepositId, Assert.IsType<DepositView>(replay.Answer).Id);
        var conflict = Assert.IsType<Outcome.Rejected>(RecordDepositEndpoint.Decide(existing, new RecordDeposit(DepositId, 181.00m, Monday, "BRANCH DEPOSIT"), [], Now));
        Assert.Equal((409, $"deposit {DepositId} was already recorded with other details"), (conflict.Status, conflict.Detail));
    }

    [Fact]
    public void billing_names_the_receipts_a_deposit_is_made_of()
    {
        var deposit = Given.Aggregate<BankDeposit>(Recorded(180.00m));
        var outcome = MatchDepositEndpoint.Decide(deposit, new MatchDeposit([Cash.Key, Employer.Key, Cash.Key]), [Cash, Employer, Remittance], Now);

        var matched = Assert.IsType<DepositMatched>(Assert.Single(outcome.EventsFor(DepositId)));
        Assert.Equal((false, Now), (matched.Automatic, matched.MatchedAt));
        Assert.Equal([Match(Cash), Match(Employer)], matched.Receipts);
        var view = Assert.IsType<DepositView>(Assert.IsType<Outcome.Accepted>(outcome).Answer);
        Assert.Equal((true, false, 2), (view.Matched, view.Automatic, view.Receipts.Count));
        Assert.False(deposit.Matched);
    }

    [Fact]
    public void receipts_that_are_not_open_or_do_not_add_up_are_refused_naming_receipt_keys()
    {
        var deposit = Given.Aggregate<BankDeposit>(Recorded(180.00m));

        var unknown = Assert.IsType<Outcome.Rejected>(MatchDepositEndpoint.Decide(deposit, new MatchDeposit([Cash.Key, "card-batch:2020-01-01"]), [Cash, Employer], Now));
        Assert.Equal(422, unknown.Status);
        Assert.Equal(["not an undeposited receipt: card-batch:2020-01-01"], unknown.Errors["receiptKeys"]);
        var short_ = Assert.IsType<Outcome.Rejected>(MatchDepositEndpoint.Decide(deposit, new MatchDeposit([Cash.Key]), [Cash, Employer], Now));
        Assert.Equal(422, short_.Status);
        Assert.StartsWith("the receipts add up to ", Assert.Single(short_.Errors["receiptKeys"]));
        Assert.Empty(short_.AllEvents);
    }

    [Fact]
    public void a_matched_deposit_named_again_with_its_receipts_is_a_replay_and_with_others_a_conflict()
    {
        var deposit = Given.Aggregate<BankDeposit>(Recorded(180.00m), new DepositMatched(DepositId, [Match(Cash), Match(Employer)], false, Now.AddHours(-1)));

        Assert.IsType<Outcome.Replayed>(MatchDepositEndpoint.Decide(deposit, new MatchDeposit([Employer.Key, Cash.Key]), [], Now));
        var conflict = Assert.IsType<Outcome.Rejected>(MatchDepositEndpoint.Decide(deposit, new MatchDeposit([Cash.Key]), [], Now));
        Assert.Equal((409, $"deposit {DepositId} is already matched to other receipts"), (conflict.Status, conflict.Detail));
    }
}
