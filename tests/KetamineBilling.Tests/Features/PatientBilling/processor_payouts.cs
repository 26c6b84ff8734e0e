using System.Net;
using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Tests.Infrastructure;
using Stripe;
using static KetamineBilling.Tests.Infrastructure.FakeStripe;
using static KetamineBilling.Tests.Infrastructure.ProcessorEvents;

namespace KetamineBilling.Tests.Features.PatientBilling;

/// <summary>
/// The processor's payouts: a paid payout's balance transactions are listed through the official library (from the local fake of
/// Stripe's API), its gross, fees and net recorded once, and the bank deposit of its net matches it though it is less than the card
/// payments it holds.
/// </summary>
public class processor_payouts(AppFixture fixture) : IntegrationContext(fixture)
{
    private static DateOnly Today => Scenarios.ClinicToday;

    /// <summary>Two patients who paid $450.00 and $200.00 through the processor, $50.00 of the second refunded.</summary>
    private async Task<(Guid Pia, Guid Rex)> PaidByCardAsync(string tag)
    {
        await Fixture.PricedCode("96365", 450m);
        var pia = await Fixture.RegisteredPatient("Pia", $"Payout{tag}");
        var rex = await Fixture.RegisteredPatient("Rex", $"Payout{tag}");
        await Fixture.DeliveredSession(pia, Scenarios.Session(deliveredOn: Today.AddDays(-6)));
        await Fixture.DeliveredSession(rex, Scenarios.Session(deliveredOn: Today.AddDays(-6)));
        Assert.Contains("recorded", (await Fixture.DeliverAsync(Signed(EventTypes.CheckoutSessionCompleted, CheckoutCompleted($"pi_{tag}_pia", 45000, pia, Guid.NewGuid())))).Body);
        Assert.Contains("recorded", (await Fixture.DeliverAsync(Signed(EventTypes.CheckoutSessionCompleted, CheckoutCompleted($"pi_{tag}_rex", 20000, rex, Guid.NewGuid())))).Body);
        var refund = new Dictionary<string, object?>
        {
            ["id"] = $"ch_{tag}_rex", ["object"] = "charge", ["amount"] = 20000, ["amount_refunded"] = 5000, ["currency"] = "usd", ["payment_intent"] = $"pi_{tag}_rex",
            ["paid"] = true, ["refunded"] = false, ["status"] = "succeeded"
        };
        Assert.Contains("recorded: $50.00 refunded", (await Fixture.DeliverAsync(Signed(EventTypes.ChargeRefunded, refund))).Body);
        Fixture.Stripe.Payout($"po_{tag}",
            Transaction($"txn_{tag}_1", "charge", 45000, 1335, "charge", $"pi_{tag}_pia"),
            Transaction($"txn_{tag}_2", "charge", 20000, 610, "charge", $"pi_{tag}_rex"),
            Transaction($"txn_{tag}_3", "refund", -5000, 0, "refund", $"pi_{tag}_rex"),
            Transaction($"txn_{tag}_4", "payout", -58055, 0));
        return (pia, rex);
    }

