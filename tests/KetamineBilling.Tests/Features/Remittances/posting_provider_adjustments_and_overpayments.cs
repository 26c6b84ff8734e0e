using Alba;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using static KetamineBilling.Tests.Infrastructure.Remittance835Builder;

namespace KetamineBilling.Tests.Features.Remittances;

/// <summary>
/// Payer overpayments and provider-level adjustments (issue 19, ADR 0021): a payment beyond what insurance owes is insurance
/// credit on the claim, on the worklist until refunded by check or recovered in a later 835 (PLB WO); interest (L6) is income;
/// a balance carried forward (PLB FB) stays on the worklist until a later 835 takes it back; every PLB amount is in the journal.
/// </summary>
public class posting_provider_adjustments_and_overpayments(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(-12));
    private Guid _patient;
    private Guid _payer;
    private readonly List<ClaimView> _claims = [];

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        await Fixture.PricedCode("96365", 450m, description: "IV infusion, initial hour");
        _patient = await Fixture.RegisteredPatient("Ingmar", "Oduya-Hallström", new DateOnly(1969, 3, 8));
        _payer = await Fixture.Payer();
        await Fixture.Coverage(_patient, _payer);
        for (var i = 0; i < 3; i++)
        {
            var session = await Fixture.AndWaitForCascades(() => Fixture.DeliveredSession(_patient,
                Scenarios.Session(deliveredOn: Today.AddDays(-20 + i)) with { Funding = ["insurance"] }));
            _claims.Add(await Fixture.Post<ClaimView>("/api/claims", new FileClaim(Guid.NewGuid(), _patient, _payer, [session.SessionId])));
        }
    }

    private Clp Paid(int claim, decimal paid = 300m) =>
        new(_claims[claim].ControlNumber, "1", 450m, paid, 80m, new Svc("96365", 450m, paid, Today.AddDays(-20 + claim), $"{_claims[claim].ControlNumber}-1",
            ("CO", "45", 450m - paid - 80m), ("PR", "2", 80m)));

    private Task<RemittanceUpload> Post835(string file) => Fixture.PostedRemittance(file);

    private async Task<IReadOnlyList<ExceptionItem>> Worklist(string type) =>
        (await Fixture.GetCaughtUp<ExceptionPage>($"/api/reconciliation/exceptions?type={type}")).Items;

    [Fact]
    public async Task a_duplicate_payment_is_insurance_credit_until_a_check_refunds_part_and_the_payer_recovers_the_rest_with_plb_wo_and_interest_is_income()
    {
        await Post835(Build("TRC-OP-1", "BLUE PRAIRIE HEALTH", "BPH01", 300m, Today, [Paid(0)]));
        // The payer pays the same claim again on another check: the line was settled, so all of it is owed back.
        var again = await Post835(Build("TRC-OP-2", "BLUE PRAIRIE HEALTH", "BPH01", 300m, Today, [Paid(0)]));
        Assert.Equal((1, 300m), (again.ClaimsPosted, again.TotalPaid));

        var claim = await Fixture.Get<ClaimView>($"/api/claims/{_claims[0].Id}");
        Assert.Equal((300m, 300m), (claim.PayerCredit!.Overpaid, claim.PayerCredit.Open));
        var line = (await Fixture.BalanceOf(_patient)).Sessions[0].Lines.Single();
        Assert.Equal((300m, 70m, 80m, 0m), (line.InsurancePaid, line.Adjusted, line.PatientDue, line.InsurancePending));
        var item = Assert.Single(await Worklist("payer-overpayment"));
        Assert.Equal((claim.Id, 300m), (item.ClaimId, item.Amount));

        // A check returns 100.00; more than the credit is refused, and the same refund again changes nothing.
        var tooMuch = await Fixture.Post<ValidationProblemDetails>($"/api/claims/{claim.Id}/payer-refunds", new RefundPayer(Guid.NewGuid(), 300.01m, "5521"), 422);
        Assert.Contains("more than the $300.00 of insurance credit", tooMuch.Errors["amount"][0]);
        var refund = new RefundPayer(Guid.NewGuid(), 100m, "5521", Today);
        Assert.Equal(200m, (await Fixture.Post<PayerCredit>($"/api/claims/{claim.Id}/payer-refunds", refund, 200)).Open);
        Assert.Equal(200m, (await Fixture.Post<PayerCredit>($"/api/claims/{claim.Id}/payer-refunds", refund, 200)).Open);
        await Fixture.Post<ProblemDetails>($"/api/claims/{claim.Id}/payer-refunds", refund with { Amount = 90m }, 409);
        Assert.Equal(200m, Assert.Single(await Worklist("payer-overpayment")).Amount);

        // The next check pays another claim, keeps back the other 200.00 (WO, naming the claim) and adds 12.50 of interest (L6):
        // 300.00 - (200.00 - 12.50) = 112.50.
        var recovered = await Post835(Build("TRC-OP-3", "BLUE PRAIRIE HEALTH", "BPH01", 112.5m, Today, [Paid(1)],
            ("WO", claim.ControlNumber, 200m), ("L6", "", -12.5m)));
        Assert.Equal(1, recovered.ClaimsPosted);
        claim = await Fixture.Get<ClaimView>($"/api/claims/{claim.Id}");
        Assert.Equal((0m, 2), (claim.PayerCredit!.Open, claim.PayerCredit.Clearings.Count));
        Assert.Equal(("recovery", "835 TRC-OP-3", 200m), (claim.PayerCredit.Clearings[1].How, claim.PayerCredit.Clearings[1].Reference, claim.PayerCredit.Clearings[1].Amount));
        Assert.Empty(await Worklist("payer-overpayment"));
        var detail = await Fixture.Get<RemittanceDetail>($"/api/remittances/{recovered.Remittances[0].RemittanceId}");
        Assert.Equal([("overpayment-recovery", 200m, (Guid?)claim.Id), ("interest", 0m, null)],
            detail.ProviderAdjustmentsPosted!.Select(p => (p.Treatment, p.Applied, p.ClaimId)));

        // The journal: the overpayment held and cleared, the interest as income, and it all balances.
        await Fixture.CaughtUp();
        var journal = await Fixture.Get<JournalPeriod>($"/api/books/journal?from={Today.AddDays(-30):yyyy-MM-dd}&to={Today.AddDays(1):yyyy-MM-dd}&pageSize=200", As.Finance);
        Assert.Equal(journal.Debits, journal.Credits);
        var interest = journal.Items.Single(e => e.Source == "provider-adjustments");
        Assert.Equal([("4800", 0m, 12.5m), ("1010", 12.5m, 0m)], interest.Lines.Select(l => (l.Number, l.Debit, l.Credit)));
        Assert.Equal(300m, journal.Items.Where(e => e.Source == "insurance-overpayment").SelectMany(e => e.Lines).Where(l => l.Number == "2110").Sum(l => l.Credit));
        Assert.Equal(300m, journal.Items.Where(e => e.Source == "insurance-overpayment-cleared").SelectMany(e => e.Lines).Where(l => l.Number == "2110").Sum(l => l.Debit));
        var trial = await Fixture.Get<TrialBalance>($"/api/books/trial-balance?from={Today.AddDays(-30):yyyy-MM-dd}&to={Today.AddDays(1):yyyy-MM-dd}", As.Finance);
        Assert.Equal(0m, trial.Rows.SingleOrDefault(r => r.Account == GlAccount.InsuranceOverpaymentsPayable)?.Closing ?? 0m);
        Assert.Equal(-12.5m, trial.Rows.Single(r => r.Account == GlAccount.InterestIncome).Closing);
    }

    [Fact]
    public async Task a_balance_carried_forward_stays_on_the_worklist_until_a_later_835_takes_it_back_and_other_codes_are_recorded()
    {
        await Post835(Build("TRC-FB-1", "BLUE PRAIRIE HEALTH", "BPH01", 300m, Today, [Paid(0)]));
        // The payer takes back the first claim's payment and pays the second: 200.00 - 300.00 leaves 100.00 owed to it, carried.
        var carried = await Post835(Build("TRC-FB-2", "BLUE PRAIRIE HEALTH", "BPH01", 0m, Today, [
            new Clp(_claims[0].ControlNumber, "22", -450m, -300m, -80m,
                new Svc("96365", -450m, -300m, Today.AddDays(-20), $"{_claims[0].ControlNumber}-1", ("CO", "45", -70m), ("PR", "2", -80m))),
            Paid(1, 200m)
        ], ("FB", "TRC-FB-2", -100m)));
        var carriedId = carried.Remittances[0].RemittanceId;
        var item = Assert.Single(await Worklist("payer-balance-carried"));
        Assert.Equal((100m, $"/remittances/{carriedId}"), (item.Amount, item.Fix));

        // A later check takes it back (FB, positive) and keeps 25.00 for a code the clinic has no rule for (CS, an adjustment).
        var later = await Post835(Build("TRC-FB-3", "BLUE PRAIRIE HEALTH", "BPH01", 175m, Today, [Paid(2)], ("FB", "TRC-FB-2", 100m), ("CS", "ADJ-77", 25m)));
        Assert.Empty(await Worklist("payer-balance-carried"));
        var offset = await Fixture.Get<RemittanceDetail>($"/api/remittances/{carriedId}");
        Assert.Equal(0m, offset.ForwardBalanceOpen);
        var detail = await Fixture.Get<RemittanceDetail>($"/api/remittances/{later.Remittances[0].RemittanceId}");
        Assert.Equal(["Balance forward taken back: $100.00", "CS (adjustment): $25.00 recorded"], detail.ProviderAdjustmentsPosted!.Select(p => p.Detail));

        // In the journal: carried (credit), taken back (debit), the CS amount kept (debit) against undeposited funds.
        await Fixture.CaughtUp();
        var trial = await Fixture.Get<TrialBalance>($"/api/books/trial-balance?from={Today.AddDays(-30):yyyy-MM-dd}&to={Today.AddDays(1):yyyy-MM-dd}", As.Finance);
        var balances = trial.Rows.Single(r => r.Account == GlAccount.PayerBalances);
        Assert.Equal((125m, 100m, 25m), (balances.Debits, balances.Credits, balances.Closing));
        Assert.Equal(trial.Debits, trial.Credits);
    }
}
