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
        ["16"] = ("Missing information", "Claim/service lacks information or has submission/billing error(s)."),
        ["18"] = ("Duplicate", "Exact duplicate claim/service."),
        ["22"] = ("Other payer primary", "This care may be covered by another payer per coordination of benefits."),
        ["27"] = ("Coverage ended", "Expenses incurred after coverage terminated."),
        ["29"] = ("Filed too late", "The time limit for filing has expired."),
        ["45"] = ("Contractual", "Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement."),
        ["50"] = ("Not medically necessary", "These are non-covered services because this is not deemed a 'medical necessity' by the payer."),
        ["96"] = ("Non-covered", "Non-covered charge(s)."),
        ["97"] = ("Bundled", "The benefit for this service is included in the payment/allowance for another service/procedure that has already been adjudicated."),
        ["119"] = ("Benefit maximum", "Benefit maximum for this time period or occurrence has been reached."),
        ["197"] = ("No authorization", "Precertification/authorization/notification/pre-treatment absent."),
        ["198"] = ("Authorization exceeded", "Precertification/notification/authorization/pre-treatment exceeded."),
        ["204"] = ("Not in benefit plan", "This service/equipment/drug is not covered under the patient's current benefit plan."),
        ["242"] = ("Out of network", "Services not provided by network/primary care providers."),
        ["253"] = ("Sequestration", "Sequestration - reduction in federal payment.")
    };

    public static string Short(string code) => Codes.TryGetValue(code, out var c) ? c.Short : "see the CARC list";

    public static string Describe(string code) => Codes.TryGetValue(code, out var c) ? c.Text : $"CARC {code}: look it up in the X12 Claim Adjustment Reason Code list.";
}
