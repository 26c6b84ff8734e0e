namespace KetamineBilling.Features.Reconciliation;

/// <summary>How the worklist reads in the UI: each type's title, and the page where an item is resolved.</summary>
public static class Worklist
{
    public static string Title(string type) => type switch
    {
        "unapplied-payment" => "Unapplied payments",
        "credit-balance" => "Credit balances",
        "unbilled-session" => "Sessions not billed after 7 days",
        "claim-no-response" => "Claims with no answer after 30 days",
        "claim-rejected" => "Claims rejected before adjudication, to correct and file again",
        "denied-line" => "Denied lines to appeal or write off",
        "unmatched-remittance-item" => "Unmatched remittance items",
        "remittance-incomplete" => "Remittances whose posting was cut short",
        "beyond-authorization" => "Sessions beyond their authorization",
        "cap-exceeded" => "Grant or employer caps exceeded",
        "fsa-without-letter" => "FSA/HSA payments without a letter of medical necessity",
        "over-estimate" => "Over the Good Faith Estimate by $400 or more",
        "missing-address" => "Insured patients with no address on file",
        "unmatched-deposit" => "Bank deposits matching no receipt",
        "undeposited-receipt" => "Receipts not deposited",
        "deposit-mismatch" => "Deposits whose receipts changed",
        "card-dispute" => "Card payments disputed by the cardholder's bank",
        "missed-instalment" => "Payment plan instalments the saved card was declined for",
        "payer-overpayment" => "Insurance overpayments owed back to payers",
        "payer-balance-carried" => "Balances payers carried forward (PLB FB)",
        "eligibility-unverified" => "Insured visits tomorrow without a current eligibility answer",
        _ => type
    };

    /// <summary>
    /// The screen that does the item's fix: the claim (appeal), the claims list found by its number (send it again as a
    /// resubmission), the patient's page with the dialog open (edit details, record a letter of medical necessity, discount,
    /// the prior authorizations to approve or extend), the patient's account (file a claim, take a payment, apply or refund
    /// credit), the remittance's own page (match by hand), the remittances list (upload again) or the deposits.
    /// </summary>
    public static string Where(ExceptionItem item) => item.Type switch
    {
        "missing-address" when item.PatientId is { } patient => $"/patients/{patient}?edit=details",
        "fsa-without-letter" when item.PatientId is { } patient => $"/patients/{patient}?do=letter",
        "over-estimate" when item.PatientId is { } patient => $"/patients/{patient}?do=discount",
        "beyond-authorization" when item.PatientId is { } patient => $"/patients/{patient}?do=authorizations",
        "eligibility-unverified" when item.PatientId is { } patient => $"/patients/{patient}?do=coverage",
        "claim-no-response" when item.Reference is { } number => $"/claims?search={Uri.EscapeDataString(number)}",
        "claim-no-response" or "denied-line" or "claim-rejected" or "payer-overpayment" when item.ClaimId is { } claim => $"/claims/{claim}",
        "payer-balance-carried" when item.RemittanceId is { } carried => $"/remittances/{carried}",
        "unmatched-remittance-item" when item.RemittanceId is { } remittance => $"/remittances/{remittance}",
        // Uploading the same file again is done on the remittances list (the remittance's own page has no upload).
        "unmatched-remittance-item" or "remittance-incomplete" => "/remittances",
        "unmatched-deposit" or "undeposited-receipt" or "deposit-mismatch" => "/deposits",
        _ when item.PatientId is { } patient => $"/patients/{patient}",
        _ => "/reconciliation"
    };
}
