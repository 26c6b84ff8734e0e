namespace KetamineBilling.Features.Remittances;

// The remittance stream (one per payment advice: a payer and its TRN02 trace number). It guards: a trace posts
// once, with one content; whatever could not be matched is kept, with why, until someone matches it. A file posts
// its claim payments in several transactions (ADR 0012): the stream starts with RemittancePostingStarted (its content
// hash claims the trace) and ends the posting with RemittanceReceived. Streams from before ADR 0012 start with
// RemittanceReceived.

public record PostedClaim(Guid ClaimId, string ControlNumber, string ClaimStatusCode, decimal Paid, int Lines);

/// <param name="Payment">The claim payment as read from the 835, kept whole so it can be posted once matched.</param>
public record UnmatchedItem(Guid ItemId, string ControlNumber, string ClaimStatusCode, decimal Charge, decimal Paid, string Reason, ClaimPayment835 Payment);

/// <summary>
/// An 835 whose BPR02 is not the sum of its CLP04 less its PLB amounts, posted anyway because billing said so
/// (<c>acceptUnbalanced=true</c>): who, when, and both totals.
/// </summary>
/// <param name="PaymentAmount">BPR02 as the file states it.</param>
public record UnbalancedAcceptance(
    string AcceptedBy, string? AcceptedByEmail, decimal PaymentAmount, decimal ClaimPayments, decimal ProviderAdjustments, DateTimeOffset AcceptedAt)
{
    /// <summary>What BPR02 should have been: the claim payments less the provider adjustments.</summary>
    public decimal Balanced => ClaimPayments - ProviderAdjustments;
}

/// <param name="AcceptedUnbalanced">Set when billing accepted a file that does not balance.</param>
public record RemittancePostingStarted(
    Guid RemittanceId, string PayerName, string? PayerIdentifier, Guid? PayerId, string TraceNumber, string PaymentMethod, decimal PaymentAmount,
    DateOnly? PaymentDate, string ContentHash, int ClaimPayments, DateTimeOffset StartedAt, UnbalancedAcceptance? AcceptedUnbalanced = null);

public record RemittanceReceived(
    Guid RemittanceId, string PayerName, string? PayerIdentifier, Guid? PayerId, string TraceNumber, string PaymentMethod, decimal PaymentAmount,
    DateOnly? PaymentDate, string ContentHash, IReadOnlyList<PostedClaim> Posted, IReadOnlyList<UnmatchedItem> Unmatched,
    IReadOnlyList<ProviderAdjustment835> ProviderAdjustments, DateTimeOffset ReceivedAt, UnbalancedAcceptance? AcceptedUnbalanced = null);

public record RemittanceItemMatched(Guid RemittanceId, Guid ItemId, PostedClaim Posted, DateTimeOffset MatchedAt);

/// <summary>How a provider-level adjustment (PLB) posted (docs/x12.md, "Provider-level adjustments").</summary>
/// <param name="Index">Its place among the 835's PLB amounts.</param>
/// <param name="Amount">As the 835 gives it: positive takes money back from the payment, negative adds to it.</param>
/// <param name="Treatment">interest (L6), forward-balance (FB), overpayment-recovery (WO) or other.</param>
/// <param name="ClaimId">An overpayment recovery: the claim its reference names, when one does.</param>
/// <param name="Applied">An overpayment recovery: what cleared the claim's insurance credit; a forward balance's offset: what offset a carried balance.</param>
public record PostedProviderAdjustment(
    int Index, string Reason, string? Reference, decimal Amount, string Treatment, Guid? ClaimId, decimal Applied, string Detail);

/// <summary>The 835's provider-level adjustments posted (after its claim payments): interest, balances forward, recoveries, the rest recorded.</summary>
public record ProviderAdjustmentsPosted(Guid RemittanceId, string PayerName, IReadOnlyList<PostedProviderAdjustment> Items, DateOnly PaidOn, DateTimeOffset PostedAt);

/// <summary>A balance this 835 carried forward (PLB FB, negative) was offset by a later 835 of the same payer (PLB FB, positive).</summary>
public record ForwardBalanceOffset(Guid RemittanceId, Guid ByRemittanceId, string ByTrace, decimal Amount, DateTimeOffset OffsetAt);

