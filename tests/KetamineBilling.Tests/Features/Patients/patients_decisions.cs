using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Locations;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace KetamineBilling.Tests.Features.Patients;

/// <summary>
/// Every decision of the patient's account, without a host: given the account's events, when a command, then the
/// outcome's events (or messages), its replay, or its rejection with field, rule and status.
/// </summary>
public class patients_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 15, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly Today = new(2026, 6, 1);
    private static readonly Provider Provider = new() { Id = "dr-a", Name = "A", Npi = "1234567893" };
    private static readonly Payer Payer = new() { Id = Guid.NewGuid(), Name = "Blue", PayerId = "BLU01" };

    private readonly Guid _patientId = Guid.NewGuid();
    private readonly Guid _s1 = Guid.NewGuid(), _s2 = Guid.NewGuid(), _p1 = Guid.NewGuid(), _p2 = Guid.NewGuid();

    private PatientRegistered Registered => new(_patientId, "Avery", "Lindqvist", new DateOnly(1984, 3, 12), null, null, Now.AddDays(-60));

    /// <summary>A self-pay session of two lines, 450.00 and 60.00, owed by the patient.</summary>
    private SessionDelivered Session(Guid id, DateOnly on) => new(_patientId, id, on, 45, "main",
        [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m), new ChargeLine(2, "J3490", "Ketamine", 1, 60m, 60m)], ["F33.2"], 510m, Now, "dr-a");

    private PaymentReceived Received(Guid id, decimal amount, DateOnly on) => new(_patientId, id, PaymentMethod.Card, amount, on, null, Now);

    private PatientAccount Account(params object[] events) => Given.Aggregate<PatientAccount>([Registered, .. events]);

    private static FeeSchedule Schedule()
    {
        var schedule = new FeeSchedule { Id = FeeSchedule.StreamId };
        var projection = new FeeScheduleProjection();
        projection.Apply(new FeePriceSet(schedule.Id, "96365", "IV infusion", 450m, new DateOnly(2026, 1, 1), Now, CashPrice: 400m), schedule);
        projection.Apply(new FeePriceSet(schedule.Id, "J3490", "Ketamine", 60m, new DateOnly(2026, 1, 1), Now, CashPrice: 50m), schedule);
        return schedule;
    }

    private static Outcome.Rejected Rejected(Outcome outcome, int status, string? field = null)
    {
        var rejected = Assert.IsType<Outcome.Rejected>(outcome);
        Assert.Equal(status, rejected.Status);
        if (field is not null) Assert.Contains(field, rejected.Errors.Keys);
        return rejected;
    }

    private List<object> Accepted(Outcome outcome, int status)
    {
        var accepted = Assert.IsType<Outcome.Accepted>(outcome);
        Assert.Equal(status, accepted.Status);
        return [.. outcome.EventsFor(_patientId)];
    }

    [Fact]
    public void registering_starts_the_account_and_the_same_id_again_is_a_replay_or_a_conflict()
    {
        var command = new RegisterPatient(" Avery ", "Lindqvist", new DateOnly(1984, 3, 12), null, null, PatientId: _patientId);

        var outcome = RegisterPatientEndpoint.Decide(null, command, _patientId, Now);

        var stream = Assert.Single(Assert.IsType<Outcome.Accepted>(outcome).Streams);
        Assert.Equal(typeof(PatientAccount), stream.StartAs);
        var registered = Assert.IsType<PatientRegistered>(Assert.Single(stream.Events));
        Assert.Equal("Avery", registered.FirstName);
        Assert.IsType<Outcome.Replayed>(RegisterPatientEndpoint.Decide(registered, command, _patientId, Now.AddHours(1)));
        Rejected(RegisterPatientEndpoint.Decide(registered, command with { LastName = "Other" }, _patientId, Now), StatusCodes.Status409Conflict);
        Rejected(RegisterPatientEndpoint.Decide(null, command, Guid.Empty, Now), StatusCodes.Status400BadRequest, "patientId");
    }

    [Fact]
    public void correcting_details_records_only_what_differs_and_never_a_birth_after_the_first_session()
    {
        var account = Account(Session(_s1, new DateOnly(2026, 5, 1)));
        var command = new CorrectPatientDetails(Guid.NewGuid(), "Avery", "Lindqvist-Moe", new DateOnly(1984, 3, 12));

        var events = Accepted(CorrectPatientDetailsEndpoint.Decide(account, command, Now), StatusCodes.Status200OK);

        var corrected = Assert.IsType<PatientDetailsCorrected>(Assert.Single(events));
        Assert.Equal("Lindqvist-Moe", corrected.LastName);
        Assert.Equal("U", corrected.Sex);
        Assert.IsType<Outcome.Replayed>(CorrectPatientDetailsEndpoint.Decide(account.Then([.. events]), command, Now));
        Rejected(CorrectPatientDetailsEndpoint.Decide(account, command with { ChangeId = Guid.NewGuid(), DateOfBirth = new DateOnly(2026, 5, 2) }, Now),
            StatusCodes.Status422UnprocessableEntity, "dateOfBirth");
    }

    [Fact]
    public void coverage_needs_a_payer_and_takes_an_id_from_the_member_id_when_none_is_given()
    {
        var command = new RecordCoverage(null, Payer.Id, " M-1 ", "primary", Copay: 40m);

        Rejected(RecordCoverageEndpoint.Decide(Account(), command, null, Today, Now), StatusCodes.Status422UnprocessableEntity, "payerId");
        var events = Accepted(RecordCoverageEndpoint.Decide(Account(), command, Payer, Today, Now), StatusCodes.Status201Created);

        var coverage = Assert.IsType<CoverageRecorded>(Assert.Single(events));
        Assert.Equal(DeterministicGuid.From(Payer.Id, $"coverage:{_patientId:N}:M-1"), coverage.CoverageId);
        Assert.Equal(("M-1", Today, CoveragePriority.Primary), (coverage.MemberId, coverage.ActiveFrom, coverage.Priority));
        Assert.IsType<Outcome.Replayed>(RecordCoverageEndpoint.Decide(Account(coverage), command, Payer, Today.AddDays(3), Now.AddDays(3)));
        Rejected(RecordCoverageEndpoint.Decide(Account(coverage), command with { Copay = 50m }, Payer, Today, Now), StatusCodes.Status409Conflict);
    }

    [Fact]
    public void a_self_pay_session_is_charged_at_list_price_with_the_cash_price_gap_as_a_discount()
    {
        var command = new DeliverSession(_s1, new DateOnly(2026, 5, 1), 45, "main", [new SessionLineInput("96365", 1), new SessionLineInput("j3490", 2)],
            ["f33.2"], "dr-a");

        var outcome = DeliverSessionEndpoint.Decide(Account(), command, Schedule(), null, Provider, Now);

        var events = Accepted(outcome, StatusCodes.Status201Created);
        var delivered = Assert.IsType<SessionDelivered>(events[0]);
        Assert.Equal((570m, ResponsibleParty.Patient), (delivered.TotalCharge, delivered.ResponsibleParty));
        var discount = Assert.IsType<DiscountGranted>(events[1]);
        Assert.Equal((DiscountBasis.CashPrice, 70m), (discount.Basis, discount.Total));
        Assert.Empty(outcome.OutgoingMessages);
        Assert.IsType<Outcome.Replayed>(DeliverSessionEndpoint.Decide(Account([.. events]), command, Schedule(), null, Provider, Now));
        Rejected(DeliverSessionEndpoint.Decide(Account(), command, Schedule(), null, null, Now), StatusCodes.Status422UnprocessableEntity, "providerId");
    }

    /// <summary>The clinic's locations as their projection folds the events.</summary>
    private static ClinicLocations Locations(params object[] events)
    {
        var projection = new ClinicLocationsProjection();
        var state = projection.Create((LocationAdded)events[0]);
        foreach (var e in events.Skip(1))
        {
            state = e switch
            {
                LocationAdded added => projection.Apply(added, state),
                LocationDeactivated off => projection.Apply(off, state),
                _ => throw new ArgumentException(e.GetType().Name)
            };
        }

        return state;
    }

    [Fact]
    public void a_session_is_recorded_only_at_an_active_location_once_the_clinic_has_set_its_locations_up()
    {
        var command = new DeliverSession(_s1, new DateOnly(2026, 5, 1), 45, "main", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-a");
        var address = new PostalAddress("1 Main St", null, "Chicago", "IL", "60611");
        var locations = Locations(
            new LocationAdded(ClinicLocations.StreamId, "main", "Main clinic", address, "11", Now.AddDays(-30)),
            new LocationAdded(ClinicLocations.StreamId, "north", "North office", address, "11", Now.AddDays(-30)),
            new LocationDeactivated(ClinicLocations.StreamId, "north", Now.AddDays(-1)));

        var charged = Accepted(DeliverSessionEndpoint.Decide(Account(), command, Schedule(), null, Provider, Now, locations), StatusCodes.Status201Created);
        Assert.Equal("main", Assert.IsType<SessionDelivered>(charged[0]).LocationId);
        var unknown = Rejected(DeliverSessionEndpoint.Decide(Account(), command with { LocationId = "south" }, Schedule(), null, Provider, Now, locations),
            StatusCodes.Status422UnprocessableEntity, "locationId");
        Assert.Contains("south is not a location of the clinic", unknown.Errors["locationId"][0]);
        var deactivated = Rejected(DeliverSessionEndpoint.Decide(Account(), command with { LocationId = "north" }, Schedule(), null, Provider, Now, locations),
            StatusCodes.Status422UnprocessableEntity, "locationId");
        Assert.Contains("North office is deactivated", deactivated.Errors["locationId"][0]);

        // A session recorded at North before it closed stays a replay when sent again.
        var atNorth = command with { SessionId = _s2, LocationId = "north" };
        var before = Locations(new LocationAdded(ClinicLocations.StreamId, "north", "North office", address, "11", Now.AddDays(-30)));
        var recorded = Accepted(DeliverSessionEndpoint.Decide(Account(), atNorth, Schedule(), null, Provider, Now, before), StatusCodes.Status201Created);
        Assert.IsType<Outcome.Replayed>(DeliverSessionEndpoint.Decide(Account([.. recorded]), atNorth, Schedule(), null, Provider, Now, locations));
        // A clinic with no location set up yet records the id it is given.
        Accepted(DeliverSessionEndpoint.Decide(Account(), command with { LocationId = "south" }, Schedule(), null, Provider, Now, null), StatusCodes.Status201Created);
    }

    [Fact]
    public void an_employer_funded_session_is_owed_by_the_employer_and_tells_the_employers_area()
    {
        var command = new DeliverSession(_s1, new DateOnly(2026, 5, 1), 45, "main", [new SessionLineInput("96365", 1)], ["F33.2"], "dr-a", ["employer"]);

        var outcome = DeliverSessionEndpoint.Decide(Account(), command, Schedule(), null, Provider, Now);

        var delivered = Assert.IsType<SessionDelivered>(Assert.Single(Accepted(outcome, StatusCodes.Status201Created)));
        Assert.Equal(ResponsibleParty.Employer, delivered.ResponsibleParty);
        var message = Assert.IsType<EmployerFundedSessionDelivered>(Assert.Single(outcome.OutgoingMessages));
        Assert.Equal((_patientId, _s1), (message.PatientId, message.SessionId));
    }

    [Fact]
    public void a_letter_needs_a_provider_of_the_clinic_and_its_id_is_kept_for_its_content()
    {
        var command = new RecordLetterOfMedicalNecessity(Guid.NewGuid(), "MDD", "IV ketamine", "6 infusions", Today, Today.AddDays(365), "dr-a");

        Rejected(RecordLetterEndpoint.Decide(Account(), command, null, Now), StatusCodes.Status422UnprocessableEntity, "providerId");
        var letter = Assert.IsType<LetterOfMedicalNecessityRecorded>(Assert.Single(
            Accepted(RecordLetterEndpoint.Decide(Account(), command, Provider, Now), StatusCodes.Status201Created)));

        Assert.Equal("dr-a", letter.ProviderId);
        Assert.IsType<Outcome.Replayed>(RecordLetterEndpoint.Decide(Account(letter), command, Provider, Now.AddHours(2)));
        Rejected(RecordLetterEndpoint.Decide(Account(letter), command with { Frequency = "weekly" }, Provider, Now), StatusCodes.Status409Conflict);
    }

    [Fact]
    public void a_good_faith_estimate_is_priced_at_the_cash_price_for_a_planned_series()
    {
        var series = new TreatmentSeriesPlanned(_patientId, Guid.NewGuid(), "Initial", 6, Today, Now);
        var command = new IssueGoodFaithEstimate(Guid.NewGuid(), series.SeriesId, null, [new EstimateLineInput("96365", 6), new EstimateLineInput("J3490", 6)]);

        var estimate = Assert.IsType<GoodFaithEstimateIssued>(Assert.Single(
            Accepted(IssueEstimateEndpoint.Decide(Account(series), command, Schedule(), Today, Now), StatusCodes.Status201Created)));

        Assert.Equal((2700m, Today), (estimate.Total, estimate.IssuedOn));
        Rejected(IssueEstimateEndpoint.Decide(Account(), command, Schedule(), Today, Now), StatusCodes.Status422UnprocessableEntity, "seriesId");
        Assert.IsType<Outcome.Replayed>(IssueEstimateEndpoint.Decide(Account(series, estimate), command, Schedule(), Today, Now));
    }

    [Fact]
    public void a_series_is_planned_once_per_id()
    {
        var command = new PlanSeries(Guid.NewGuid(), " Initial series ", 6, null);

        var planned = Assert.IsType<TreatmentSeriesPlanned>(Assert.Single(
            Accepted(PlanSeriesEndpoint.Decide(Account(), command, Today, Now), StatusCodes.Status201Created)));

        Assert.Equal(("Initial series", Today), (planned.Description, planned.PlannedOn));
        Assert.IsType<Outcome.Replayed>(PlanSeriesEndpoint.Decide(Account(planned), command, Today, Now));
        Rejected(PlanSeriesEndpoint.Decide(Account(planned), command with { PlannedSessions = 8 }, Today, Now), StatusCodes.Status409Conflict);
    }

    [Fact]
    public void a_payment_is_received_then_applied_to_the_oldest_open_lines()
    {
        var account = Account(Session(_s1, new DateOnly(2026, 5, 1)), Session(_s2, new DateOnly(2026, 5, 8)));
        var command = new RecordPayment(_p1, "card", 500m, new DateOnly(2026, 5, 20), " ref-1 ");

        var events = Accepted(RecordPaymentEndpoint.Decide(account, command, Now), StatusCodes.Status201Created);

        Assert.Equal(("ref-1", 500m), (Assert.IsType<PaymentReceived>(events[0]).Reference, ((PaymentReceived)events[0]).Amount));
        Assert.Equal([new LineAmount(_s1, 1, 450m), new LineAmount(_s1, 2, 50m)], Assert.IsType<PaymentApplied>(events[1]).Allocations);
        Assert.IsType<Outcome.Replayed>(RecordPaymentEndpoint.Decide(account.Then([.. events]), command, Now));
        Rejected(RecordPaymentEndpoint.Decide(account, command, Now, new PaymentOwner(_p1, Guid.NewGuid())), StatusCodes.Status409Conflict);
        Rejected(RecordPaymentEndpoint.Decide(account, command with { PaymentId = _p2, ApplyTo = [new LineTarget(Guid.NewGuid(), null)] }, Now),
            StatusCodes.Status422UnprocessableEntity, "applyTo[0].sessionId");
    }

    [Fact]
    public void credit_is_applied_from_the_oldest_payment_first_to_the_lines_named_in_order()
    {
        var account = Account(Received(_p1, 100m, new DateOnly(2026, 4, 1)), Received(_p2, 50m, new DateOnly(2026, 4, 2)), Session(_s1, new DateOnly(2026, 5, 1)));
        var command = new ApplyCredit(Guid.NewGuid(), null, 120m, [new LineTarget(_s1, 2), new LineTarget(_s1, 1)]);

        var events = Accepted(ApplyCreditEndpoint.Decide(account, command, Now), StatusCodes.Status200OK);

        Assert.Equal(2, events.Count);
        var first = Assert.IsType<PaymentApplied>(events[0]);
        Assert.Equal((_p1, command.ApplicationId), (first.PaymentId, first.ApplicationId));
        Assert.Equal([new LineAmount(_s1, 2, 60m), new LineAmount(_s1, 1, 40m)], first.Allocations);
        var second = Assert.IsType<PaymentApplied>(events[1]);
        Assert.Equal((_p2, 20m), (second.PaymentId, second.Total));
        Assert.Equal([new LineAmount(_s1, 1, 20m)], second.Allocations);
        Assert.IsType<Outcome.Replayed>(ApplyCreditEndpoint.Decide(account.Then([.. events]), command, Now));
        Rejected(ApplyCreditEndpoint.Decide(account, command with { ApplicationId = Guid.NewGuid(), Amount = 151m }, Now),
            StatusCodes.Status422UnprocessableEntity, "amount");
        var noCredit = Rejected(ApplyCreditEndpoint.Decide(Account(Session(_s1, new DateOnly(2026, 5, 1))), new ApplyCredit(Guid.NewGuid(), null, null, null), Now),
            StatusCodes.Status422UnprocessableEntity, "amount");
        Assert.Equal(["there is no unapplied credit to apply"], noCredit.Errors["amount"]);
    }

    [Fact]
    public void a_refund_takes_the_most_recent_payments_credit_first_and_never_more_than_the_credit()
    {
        var account = Account(Received(_p1, 100m, new DateOnly(2026, 4, 1)), Received(_p2, 50m, new DateOnly(2026, 4, 2)));
        var command = new IssueRefund(Guid.NewGuid(), 120m, "card", " overpaid ");

        var refund = Assert.IsType<RefundIssued>(Assert.Single(Accepted(IssueRefundEndpoint.Decide(account, command, Now), StatusCodes.Status201Created)));

        Assert.Equal([new PaymentSource(_p2, 50m), new PaymentSource(_p1, 70m)], refund.Sources);
        Assert.Equal("overpaid", refund.Reason);
        Assert.IsType<Outcome.Replayed>(IssueRefundEndpoint.Decide(account.Then(refund), command, Now));
        Rejected(IssueRefundEndpoint.Decide(account.Then(refund), command with { Amount = 10m }, Now), StatusCodes.Status409Conflict);
        Rejected(IssueRefundEndpoint.Decide(Account(Received(_p1, 100m, Today)), command with { RefundId = Guid.NewGuid() }, Now),
            StatusCodes.Status422UnprocessableEntity, "amount");
    }

    [Fact]
    public void reversing_a_payment_reopens_what_it_paid_once_and_never_after_a_refund()
    {
        var account = Account(Session(_s1, new DateOnly(2026, 5, 1)));
        account.Then([.. RecordPaymentEndpoint.Decide(account, new RecordPayment(_p1, "check", 100m, new DateOnly(2026, 5, 2), null), Now).EventsFor(_patientId)]);

        var events = Accepted(ReversePaymentEndpoint.Decide(account, new ReversePayment(" bounced ", null), _p1, Today, Now), StatusCodes.Status200OK);

        var unapplied = Assert.IsType<PaymentUnapplied>(events[0]);
        Assert.Equal([new LineAmount(_s1, 1, 100m)], unapplied.Allocations);
        Assert.Equal((100m, "payment reversed"), (unapplied.Total, unapplied.Reason));
        var reversed = Assert.IsType<PaymentReversed>(events[1]);
        Assert.Equal((100m, "bounced", Today), (reversed.Amount, reversed.Reason, reversed.ReversedOn));
        Rejected(ReversePaymentEndpoint.Decide(account, new ReversePayment("x", null), Guid.NewGuid(), Today, Now), StatusCodes.Status404NotFound);
        Rejected(ReversePaymentEndpoint.Decide(account.Then([.. events]), new ReversePayment("x", null), _p1, Today, Now), StatusCodes.Status409Conflict);
        var refunded = Account(Received(_p2, 80m, Today), new RefundIssued(_patientId, Guid.NewGuid(), 30m, PaymentMethod.Card, "r", [new PaymentSource(_p2, 30m)], Now));
        Rejected(ReversePaymentEndpoint.Decide(refunded, new ReversePayment("x", null), _p2, Today, Now), StatusCodes.Status422UnprocessableEntity, "paymentId");
    }

    [Fact]
    public void a_write_off_fills_the_open_lines_in_order()
    {
        var account = Account(Session(_s1, new DateOnly(2026, 5, 1)));
        var command = new WriteOffBalance(Guid.NewGuid(), "bad-debt", null, 470m, null);

        var writeOff = Assert.IsType<BalanceWrittenOff>(Assert.Single(
            Accepted(WriteOffBalanceEndpoint.Decide(account, command, Now), StatusCodes.Status201Created)));

        Assert.Equal([new LineAmount(_s1, 1, 450m), new LineAmount(_s1, 2, 20m)], writeOff.Allocations);
        Assert.IsType<Outcome.Replayed>(WriteOffBalanceEndpoint.Decide(account.Then(writeOff), command, Now));
        Rejected(WriteOffBalanceEndpoint.Decide(Account(), command with { Amount = null }, Now), StatusCodes.Status422UnprocessableEntity, "amount");
    }

    [Fact]
    public void a_discount_on_a_paid_session_is_prorated_and_gives_the_paid_part_back_as_credit()
    {
        var account = Account(Session(_s1, new DateOnly(2026, 5, 1)));
        account.Then([.. RecordPaymentEndpoint.Decide(account, new RecordPayment(_p1, "card", 510m, new DateOnly(2026, 5, 2), null), Now).EventsFor(_patientId)]);
        var command = new GrantDiscount(Guid.NewGuid(), "per-session", "percentage", 10m, null, _s1, null, "hardship");

        var events = Accepted(GrantDiscountEndpoint.Decide(account, command, Now), StatusCodes.Status201Created);

        Assert.Equal(3, events.Count);
        Assert.Equal([new LineAmount(_s1, 1, 45m)], Assert.IsType<PaymentUnapplied>(events[0]).Allocations);
        Assert.Equal([new LineAmount(_s1, 2, 6m)], Assert.IsType<PaymentUnapplied>(events[1]).Allocations);
        var granted = Assert.IsType<DiscountGranted>(events[2]);
        Assert.Equal(51m, granted.Total);
        Assert.Equal([new LineAmount(_s1, 1, 45m), new LineAmount(_s1, 2, 6m)], granted.Allocations);
        Assert.IsType<Outcome.Replayed>(GrantDiscountEndpoint.Decide(account.Then([.. events]), command, Now));
        Rejected(GrantDiscountEndpoint.Decide(account, command with { DiscountId = Guid.NewGuid(), SessionId = Guid.NewGuid() }, Now),
            StatusCodes.Status422UnprocessableEntity, "sessionId");
    }

    [Fact]
    public void a_payment_plan_schedules_no_more_than_the_patient_owes()
    {
        var account = Account(Session(_s1, new DateOnly(2026, 5, 1)));
        var command = new AgreePaymentPlan(Guid.NewGuid(), null, [new InstalmentInput(Today.AddDays(10), 200m), new InstalmentInput(Today.AddDays(40), 310m)]);

        var plan = Assert.IsType<PaymentPlanAgreed>(Assert.Single(
            Accepted(AgreePaymentPlanEndpoint.Decide(account, command, Today, Now), StatusCodes.Status201Created)));

        Assert.Equal((510m, Today, 2), (plan.Total, plan.AgreedOn, plan.Instalments.Count));
        Assert.IsType<Outcome.Replayed>(AgreePaymentPlanEndpoint.Decide(Account(Session(_s1, new DateOnly(2026, 5, 1)), plan), command, Today, Now));
        Rejected(AgreePaymentPlanEndpoint.Decide(Account(Session(_s1, new DateOnly(2026, 5, 1)), plan), command with { PlanId = Guid.NewGuid() }, Today, Now),
            StatusCodes.Status422UnprocessableEntity, "instalments");
    }

    [Fact]
    public void an_out_of_network_reimbursement_names_a_payer_and_the_patients_sessions()
    {
        var account = Account(Session(_s1, new DateOnly(2026, 5, 1)));
        var command = new ReportOutOfNetworkReimbursement(Guid.NewGuid(), Payer.Id, 300m, Today, [_s1]);

        var reported = Assert.IsType<OutOfNetworkReimbursementReported>(Assert.Single(
            Accepted(ReportOutOfNetworkReimbursementEndpoint.Decide(account, command, Payer, Now), StatusCodes.Status201Created)));

        Assert.Equal((300m, Payer.Id), (reported.Amount, reported.PayerId));
        Assert.IsType<Outcome.Replayed>(ReportOutOfNetworkReimbursementEndpoint.Decide(account.Then(reported), command, Payer, Now));
        var rejected = Rejected(ReportOutOfNetworkReimbursementEndpoint.Decide(account, command with { SessionIds = [Guid.NewGuid()] }, null, Now),
            StatusCodes.Status422UnprocessableEntity, "payerId");
        Assert.Contains("sessionIds[0]", rejected.Errors.Keys);
    }
}
