using System.Text.Json.Serialization;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.GeneralLedger;

/// <summary>
/// The general ledger's accounts, as the platform posts to them. A clinic's chart of accounts gives each its own number and
/// name (the default mapping is <see cref="ChartOfAccounts.Default"/>); the postings name these.
/// </summary>
public enum GlAccount
{
    [JsonStringEnumMemberName("cash")] Cash,
    [JsonStringEnumMemberName("undeposited-funds")] UndepositedFunds,
    [JsonStringEnumMemberName("ar-patients")] ArPatients,
    [JsonStringEnumMemberName("ar-insurance")] ArInsurance,
    [JsonStringEnumMemberName("ar-employers")] ArEmployers,
    [JsonStringEnumMemberName("ar-grants")] ArGrants,
    [JsonStringEnumMemberName("ar-sponsors")] ArSponsors,
    [JsonStringEnumMemberName("ar-collections")] ArCollections,
    [JsonStringEnumMemberName("refunds-payable")] RefundsPayable,
    [JsonStringEnumMemberName("third-party-unapplied")] ThirdPartyUnapplied,
    [JsonStringEnumMemberName("insurance-overpayments-payable")] InsuranceOverpaymentsPayable,
    [JsonStringEnumMemberName("payer-balances")] PayerBalances,
    [JsonStringEnumMemberName("revenue-infusions")] RevenueInfusions,
    [JsonStringEnumMemberName("revenue-drugs")] RevenueDrugs,
    [JsonStringEnumMemberName("revenue-esketamine")] RevenueEsketamine,
    [JsonStringEnumMemberName("revenue-visits")] RevenueVisits,
    [JsonStringEnumMemberName("revenue-psychotherapy")] RevenuePsychotherapy,
    [JsonStringEnumMemberName("revenue-missed-appointments")] RevenueMissedAppointments,
    [JsonStringEnumMemberName("revenue-other")] RevenueOther,
    [JsonStringEnumMemberName("grant-and-sponsor-income")] GrantAndSponsorIncome,
    [JsonStringEnumMemberName("interest-income")] InterestIncome,
    [JsonStringEnumMemberName("contractual-adjustments")] ContractualAdjustments,
    [JsonStringEnumMemberName("discounts")] Discounts,
    [JsonStringEnumMemberName("charity-care")] CharityCare,
    [JsonStringEnumMemberName("small-balance-write-offs")] SmallBalanceWriteOffs,
    [JsonStringEnumMemberName("third-party-adjustments")] ThirdPartyAdjustments,
    [JsonStringEnumMemberName("bad-debt")] BadDebt,
    [JsonStringEnumMemberName("collection-agency-fees")] CollectionAgencyFees,
    [JsonStringEnumMemberName("processor-fees")] ProcessorFees
}

public enum GlAccountType
{
    [JsonStringEnumMemberName("asset")] Asset,
    [JsonStringEnumMemberName("liability")] Liability,
    [JsonStringEnumMemberName("income")] Income,
    /// <summary>Income's reductions (contractual adjustments, discounts): debited, shown under income.</summary>
    [JsonStringEnumMemberName("contra-income")] ContraIncome,
    [JsonStringEnumMemberName("expense")] Expense
}

/// <summary>One account of a clinic's chart: the platform's account, the clinic's number and name for it, and its type.</summary>
public sealed record ChartAccount(GlAccount Account, string Number, string Name, GlAccountType Type);