public sealed class Remittance
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public string PayerName { get; set; } = "";
    public string? PayerIdentifier { get; set; }
    public Guid? PayerId { get; set; }
    public string TraceNumber { get; set; } = "";
    public string PaymentMethod { get; set; } = "";
    public decimal PaymentAmount { get; set; }
    public DateOnly? PaymentDate { get; set; }
    public string ContentHash { get; set; } = "";
    public List<PostedClaim> Posted { get; set; } = [];
    public List<UnmatchedItem> Unmatched { get; set; } = [];
    public List<ProviderAdjustment835> ProviderAdjustments { get; set; } = [];
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>Null for a file that balances; else who accepted it unbalanced, when, with both totals.</summary>
    public UnbalancedAcceptance? AcceptedUnbalanced { get; set; }

    /// <summary>
    /// Its claim payments are being posted, or the posting was cut short (a crash, a lost connection): sending the same
    /// file again finishes it. Until then it has no posted or unmatched items (the exceptions worklist names it); its
    /// payment is still a receipt a bank deposit can match, since the payer's money is real.
    /// </summary>
    public bool Posting { get; set; }

    private int _claimPayments;

    /// <summary>How many claim payments the file holds (once posted: its posted and unmatched items, for every stream).</summary>
    public int ClaimPayments
    {
        get => Posting ? _claimPayments : Posted.Count + Unmatched.Count;
        set => _claimPayments = value;
    }

    public static Remittance Create(RemittancePostingStarted e) => new()
    {
        Id = e.RemittanceId, PayerName = e.PayerName, PayerIdentifier = e.PayerIdentifier, PayerId = e.PayerId, TraceNumber = e.TraceNumber,
        PaymentMethod = e.PaymentMethod, PaymentAmount = e.PaymentAmount, PaymentDate = e.PaymentDate, ContentHash = e.ContentHash,
        ClaimPayments = e.ClaimPayments, ReceivedAt = e.StartedAt, Posting = true, AcceptedUnbalanced = e.AcceptedUnbalanced
    };

    public static Remittance Create(RemittanceReceived e)
    {
        var remittance = new Remittance();
        remittance.Apply(e);
        return remittance;
    }

    public void Apply(RemittanceReceived e)
    {
        (Id, PayerName, PayerIdentifier, PayerId, TraceNumber, PaymentMethod, PaymentAmount, PaymentDate, ContentHash) =
            (e.RemittanceId, e.PayerName, e.PayerIdentifier, e.PayerId, e.TraceNumber, e.PaymentMethod, e.PaymentAmount, e.PaymentDate, e.ContentHash);
        Posted = [.. e.Posted];
        Unmatched = [.. e.Unmatched];
        ProviderAdjustments = [.. e.ProviderAdjustments];
        ReceivedAt = e.ReceivedAt;
        AcceptedUnbalanced = e.AcceptedUnbalanced;
        Posting = false;
    }

    /// <summary>The provider-level adjustments as posted (empty before they were, and for a file without any).</summary>
    public List<PostedProviderAdjustment> ProviderAdjustmentsPosted { get; set; } = [];

    /// <summary>What this 835 carried forward (PLB FB, negative amounts): the clinic owes it to the payer until a later 835 offsets it.</summary>
    public decimal ForwardBalanceCarried { get; set; }

    public List<ForwardBalanceOffset> ForwardBalanceOffsets { get; set; } = [];

    /// <summary>The balance carried forward not yet offset.</summary>
    public decimal ForwardBalanceOpen => ForwardBalanceCarried - ForwardBalanceOffsets.Sum(o => o.Amount);

    public void Apply(ProviderAdjustmentsPosted e)
    {
        ProviderAdjustmentsPosted = [.. e.Items];
        ForwardBalanceCarried = e.Items.Where(i => i.Treatment == ProviderAdjustmentPosting.ForwardBalance && i.Amount < 0).Sum(i => -i.Amount);
    }

    public void Apply(ForwardBalanceOffset e) => ForwardBalanceOffsets.Add(e);

    public void Apply(RemittanceItemMatched e)
    {
        Unmatched.RemoveAll(u => u.ItemId == e.ItemId);
        Posted.Add(e.Posted);
    }
}
