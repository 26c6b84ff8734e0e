namespace KetamineBilling.Features.Claims;

/// <summary>Claim Adjustment Reason Codes (X12 external code list 139) a billing administrator meets most, in words.</summary>
public static class Carc
{
    private static readonly Dictionary<string, (string Short, string Text)> Codes = new()
    {
        ["1"] = ("Deductible", "Deductible amount."),
        ["2"] = ("Coinsurance", "Coinsurance amount."),
        ["3"] = ("Copay", "Co-payment amount."),
        ["4"] = ("Modifier", "The procedure code is inconsistent with the modifier used."),
        ["5"] = ("Place of service", "The procedure code/type of bill is inconsistent with the place of service."),
        ["6"] = ("Patient's age", "The procedure/revenue code is inconsistent with the patient's age."),
        ["11"] = ("Diagnosis", "The diagnosis is inconsistent with the procedure."),
        ["15"] = ("Authorization number", "The authorization number is missing, invalid, or does not apply to the billed services or provider."),
        ["16"] = ("Missing information", "Claim/service lacks information or has submission/billing error(s)."),
        ["18"] = ("Duplicate", "Exact duplicate claim/service."),
        ["22"] = ("Other payer primary", "This care may be covered by another payer per coordination of benefits."),
        ["23"] = ("Prior payer", "The impact of prior payer(s) adjudication including payments and/or adjustments."),
        ["26"] = ("Before coverage", "Expenses incurred prior to coverage."),
        ["27"] = ("Coverage ended", "Expenses incurred after coverage terminated."),
        ["29"] = ("Filed too late", "The time limit for filing has expired."),
        ["31"] = ("Not our insured", "Patient cannot be identified as our insured."),
        ["45"] = ("Contractual", "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement."),
        ["50"] = ("Not medically necessary", "These are non-covered services because this is not deemed a 'medical necessity' by the payer."),
        ["55"] = ("Experimental", "Procedure/treatment/drug is deemed experimental/investigational by the payer."),
        ["96"] = ("Non-covered", "Non-covered charge(s)."),
        ["97"] = ("Bundled", "The benefit for this service is included in the payment/allowance for another service/procedure that has already been adjudicated."),
        ["109"] = ("Wrong payer", "Claim/service not covered by this payer/contractor: send the claim to the correct payer."),
        ["119"] = ("Benefit maximum", "Benefit maximum for this time period or occurrence has been reached."),
        ["129"] = ("Prior processing", "Prior processing information appears incorrect."),
        ["151"] = ("Frequency", "Payment adjusted because the payer deems the information submitted does not support this many/frequency of services."),
        ["167"] = ("Diagnosis not covered", "This (these) diagnosis(es) is (are) not covered."),
        ["170"] = ("Provider type", "Payment is denied when performed/billed by this type of provider."),
        ["197"] = ("No authorization", "Precertification/authorization/notification/pre-treatment absent."),
        ["198"] = ("Authorization exceeded", "Precertification/notification/authorization/pre-treatment exceeded."),
        ["204"] = ("Not in benefit plan", "This service/equipment/drug is not covered under the patient's current benefit plan."),
        ["222"] = ("Contracted maximum", "Exceeds the contracted maximum number of hours/days/units by this provider for this period."),
        ["236"] = ("NCCI", "This procedure or procedure/modifier combination is not compatible with another procedure or procedure/modifier combination provided on the same day."),
        ["242"] = ("Out of network", "Services not provided by network/primary care providers."),
        ["253"] = ("Sequestration", "Sequestration - reduction in federal payment.")
    };

    /// <summary>The codes described here, in the list's order.</summary>
    public static IEnumerable<string> Known => Codes.Keys;

    public static string Short(string code) => Codes.TryGetValue(code, out var c) ? c.Short : "see the CARC list";

    public static string Describe(string code) => Codes.TryGetValue(code, out var c) ? c.Text : $"CARC {code}: look it up in the X12 Claim Adjustment Reason Code list.";
}