    [Fact]
    public async Task a_paid_payout_is_recorded_once_with_gross_fees_and_net_and_the_deposit_of_its_net_matches_it()
    {
        var (pia, _) = await PaidByCardAsync("t1");
        // A card payment taken at the desk the same day: the day's card takings hold it, not the processor's payments.
        await Fixture.Post<PaymentResult>($"/api/patients/{pia}/payments", new RecordPayment(Guid.NewGuid(), "card", 75m, Today, "desk terminal"), 201);

        var paid = Signed(EventTypes.PayoutPaid, PayoutPaid("po_t1", 58055, Today), id: "evt_po_t1");
        var first = await Fixture.DeliverAsync(paid);
        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Contains("recorded: payout po_t1 of $580.55 ($600.00 less $19.45 fees, 3 transactions)", first.Body);
        var asked = Fixture.Stripe.Requests.Last(r => r.Path == "/v1/balance_transactions");
        Assert.Equal(("po_t1", "data.source", "Bearer sk_test_fake"), (asked.Form["payout"], asked.Form.Single(f => f.Key.StartsWith("expand", StringComparison.Ordinal)).Value, asked.Authorization));

        // The same event again, or another event of the same payout: nothing more.
        Assert.Contains("\"duplicate\":true", (await Fixture.DeliverAsync(paid)).Body);
        Assert.Contains("already recorded: payout po_t1", (await Fixture.DeliverAsync(Signed(EventTypes.PayoutPaid, PayoutPaid("po_t1", 58055, Today)))).Body);

        var page = await Fixture.Get<PayoutPage>("/api/payouts");
        var payout = Assert.Single(page.Items);
        Assert.Equal(("po_t1", Today, 600m, 19.45m, 580.55m, 0m, 3, (Guid?)null), (payout.ProcessorPayoutId, payout.ArrivalDate, payout.Gross, payout.Fees, payout.Net,
            payout.Unexplained, payout.Transactions, payout.DepositId));
        Assert.Equal((600m, 19.45m, 580.55m), (page.Gross, page.Fees, page.Net));
        var lines = (await Fixture.Get<PayoutView>($"/api/payouts/{payout.PayoutId}")).Lines!;
        Assert.Equal([("charge", CardProcessor.PaymentIdOf("pi_t1_pia"), 450m, 13.35m, 436.65m), ("charge", CardProcessor.PaymentIdOf("pi_t1_rex"), 200m, 6.10m, 193.90m),
            ("refund", CardProcessor.PaymentIdOf("pi_t1_rex"), -50m, 0m, -50m)], lines.Select(l => (l.Type, l.PaymentId!.Value, l.Amount, l.Fee, l.Net)));

        // The receipts to deposit: the payout's net, and the desk's card takings alone.
        var workspace = await Fixture.GetCaughtUp<DepositWorkspace>("/api/deposits/workspace");
        Assert.Equal([("processor-payout:po_t1", 580.55m), ($"card-batch:{Today:yyyy-MM-dd}", 75m)],
            workspace.UndepositedReceipts.OrderBy(r => r.Kind, StringComparer.Ordinal).Reverse().Select(r => (r.Key, r.Amount)));
        Assert.Contains("$600.00 less $19.45 fees", workspace.UndepositedReceipts.Single(r => r.Kind == "processor-payout").Reference);

        // The bank shows the net: matched to the payout at once, by its reference.
        var deposit = await Fixture.Post<DepositView>("/api/deposits", new RecordDeposit(Guid.NewGuid(), 580.55m, Today, "STRIPE TRANSFER po_t1"), 201);
        Assert.True(deposit.Matched && deposit.Automatic);
        Assert.Equal("processor-payout:po_t1", Assert.Single(deposit.Receipts).Key);
        Assert.Equal(deposit.Id, (await Fixture.Get<PayoutPage>("/api/payouts")).Items.Single().DepositId);
        Assert.Equal(["card-batch"], (await Fixture.GetCaughtUp<DepositWorkspace>("/api/deposits/workspace")).UndepositedReceipts.Select(r => r.Kind));
        Assert.Empty((await Fixture.GetCaughtUp<ExceptionPage>("/api/reconciliation/exceptions?type=deposit-mismatch")).Items);
    }

    [Fact]
    public async Task when_the_processor_does_not_list_the_payout_nothing_is_recorded_and_the_event_delivered_again_is()
    {
        await PaidByCardAsync("t2");
        var paid = Signed(EventTypes.PayoutPaid, PayoutPaid("po_t2", 58055, Today), id: "evt_po_t2");
        Fixture.Stripe.BalanceUnavailable = true;
        try
        {
            var refused = await Fixture.DeliverAsync(paid);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
            Assert.Contains("nothing was recorded", refused.Body);
        }
        finally
        {
            Fixture.Stripe.BalanceUnavailable = false;
        }

        Assert.Empty((await Fixture.Get<PayoutPage>("/api/payouts")).Items);
        Assert.Contains("recorded: payout po_t2", (await Fixture.DeliverAsync(paid)).Body);
        Assert.Single((await Fixture.Get<PayoutPage>("/api/payouts")).Items);
        var missing = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url($"/api/payouts/{Guid.NewGuid()}");
            s.StatusCodeShouldBe(404);
        });
        Assert.Contains("does not exist", (await missing.ReadAsJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>())!.Detail);
        var invalid = await Fixture.Call(As.Billing, s =>
        {
            s.Get.Url("/api/payouts?pageSize=0&from=2026-05-01&to=2026-04-01");
            s.StatusCodeShouldBe(400);
        });
        Assert.Equal(["pageSize", "to"], (await invalid.ReadAsJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>())!.Errors.Keys.Order());
    }
}
