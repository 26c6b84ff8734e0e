using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;

namespace KetamineBilling.Features.GeneralLedger;

/// <summary>
/// A patient account's balances in the general ledger (debits positive, credits negative), computed from the account as it
/// stands: the journal of an account event is the difference its event makes to them, so it balances whenever they do, and
/// they always do (every live line's charge = open + paid + adjusted: the property test in account_invariants checks it after every step).
/// <list type="bullet">
/// <item>revenue: each live line's charge, by service (or grant and sponsor income when a grant or sponsor pays the session first);</item>
/// <item>receivables: each live line's open amount, by who owes it;</item>
/// <item>adjustments: each live line's, by kind (contractual, discount, charity, small balance, third party: contra-income; bad debt: expense);</item>
/// <item>undeposited funds: the patient's payments that stood, less refunds, the insurers' payments, and the agencies' net remittances;</item>
/// <item>collection agency fees: the agencies' commissions;</item>
/// <item>third-party payments not yet applied: debited by what employers, grants and sponsors paid on the lines (their receipts credit it);</item>
/// <item>refunds payable: the patient's unapplied credit, and whatever was paid on a session since voided;</item>
/// <item>insurance overpayments payable: what payers paid beyond what insurance owed, until refunded or recovered (and undeposited funds by as much).</item>
/// </list>
/// </summary>
public static class AccountBooks
{
    public static SortedDictionary<GlAccount, decimal> Balances(PatientAccount account)
    {
        var balances = new SortedDictionary<GlAccount, decimal>();
        void Add(GlAccount gl, decimal amount)
        {
            if (amount != 0m) balances[gl] = balances.GetValueOrDefault(gl) + amount;
        }

        var thirdPartyPaid = 0m;
        foreach (var session in account.Sessions)
        {
            var first = session.Delivered.ResponsibleParty;
            foreach (var line in session.Lines)
            {
                thirdPartyPaid += line.ThirdPartyPaid;
                if (session.Voided)
                {
                    // Money received for a service since voided is owed back (or applied elsewhere once moved to credit).
                    Add(GlAccount.RefundsPayable, -(line.PatientPaid + line.InsurancePaid + line.ThirdPartyPaid));
                    continue;
                }

                Add(ChartOfAccounts.RevenueOf(line.Code, first), -line.Charge);
                foreach (var party in Enum.GetValues<ResponsibleParty>()) Add(ChartOfAccounts.ReceivableOf(party), line.Open[party]);
                Add(GlAccount.ContractualAdjustments, line.AdjustedBy.Contractual);
                Add(GlAccount.Discounts, line.AdjustedBy.Discount);
                Add(GlAccount.CharityCare, line.AdjustedBy.Charity);
                Add(GlAccount.SmallBalanceWriteOffs, line.AdjustedBy.SmallBalance);
                Add(GlAccount.ThirdPartyAdjustments, line.AdjustedBy.ThirdParty);
                Add(GlAccount.BadDebt, line.AdjustedBy.BadDebt);
            }
        }

        var recoveries = account.Placements.SelectMany(p => p.Recoveries).ToList();
        var patientMoney = account.Payments.Where(p => !p.Reversed).Sum(p => p.Amount) - account.TotalRefunded;
        // A payer's overpayment is money received and owed back until refunded or recovered (ADR 0021).
        Add(GlAccount.UndepositedFunds, patientMoney + account.TotalInsurancePaid + recoveries.Sum(r => r.Net) + account.InsuranceCredit);
        Add(GlAccount.InsuranceOverpaymentsPayable, -account.InsuranceCredit);
        Add(GlAccount.CollectionAgencyFees, recoveries.Sum(r => r.Commission));
        Add(GlAccount.ThirdPartyUnapplied, thirdPartyPaid);
        Add(GlAccount.RefundsPayable, -account.UnappliedCredit);
        foreach (var zero in balances.Where(b => b.Value == 0m).Select(b => b.Key).ToList()) balances.Remove(zero);
        return balances;
    }
}
