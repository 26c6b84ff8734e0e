using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace KetamineBilling.Tests.Features.PatientBilling;

/// <summary>The pure decisions of statement runs, the statement rules and the processor's effects on an account, without a host.</summary>
public class patient_billing_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 6, 10, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = new(2026, 6, 10);

    private static PatientAccount Account(Guid id, string? email, params object[] events) =>
        Given.Aggregate<PatientAccount>([new PatientRegistered(id, "Avery", $"L{id:N}"[..8], new DateOnly(1984, 3, 12), email, null, Now.AddDays(-90)), .. events]);

    /// <summary>A self-pay session of 450.00 owed by the patient.</summary>
    private static SessionDelivered Session(Guid patient, Guid session, DateOnly on) =>
        new(patient, session, on, 45, "main", [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m)], ["F33.2"], 450m, Now.AddDays(-40), "dr-a");

    private static PaymentReceived Received(Guid patient, Guid payment, decimal amount) =>
        new(patient, payment, PaymentMethod.Card, amount, Today.AddDays(-30), "card pi_1", Now.AddDays(-30));

    [Fact]
    public void a_run_takes_each_account_that_owes_the_minimum_waits_on_no_insurer_and_was_not_sent_one_lately()
    {
        var (a, b, c, d) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var owes = Account(a, "a@x.test", Session(a, Guid.NewGuid(), Today.AddDays(-40)));
        var byPost = Account(b, null, Session(b, Guid.NewGuid(), Today.AddDays(-20)));
        var small = Account(c, "c@x.test", Session(c, Guid.NewGuid(), Today.AddDays(-20)), Received(c, Guid.Empty, 448m),
            new PaymentApplied(c, Guid.Empty, [], 0m, Now));
        var recent = Account(d, "d@x.test", Session(d, Guid.NewGuid(), Today.AddDays(-20)));
        var history = new Dictionary<Guid, PatientStatements>
        {
            [a] = new() { Id = a, LastIssuedOn = Today.AddDays(-35), Statements = [new IssuedStatement(Guid.NewGuid(), Guid.NewGuid(), Today.AddDays(-35), Today.AddDays(-70), Today.AddDays(-35), 450m, StatementDelivery.Email)] },
            [d] = new() { Id = d, LastIssuedOn = Today.AddDays(-3), Statements = [new IssuedStatement(Guid.NewGuid(), Guid.NewGuid(), Today.AddDays(-3), Today.AddDays(-20), Today.AddDays(-3), 450m, StatementDelivery.Email)] }
        };
        var runId = Guid.NewGuid();

        var outcome = RunStatementsEndpoint.Decide(runId, false, StatementPolicy.Default, Today, [owes, byPost, small, recent], history, Now);

        var accepted = Assert.IsType<Outcome.Accepted>(outcome);
        var run = Assert.IsType<StatementRunCompleted>(Assert.Single(outcome.EventsFor(runId)));
        Assert.Equal((typeof(StatementRun), StatusCodes.Status201Created), (accepted.Streams.Single().StartAs, accepted.Status));
        Assert.Equal((4, 1, 0, 1), (run.Considered, run.BelowMinimum, run.WaitingOnInsurance, run.SentRecently));
        Assert.Equal([
            new StatementItem(StatementIds.Of(runId, a), a, Today.AddDays(-34), Today, 450m, StatementDelivery.Email, DunningStage.Statement, 40),
            new StatementItem(StatementIds.Of(runId, b), b, Today.AddDays(-20), Today, 450m, StatementDelivery.Post, DunningStage.Statement, 20)
        ], run.Items.OrderBy(i => i.PatientId == a ? 0 : 1));
        // Only the emailed statement sends a notice; the same run id names the same statements.
        Assert.Equal([new SendStatementNotice(runId, StatementIds.Of(runId, a))], accepted.Messages);
        Assert.Equal(StatementIds.Of(runId, a), StatementIds.Of(runId, a));
        Assert.NotEqual(StatementIds.Of(runId, a), StatementIds.Of(Guid.NewGuid(), a));
    }

    [Fact]
    public void the_rules_are_set_whole_and_the_same_again_records_nothing()
    {
        var set = SetStatementPolicyEndpoint.Decide(StatementPolicy.Default, new SetStatementPolicy(25m, 30, "monthly", 5, 14), Now);
        var recorded = Assert.IsType<StatementPolicySet>(Assert.Single(set.EventsFor(StatementPolicyState.StreamId)));
        Assert.Equal((25m, 30, StatementCycle.Monthly, 5, 14, Now), (recorded.MinimumBalance, recorded.IntervalDays, recorded.Cycle, recorded.DayOfMonth, recorded.LinkValidDays, recorded.SetAt));
        var current = StatementPolicy.Of(StatementPolicyState.Create(recorded));
        Assert.IsType<Outcome.Replayed>(SetStatementPolicyEndpoint.Decide(current, new SetStatementPolicy(25m, 30, "monthly", 5, 14), Now.AddHours(1)));
        // The defaults set as they are: recorded once (the clinic chose them).
        Assert.Single(SetStatementPolicyEndpoint.Decide(StatementPolicy.Default, new SetStatementPolicy(5m, 28, "on-demand", null, 60), Now).EventsFor(StatementPolicyState.StreamId));
    }

    [Fact]
    public void a_processor_refund_beyond_the_payments_credit_reopens_its_newest_lines_and_refunds_from_that_payment()
    {
        var (patient, s1, s2, paid) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var account = Account(patient, null, Session(patient, s1, Today.AddDays(-40)), Session(patient, s2, Today.AddDays(-20)), Received(patient, paid, 950m),
            new PaymentApplied(patient, paid, [new LineAmount(s1, 1, 450m), new LineAmount(s2, 1, 450m)], 900m, Now.AddDays(-30)));
        var refundId = Guid.NewGuid();

        var events = ProcessorOnAccount.Refunded(account, paid, refundId, 200m, "to the card", Now).EventsFor(patient);

        Assert.Equal(2, events.Count);
        var unapplied = Assert.IsType<PaymentUnapplied>(events[0]);
        Assert.Equal((paid, 150m, "refunded through the card processor"), (unapplied.PaymentId, unapplied.Total, unapplied.Reason));
        Assert.Equal([new LineAmount(s2, 1, 150m)], unapplied.Allocations);
        var refund = Assert.IsType<RefundIssued>(events[1]);
        Assert.Equal((refundId, 200m, PaymentMethod.Card, "to the card"), (refund.RefundId, refund.Amount, refund.Method, refund.Reason));
        Assert.Equal([new PaymentSource(paid, 200m)], refund.Sources);
        var after = account.Then([.. events]);
        Assert.Equal((150m, 0m, 200m), (after.Open().Patient, after.UnappliedCredit, after.TotalRefunded));
        Assert.IsType<Outcome.Replayed>(ProcessorOnAccount.Refunded(after, paid, refundId, 200m, "to the card", Now));
        Assert.Equal(StatusCodes.Status422UnprocessableEntity,
            Assert.IsType<Outcome.Rejected>(ProcessorOnAccount.Refunded(after, paid, Guid.NewGuid(), 751m, "too much", Now)).Status);
    }

    [Fact]
    public void a_dispute_reverses_the_payment_once_and_a_won_dispute_pays_again()
    {
        var (patient, s1, paid, back) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var account = Account(patient, null, Session(patient, s1, Today.AddDays(-40)), Received(patient, paid, 450m),
            new PaymentApplied(patient, paid, [new LineAmount(s1, 1, 450m)], 450m, Now.AddDays(-30)));

        var disputed = ProcessorOnAccount.Disputed(account, paid, "Card dispute dp_1 (fraudulent)", Today, Now).EventsFor(patient);
        Assert.Equal([typeof(PaymentUnapplied), typeof(PaymentReversed)], disputed.Select(e => e.GetType()));
        var after = account.Then([.. disputed]);
        Assert.Equal(450m, after.Open().Patient);
        Assert.IsType<Outcome.Replayed>(ProcessorOnAccount.Disputed(after, paid, "again", Today, Now));

        var won = ProcessorOnAccount.Paid(after, back, 450m, Today, "card dispute dp_1 won", Now, null).EventsFor(patient);
        Assert.Equal(0m, after.Then([.. won]).Open().Patient);
    }

    private static Stripe.BalanceTransaction Txn(string id, string type, long amount, long fee, Stripe.IBalanceTransactionSource? source) =>
        new() { Id = id, Type = type, Amount = amount, Fee = fee, Net = amount - fee, Source = source };

    [Fact]
    public void a_payout_is_its_transactions_gross_less_fees_and_its_amount_is_what_reaches_the_bank()
    {
        var paid = Payouts.Paid("po_1", 58055, Today, [
            Txn("txn_1", "charge", 45000, 1335, new Stripe.Charge { Id = "ch_1", PaymentIntentId = "pi_1" }),
            Txn("txn_2", "charge", 20000, 610, new Stripe.Charge { Id = "ch_2", PaymentIntentId = "pi_2" }),
            Txn("txn_3", "refund", -5000, 0, new Stripe.Refund { Id = "re_1", PaymentIntentId = "pi_2" }),
            Txn("txn_4", "payout", -58055, 0, null)], Now)!;
        Assert.Equal((ProcessorPayout.IdOf("po_1"), 600m, 19.45m, 580.55m, Today), (paid.PayoutId, paid.Gross, paid.Fees, paid.Net, paid.ArrivalDate));
        Assert.Equal(["txn_1", "txn_2", "txn_3"], paid.Lines.Select(l => l.BalanceTransactionId));
        Assert.Equal([CardProcessor.PaymentIdOf("pi_1"), CardProcessor.PaymentIdOf("pi_2"), CardProcessor.PaymentIdOf("pi_2")], paid.Lines.Select(l => l.PaymentId!.Value));
        Assert.Equal(0m, ProcessorPayout.Create(paid).Unexplained);

        // A dispute's withdrawal and its $15.00 fee, and a transaction the processor did not list: what is not explained shows.
        var short_ = ProcessorPayout.Create(Payouts.Paid("po_2", 10000, Today, [
            Txn("txn_5", "charge", 45000, 1335, new Stripe.Charge { Id = "ch_3", PaymentIntentId = "pi_3" }),
            Txn("txn_6", "adjustment", -30000, 1500, new Stripe.Dispute { Id = "dp_1", PaymentIntentId = "pi_4" })], Now)!);
        Assert.Equal((150m, 28.35m, 100m, -21.65m), (short_.Gross, short_.Fees, short_.Net, short_.Unexplained));
        Assert.Equal(CardProcessor.PaymentIdOf("pi_4"), short_.Lines[1].PaymentId);
        Assert.Null(Payouts.Paid("po_3", 0, Today, [], Now));
    }

    [Fact]
    public void card_payments_the_processor_took_are_in_its_payouts_not_in_the_days_card_takings()
    {
        var patient = Guid.NewGuid();
        var account = Account(patient, null, Received(patient, Guid.NewGuid(), 75m),
            new PaymentReceived(patient, Guid.NewGuid(), PaymentMethod.Card, 450m, Today.AddDays(-30), "card pi_9", Now.AddDays(-30), Processor: ProcessorOnAccount.Processor));
        var payout = ProcessorPayout.Create(new ProcessorPayoutPaid(ProcessorPayout.IdOf("po_9"), "po_9", Today.AddDays(-28), 450m, 13.35m, 436.65m, [], Now));
        var receipts = KetamineBilling.Features.Reconciliation.Receipts.From([], [account], [], [], [], [payout]);
        Assert.Equal([("card-batch", 75m), ("processor-payout", 436.65m)], receipts.Select(r => (r.Kind, r.Amount)));
        Assert.Equal(ProcessorOnAccount.Processor,
            ProcessorOnAccount.Paid(account, Guid.NewGuid(), 20m, Today, "card pi_10", Now, null).EventsFor(patient).OfType<PaymentReceived>().Single().Processor);
    }

    [Fact]
    public void autopay_charges_what_is_left_of_each_due_instalment_retries_a_decline_every_three_days_and_gives_up_after_three()
    {
        var (patient, session, plan) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var account = Account(patient, null, Session(patient, session, Today.AddDays(-40)),
            new PaymentPlanAgreed(patient, plan, [new Instalment(1, Today.AddDays(-10), 150m), new Instalment(2, Today, 150m), new Instalment(3, Today.AddDays(30), 150m)],
                450m, Today.AddDays(-20), Now.AddDays(-20)),
            Received(patient, Guid.NewGuid(), 100m) with { ReceivedOn = Today.AddDays(-12) });
        var enrolled = new AutopayEnrolled(AutopayRules.IdOf(plan), patient, plan, "cus_1", "pm_1", "visa", "4242", Today.AddDays(-20), Now);
        var autopay = Given.Aggregate<Autopay>([enrolled]);

        // $100.00 paid since the plan: $50.00 left of the first, the second due today, the third not yet.
        Assert.Equal([new DueCharge(1, 50m, 1), new DueCharge(2, 150m, 1)], AutopayRules.Due(autopay, account, Today));

        var first = AutopayRules.Failed(autopay, new DueCharge(1, 50m, 1), "insufficient_funds", Today, Now);
        Assert.Equal(Today.AddDays(3), first.NextAttemptOn);
        var second = Given.Aggregate<Autopay>([enrolled, first, AutopayRules.Failed(autopay, new DueCharge(2, 150m, 1), "insufficient_funds", Today, Now)]);
        Assert.Empty(AutopayRules.Due(second, account, Today.AddDays(2)));
        Assert.Equal([new DueCharge(1, 50m, 2), new DueCharge(2, 150m, 2)], AutopayRules.Due(second, account, Today.AddDays(3)));
        Assert.True(AutopayRules.Recorded(second, new DueCharge(1, 50m, 1)));
        var last = AutopayRules.Failed(second, new DueCharge(1, 50m, 3), "expired_card", Today.AddDays(6), Now);
        Assert.Null(last.NextAttemptOn);
        var gaveUp = Given.Aggregate<Autopay>([enrolled, first, last]);
        Assert.True(gaveUp.GaveUp(1));
        Assert.Equal([2], AutopayRules.Due(gaveUp, account, Today.AddDays(6)).Select(c => c.Instalment));

        // Never more than the patient owes after credit; nothing once stopped.
        var credit = account.Then(Received(patient, Guid.NewGuid(), 320m) with { ReceivedOn = Today.AddDays(-30) });
        Assert.Equal([new DueCharge(1, 30m, 1)], AutopayRules.Due(autopay, credit, Today));
        var stop = AutopayRules.Stop(autopay, new StopAutopay(" the patient asked "), Now);
        var stopped = Assert.IsType<AutopayStopped>(Assert.Single(stop.EventsFor(autopay.Id)));
        Assert.Equal("the patient asked", stopped.Reason);
        var off = Given.Aggregate<Autopay>([enrolled, stopped]);
        Assert.Empty(AutopayRules.Due(off, account, Today));
        Assert.IsType<Outcome.Replayed>(AutopayRules.Stop(off, new StopAutopay("again"), Now));
        Assert.Equal(StatusCodes.Status404NotFound, Assert.IsType<Outcome.Rejected>(AutopayRules.Stop(null, new StopAutopay("x"), Now)).Status);
    }

    [Fact]
    public void the_dunning_stage_follows_the_age_of_the_oldest_open_amount_and_the_letter_before()
    {
        var policy = StatementPolicy.Default;
        PatientStatements History(params DunningStage[] stages) => new()
        {
            Statements = stages.Select((s, i) => new IssuedStatement(Guid.NewGuid(), Guid.NewGuid(), Today.AddDays(-30 * (stages.Length - i)), Today, Today, 10m,
                StatementDelivery.Email, s)).ToList()
        };

        Assert.Equal(DunningStage.Statement, RunStatementsEndpoint.Stage(policy, 120, null));
        Assert.Equal(DunningStage.Statement, RunStatementsEndpoint.Stage(policy, 59, History(DunningStage.Statement)));
        Assert.Equal(DunningStage.Reminder, RunStatementsEndpoint.Stage(policy, 60, History(DunningStage.Statement)));
        Assert.Equal(DunningStage.Reminder, RunStatementsEndpoint.Stage(policy, 95, History(DunningStage.Statement)));
        Assert.Equal(DunningStage.FinalNotice, RunStatementsEndpoint.Stage(policy, 90, History(DunningStage.Statement, DunningStage.Reminder)));
        Assert.Equal(DunningStage.FinalNotice, RunStatementsEndpoint.Stage(policy, 130, History(DunningStage.Reminder, DunningStage.FinalNotice)));
        Assert.Equal(DunningStage.Reminder, RunStatementsEndpoint.Stage(policy with { ReminderAfterDays = 30, FinalNoticeAfterDays = 45 }, 40, History(DunningStage.Statement)));

        var patient = Guid.NewGuid();
        var account = Account(patient, "a@x.test", Session(patient, Guid.NewGuid(), Today.AddDays(-75)));
        Assert.Equal(75, RunStatementsEndpoint.OldestOpenAge(account, Today));
        var run = RunStatementsEndpoint.Decide(Guid.NewGuid(), false, policy, Today, [account], new Dictionary<Guid, PatientStatements> { [patient] = History(DunningStage.Statement) }, Now);
        var item = Assert.Single(run.AllEvents.OfType<StatementRunCompleted>().Single().Items);
        Assert.Equal((DunningStage.Reminder, 75), (item.Stage, item.AgeDays));
    }

    [Fact]
    public void the_dunning_ages_are_checked_and_left_out_they_are_the_defaults()
    {
        Assert.Equal(["finalNoticeAfterDays"], SetStatementPolicyEndpoint.Validate(new SetStatementPolicy(5m, 28, "on-demand", null, 60, 60, 60)) is Microsoft.AspNetCore.Http.HttpValidationProblemDetails v ? v.Errors.Keys : []);
        Assert.Equal(["reminderAfterDays"], SetStatementPolicyEndpoint.Validate(new SetStatementPolicy(5m, 28, "on-demand", null, 60, 10, 60)) is Microsoft.AspNetCore.Http.HttpValidationProblemDetails w ? w.Errors.Keys : []);
        var set = SetStatementPolicyEndpoint.Decide(StatementPolicy.Default, new SetStatementPolicy(5m, 28, "on-demand", null, 60), Now);
        Assert.Equal((60, 90), set.AllEvents.OfType<StatementPolicySet>().Single() is var e ? (e.ReminderAfterDays, e.FinalNoticeAfterDays) : default);
    }
}
