using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.GeneralLedger;

/// <summary>Month-end close decided without a host: closing in order, reopening from the latest, the rule, the guard on dated facts, and how an event moves each party's receivable.</summary>
public class closing_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 9, 20, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = new(2026, 9, 20);

    private static Books Closed(params string[] months)
    {
        var books = new Books { Id = Books.StreamId };
        foreach (var month in months)
        {
            Books.TryParseMonth(month, out var first);
            books.Apply(new MonthClosed(Books.StreamId, first, ClosedPeriodRule.Refuse, Now));
        }

        return books;
    }

    private static Outcome.Rejected Rejected(Outcome outcome, int status, string? field = null)
    {
        var rejected = Assert.IsType<Outcome.Rejected>(outcome);
        Assert.Equal(status, rejected.Status);
        if (field is not null) Assert.Contains(field, rejected.Errors.Keys);
        return rejected;
    }

    [Fact]
    public void months_close_once_ended_in_order_and_closing_one_again_changes_nothing()
    {
        var first = CloseMonthEndpoint.Decide(null, new CloseMonth("2026-07"), Today, Now);
        var closed = Assert.IsType<MonthClosed>(Assert.Single(first.EventsFor(Books.StreamId)));
        Assert.Equal((new DateOnly(2026, 7, 1), ClosedPeriodRule.Refuse), (closed.Month, closed.Rule));
        Assert.Equal(new DateOnly(2026, 7, 31), Assert.IsType<BooksView>(Assert.IsType<Outcome.Accepted>(first).Answer).LockedThrough);

        Assert.Contains("has not ended", Rejected(CloseMonthEndpoint.Decide(Closed("2026-07", "2026-08"), new CloseMonth("2026-09"), Today, Now), 422, "month").Errors["month"][0]);
        Assert.Contains("close August 2026 first", Rejected(CloseMonthEndpoint.Decide(Closed("2026-07"), new CloseMonth("2026-09"), new DateOnly(2026, 10, 1), Now), 422, "month").Errors["month"][0]);
        Assert.Contains("locked with it", Rejected(CloseMonthEndpoint.Decide(Closed("2026-07"), new CloseMonth("2026-05"), Today, Now), 409).Detail);
        Assert.IsType<Outcome.Replayed>(CloseMonthEndpoint.Decide(Closed("2026-07"), new CloseMonth("2026-07"), Today, Now));
        Assert.Single(CloseMonthEndpoint.Decide(Closed("2026-07"), new CloseMonth("2026-08"), Today, Now).EventsFor(Books.StreamId));
        // The month ends on its last day: August can be closed from September 1st.
        Assert.True(CloseMonthEndpoint.Decide(null, new CloseMonth("2026-08"), new DateOnly(2026, 9, 1), Now).IsAccepted);
        Assert.False(CloseMonthEndpoint.Decide(null, new CloseMonth("2026-08"), new DateOnly(2026, 8, 31), Now).IsAccepted);
        Assert.Contains("month", Assert.IsType<Microsoft.AspNetCore.Http.HttpValidationProblemDetails>(CloseMonthEndpoint.Validate(new CloseMonth("July"))).Errors.Keys);
    }

    [Fact]
    public void the_latest_closed_month_reopens_with_a_reason_and_the_same_reopening_again_changes_nothing()
    {
        var books = Closed("2026-07", "2026-08");
        var reopen = new ReopenMonth("  a deposit was missed  ");
        Assert.Contains("reopen August 2026 first", Rejected(ReopenMonthEndpoint.Decide(books, new DateOnly(2026, 7, 1), reopen, Now), 409).Detail);
        Assert.Contains("is not closed", Rejected(ReopenMonthEndpoint.Decide(books, new DateOnly(2026, 9, 1), reopen, Now), 409).Detail);

        var outcome = ReopenMonthEndpoint.Decide(books, new DateOnly(2026, 8, 1), reopen, Now);
        var reopened = Assert.IsType<MonthReopened>(Assert.Single(outcome.EventsFor(Books.StreamId)));
        Assert.Equal("a deposit was missed", reopened.Reason);
        books.Apply(reopened);
        Assert.Equal((new DateOnly(2026, 7, 31), 1), (books.LockedThrough, books.Closed.Count));
        Assert.IsType<Outcome.Replayed>(ReopenMonthEndpoint.Decide(books, new DateOnly(2026, 8, 1), reopen, Now));
        Rejected(ReopenMonthEndpoint.Decide(books, new DateOnly(2026, 8, 1), new ReopenMonth("another reason entirely"), Now), 409);
        Assert.Contains("reason", ((Microsoft.AspNetCore.Http.HttpValidationProblemDetails)ReopenMonthEndpoint.Validate("2026-08", new ReopenMonth("short"))).Errors.Keys);
    }

    [Fact]
    public void the_rule_decides_whether_a_fact_dated_in_a_closed_month_is_refused_and_a_replay_still_gets_its_answer()
    {
        var set = SetClosedPeriodRuleEndpoint.Decide(null, new SetClosedPeriodRule("move"), Now);
        Assert.Equal(ClosedPeriodRule.Move, Assert.IsType<ClosedPeriodRuleSet>(Assert.Single(set.EventsFor(Books.StreamId))).Rule);
        Assert.IsType<Outcome.Replayed>(SetClosedPeriodRuleEndpoint.Decide(new Books(), new SetClosedPeriodRule("refuse"), Now));

        var books = Closed("2026-07");
        var accepted = Outcome.Created("/x", null);
        var refused = Rejected(ClosedPeriods.Guard(accepted, books, new DateOnly(2026, 7, 31), "receivedOn"), 422, "receivedOn");
        Assert.Contains("08/01/2026", refused.Errors["receivedOn"][0]);
        Assert.Same(accepted, ClosedPeriods.Guard(accepted, books, new DateOnly(2026, 8, 1), "receivedOn"));
        var replay = Outcome.Replay("before");
        Assert.Same(replay, ClosedPeriods.Guard(replay, books, new DateOnly(2026, 7, 2), "receivedOn"));
        books.Apply(new ClosedPeriodRuleSet(Books.StreamId, ClosedPeriodRule.Move, Now));
        Assert.Same(accepted, ClosedPeriods.Guard(accepted, books, new DateOnly(2026, 7, 2), "receivedOn"));
        Assert.Same(accepted, ClosedPeriods.Guard(accepted, null, new DateOnly(2020, 1, 1), "receivedOn"));
    }

    [Fact]
    public void an_insurers_payment_is_its_payment_and_adjustment_and_the_patients_share_a_transfer_summing_to_nothing()
    {
        var before = new Dictionary<GlAccount, decimal> { [GlAccount.ArInsurance] = 510m, [GlAccount.RevenueInfusions] = -510m };
        var after = new Dictionary<GlAccount, decimal>
        {
            [GlAccount.ArInsurance] = 0m, [GlAccount.ArPatients] = 60m, [GlAccount.UndepositedFunds] = 300m, [GlAccount.ContractualAdjustments] = 150m,
            [GlAccount.RevenueInfusions] = -510m
        };
        var moved = ReceivableMovement.Of(new InsurancePaymentPosted(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), "835", [], 300m, Now), before, after);
        Assert.Equal(new ArMovement(0m, 300m, 150m, -60m), moved[ResponsibleParty.Insurance]);
        Assert.Equal(new ArMovement(0m, 0m, 0m, 60m), moved[ResponsibleParty.Patient]);
        Assert.Equal(0m, moved.Values.Sum(m => m.Transfers));
        Assert.Equal(-510m, moved[ResponsibleParty.Insurance].Net);

        var charged = ReceivableMovement.Of(new PaymentApplied(Guid.NewGuid(), Guid.NewGuid(), [], 40m, Now),
            new Dictionary<GlAccount, decimal> { [GlAccount.ArPatients] = 60m, [GlAccount.RefundsPayable] = -40m },
            new Dictionary<GlAccount, decimal> { [GlAccount.ArPatients] = 20m });
        Assert.Equal(new ArMovement(0m, 40m, 0m, 0m), Assert.Single(charged).Value);
    }

    [Fact]
    public void a_clinic_names_an_account_with_a_number_and_a_name_no_other_account_has()
    {
        var set = SetChartAccountEndpoint.Decide(null, "ar-patients", new SetChartAccount(" 12000 ", " Patient receivables "), Now);
        var e = Assert.IsType<ChartAccountSet>(Assert.Single(set.EventsFor(ClinicChart.StreamId)));
        Assert.Equal((GlAccount.ArPatients, "12000", "Patient receivables"), (e.Account, e.Number, e.Name));
        var chart = ClinicChart.Create(e);
        Assert.Equal(("12000", "Patient receivables"), ClinicChart.Accounts(chart).Where(a => a.Account == GlAccount.ArPatients).Select(a => (a.Number, a.Name)).Single());
        Assert.Equal("1000", ClinicChart.Accounts(chart).Single(a => a.Account == GlAccount.Cash).Number);

        Assert.IsType<Outcome.Replayed>(SetChartAccountEndpoint.Decide(chart, "ar-patients", new SetChartAccount("12000", "Patient receivables"), Now));
        Assert.Contains("Patient receivables", Rejected(SetChartAccountEndpoint.Decide(chart, "cash", new SetChartAccount("12000", "Bank"), Now), 422, "number").Errors["number"][0]);
        Assert.Contains("12000", Rejected(SetChartAccountEndpoint.Decide(chart, "cash", new SetChartAccount("1000", "PATIENT RECEIVABLES"), Now), 422, "name").Errors["name"][0]);
        Rejected(SetChartAccountEndpoint.Decide(chart, "ArPatients", new SetChartAccount("1", "X"), Now), 404);
        // Its old number is free again.
        Assert.True(SetChartAccountEndpoint.Decide(chart, "cash", new SetChartAccount("1100", "Bank"), Now).IsAccepted);
    }
}
