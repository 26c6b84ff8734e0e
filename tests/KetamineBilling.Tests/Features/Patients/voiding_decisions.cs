using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Patients;

/// <summary>Voiding a session, decided without a host: the patient's events, and the third parties told by a message.</summary>
public class voiding_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 3, 20, 15, 0, 0, TimeSpan.Zero);
    private static readonly Guid PatientId = Guid.NewGuid();
    private static readonly Guid SessionId = Guid.NewGuid();
    private static readonly Guid PaymentId = Guid.NewGuid();

    private static PatientAccount Account(params FundingSource[] funding) => Given.Aggregate<PatientAccount>(
        new PatientRegistered(PatientId, "Vic", "Void", new DateOnly(1980, 1, 1), null, null, Now),
        new SessionDelivered(PatientId, SessionId, new DateOnly(2026, 3, 10), 60, "main", [new ChargeLine(1, "96365", "IV infusion", 1, 450m, 450m)], ["F33.2"],
            450m, Now, "dr-a", funding, null, null, DeliverSessionEndpoint.FirstParty(funding)));

    [Fact]
    public void a_voided_self_pay_session_returns_its_payments_to_credit_and_tells_no_one()
    {
        var account = Account(FundingSource.SelfPay).Then(
            new PaymentReceived(PatientId, PaymentId, PaymentMethod.Card, 100m, new DateOnly(2026, 3, 10), null, Now),
            new PaymentApplied(PatientId, PaymentId, [new LineAmount(SessionId, 1, 100m)], 100m, Now));

        var outcome = VoidSessionEndpoint.Decide(account, new VoidSession(" entered twice "), SessionId, null, Now);

        var events = outcome.EventsFor(PatientId);
        Assert.Equal(("entered twice", 450m), (Assert.IsType<SessionVoided>(events[0]).Reason, ((SessionVoided)events[0]).ChargeReversed));
        Assert.Equal((PaymentId, 100m), (Assert.IsType<PaymentUnapplied>(events[1]).PaymentId, ((PaymentUnapplied)events[1]).Total));
        Assert.Empty(outcome.OutgoingMessages);
    }

    [Fact]
    public void a_voided_funded_session_tells_the_third_parties_to_let_it_go()
    {
        var outcome = VoidSessionEndpoint.Decide(Account(FundingSource.Insurance, FundingSource.Employer), new VoidSession("entered twice"), SessionId, null, Now);

        Assert.IsType<SessionVoided>(Assert.Single(outcome.EventsFor(PatientId)));
        Assert.Equal(new FundedSessionVoided(PatientId, SessionId, "entered twice", Now), Assert.Single(outcome.OutgoingMessages));
    }

    [Fact]
    public void a_session_is_not_voided_twice_nor_while_an_employer_has_it_on_an_invoice_nor_when_it_is_not_there()
    {
        var invoiced = Assert.IsType<Outcome.Rejected>(VoidSessionEndpoint.Decide(Account(FundingSource.Employer), new VoidSession("x"), SessionId, "Acme Logistics", Now));
        Assert.Equal((409, $"session {SessionId} is on an invoice to Acme Logistics: credit the invoice first"), (invoiced.Status, invoiced.Detail));

        var voided = Account(FundingSource.SelfPay);
        voided.Then(VoidSessionEndpoint.Decide(voided, new VoidSession("first"), SessionId, null, Now).EventsFor(PatientId).ToArray());
        Assert.Equal($"session {SessionId} was already voided (first)",
            Assert.IsType<Outcome.Rejected>(VoidSessionEndpoint.Decide(voided, new VoidSession("again"), SessionId, null, Now)).Detail);
        Assert.Equal(404, Assert.IsType<Outcome.Rejected>(VoidSessionEndpoint.Decide(voided, new VoidSession("x"), Guid.NewGuid(), null, Now)).Status);
    }
}
