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
        _ => type
    };

    /// <summary>
    /// The screen that resolves the item: the claim (appeal), the patient's details (address), the patient's account
    /// (file a claim, take a payment, apply or refund credit, a new estimate), the remittances (match by hand, upload again)
    /// or the deposits.
    /// </summary>
    public static string Where(ExceptionItem item) => item.Type switch
    {
        "missing-address" when item.PatientId is { } patient => $"/patients/{patient}?edit=details",
        "claim-no-response" or "denied-line" when item.ClaimId is { } claim => $"/claims/{claim}",
        "unmatched-remittance-item" or "remittance-incomplete" => "/remittances",
        "unmatched-deposit" or "undeposited-receipt" or "deposit-mismatch" => "/deposits",
        _ when item.PatientId is { } patient => $"/patients/{patient}",
        _ => "/reconciliation"
    };
}