public static class ChartOfAccounts
{
    /// <summary>The default mapping: numbers in the usual ranges (1xxx assets, 2xxx liabilities, 4xxx income, 6xxx expenses).</summary>
    public static readonly IReadOnlyList<ChartAccount> Default =
    [
        new(GlAccount.Cash, "1000", "Cash in bank (operating)", GlAccountType.Asset),
        new(GlAccount.UndepositedFunds, "1010", "Undeposited funds", GlAccountType.Asset),
        new(GlAccount.ArPatients, "1100", "Accounts receivable: patients", GlAccountType.Asset),
        new(GlAccount.ArInsurance, "1110", "Accounts receivable: insurance", GlAccountType.Asset),
        new(GlAccount.ArEmployers, "1120", "Accounts receivable: employers", GlAccountType.Asset),
        new(GlAccount.ArGrants, "1130", "Accounts receivable: grants", GlAccountType.Asset),
        new(GlAccount.ArSponsors, "1140", "Accounts receivable: study sponsors", GlAccountType.Asset),
        new(GlAccount.ArCollections, "1150", "Accounts receivable: with collection agencies", GlAccountType.Asset),
        new(GlAccount.RefundsPayable, "2100", "Patient credits and refunds payable", GlAccountType.Liability),
        new(GlAccount.InsuranceOverpaymentsPayable, "2110", "Insurance overpayments payable", GlAccountType.Liability),
        new(GlAccount.PayerBalances, "2120", "Payer balances forward and provider adjustments", GlAccountType.Liability),
        new(GlAccount.ThirdPartyUnapplied, "2200", "Employer, grant and sponsor payments not yet applied", GlAccountType.Liability),
        new(GlAccount.RevenueInfusions, "4000", "Patient service revenue: infusions and injections", GlAccountType.Income),
        new(GlAccount.RevenueDrugs, "4010", "Patient service revenue: drugs", GlAccountType.Income),
        new(GlAccount.RevenueEsketamine, "4020", "Patient service revenue: esketamine treatment", GlAccountType.Income),
        new(GlAccount.RevenueVisits, "4030", "Patient service revenue: evaluation and management visits", GlAccountType.Income),
        new(GlAccount.RevenuePsychotherapy, "4040", "Patient service revenue: psychotherapy", GlAccountType.Income),
        new(GlAccount.RevenueMissedAppointments, "4050", "Missed-appointment fees", GlAccountType.Income),
        new(GlAccount.RevenueOther, "4090", "Patient service revenue: other services", GlAccountType.Income),
        new(GlAccount.GrantAndSponsorIncome, "4100", "Grant and study sponsor income", GlAccountType.Income),
        new(GlAccount.InterestIncome, "4800", "Interest from payers (prompt payment)", GlAccountType.Income),
        new(GlAccount.ContractualAdjustments, "4900", "Contractual adjustments", GlAccountType.ContraIncome),
        new(GlAccount.Discounts, "4910", "Patient discounts", GlAccountType.ContraIncome),
        new(GlAccount.CharityCare, "4920", "Charity care", GlAccountType.ContraIncome),
        new(GlAccount.SmallBalanceWriteOffs, "4930", "Small-balance write-offs", GlAccountType.ContraIncome),
        new(GlAccount.ThirdPartyAdjustments, "4940", "Employer, grant and sponsor adjustments", GlAccountType.ContraIncome),
        new(GlAccount.BadDebt, "6100", "Bad debt expense", GlAccountType.Expense),
        new(GlAccount.CollectionAgencyFees, "6110", "Collection agency fees", GlAccountType.Expense),
        new(GlAccount.ProcessorFees, "6200", "Card processor fees", GlAccountType.Expense)
    ];

    /// <summary>Where a charge line's revenue goes: a session a grant or a study sponsor pays first is their income; else by the code's service.</summary>
    public static GlAccount RevenueOf(string code, ResponsibleParty firstParty) =>
        firstParty is ResponsibleParty.Grant or ResponsibleParty.Sponsor ? GlAccount.GrantAndSponsorIncome : RevenueOf(code);

    /// <summary>The service category of a CPT/HCPCS code.</summary>
    public static GlAccount RevenueOf(string code) => code switch
    {
        "NOSHW" => GlAccount.RevenueMissedAppointments,
        "G2082" or "G2083" => GlAccount.RevenueEsketamine,
        _ when code.StartsWith("963", StringComparison.Ordinal) => GlAccount.RevenueInfusions,
        _ when code.StartsWith("992", StringComparison.Ordinal) => GlAccount.RevenueVisits,
        _ when code.StartsWith("908", StringComparison.Ordinal) => GlAccount.RevenuePsychotherapy,
        _ when code.Length == 5 && code[0] is 'J' or 'S' => GlAccount.RevenueDrugs,
        _ => GlAccount.RevenueOther
    };

    public static GlAccount ReceivableOf(ResponsibleParty party) => party switch
    {
        ResponsibleParty.Patient => GlAccount.ArPatients,
        ResponsibleParty.Insurance => GlAccount.ArInsurance,
        ResponsibleParty.Employer => GlAccount.ArEmployers,
        ResponsibleParty.Grant => GlAccount.ArGrants,
        ResponsibleParty.Sponsor => GlAccount.ArSponsors,
        ResponsibleParty.Collections => GlAccount.ArCollections,
        _ => throw new ArgumentOutOfRangeException(nameof(party), party, null)
    };
}
