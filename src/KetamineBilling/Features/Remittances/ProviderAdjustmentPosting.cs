using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Remittances;

/// <summary>
/// Posts an 835's provider-level adjustments (PLB), after its claim payments and in the transaction that records its result
/// (ADR 0021, docs/x12.md "Provider-level adjustments"). A PLB amount is positive when the payer keeps money back from this
/// payment and negative when it adds to it:
/// <list type="bullet">
/// <item>L6 interest (negative): income (prompt-payment interest);</item>
/// <item>FB forward balance: negative when this payment was short of zero and the clinic now owes the payer the rest (carried
/// on this remittance), positive when a later payment takes it back (offsetting the carried balances of the same payer: the one
/// its reference names, else the oldest first);</item>
/// <item>WO overpayment recovery (positive): clears the insurance credit of the claim its reference names (by patient control
/// number or the payer's claim number); what finds no credit is kept as a payer balance to review;</item>
/// <item>any other code: recorded as a payer balance with its code's meaning.</item>
/// </list>
/// </summary>
public static class ProviderAdjustmentPosting
{
    public const string Interest = "interest";
    public const string ForwardBalance = "forward-balance";
    public const string OverpaymentRecovery = "overpayment-recovery";
    public const string Other = "other";

    /// <summary>PLB03-1 adjustment reason codes (005010X221A1), in words.</summary>
    public static readonly IReadOnlyDictionary<string, string> Reasons = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["50"] = "late charge", ["51"] = "interest penalty charge", ["72"] = "authorized return", ["90"] = "early payment allowance",
        ["AH"] = "origination fee", ["AM"] = "applied to borrower's account", ["AP"] = "acceleration of benefits", ["B2"] = "rebate", ["B3"] = "recovery allowance",
        ["BD"] = "bad debt adjustment", ["BN"] = "bonus", ["C5"] = "temporary allowance", ["CR"] = "capitation interest", ["CS"] = "adjustment",
        ["CT"] = "capitation payment", ["CV"] = "capital passthru", ["CW"] = "certified registered nurse anesthetist passthru", ["DM"] = "direct medical education passthru",
        ["E3"] = "withholding", ["FB"] = "forward balance", ["FC"] = "fund allocation", ["GO"] = "graduate medical education passthru", ["HM"] = "hemophilia clotting factor supplement",
        ["IP"] = "incentive premium payment", ["IR"] = "internal revenue service withholding", ["IS"] = "interim settlement", ["J1"] = "nonreimbursable",
        ["L3"] = "penalty", ["L6"] = "interest owed", ["LE"] = "levy", ["LS"] = "lump sum", ["OA"] = "organ acquisition passthru", ["OB"] = "offset for affiliated providers",
        ["PI"] = "periodic interim payment", ["PL"] = "payment final", ["RA"] = "retro-activity adjustment", ["RE"] = "return on equity", ["SL"] = "student loan repayment",
        ["TL"] = "third party liability", ["WO"] = "overpayment recovery", ["WU"] = "unspecified recovery"
    };

    public static string TreatmentOf(string reason) => reason switch
    {
        "L6" => Interest,
        "FB" => ForwardBalance,
        "WO" => OverpaymentRecovery,
        _ => Other
    };

    /// <summary>What one 835's PLB amounts do.</summary>
    /// <param name="recoveryClaims">The claims a WO reference names (by the reference as given), with their patients' accounts.</param>
    /// <param name="carried">The same payer's earlier remittances with a balance carried forward still open, oldest first.</param>
    /// <returns>Null when the 835 has no PLB; else the remittance's event, the accounts' and the earlier remittances'.</returns>
    public static Outcome.Accepted? Decide(
        Guid remittanceId, Remittance835 remittance, IReadOnlyDictionary<string, (Claim Claim, PatientAccount Account)> recoveryClaims, IReadOnlyList<Remittance> carried,
        DateOnly paidOn, DateTimeOffset now)
    {
        if (remittance.ProviderAdjustments.Count == 0) return null;
        var outcome = Outcome.Ok(null);
        var items = new List<PostedProviderAdjustment>();
        var accounts = new Dictionary<Guid, PatientAccount>();
        var open = carried.ToDictionary(r => r.Id, r => r.ForwardBalanceOpen);
        for (var i = 0; i < remittance.ProviderAdjustments.Count; i++)
        {
            var plb = remittance.ProviderAdjustments[i];
            var treatment = TreatmentOf(plb.Reason);
            var words = Reasons.GetValueOrDefault(plb.Reason, "unknown code");
            switch (treatment)
            {
                case Interest:
                    items.Add(new(i, plb.Reason, plb.Reference, plb.Amount, treatment, null, 0m,
                        $"Interest {(plb.Amount <= 0 ? "paid" : "taken back")}: {Fmt.Money(Math.Abs(plb.Amount))}"));
                    break;
                case ForwardBalance when plb.Amount < 0:
                    items.Add(new(i, plb.Reason, plb.Reference, plb.Amount, treatment, null, 0m,
                        $"Balance carried forward: the clinic owes {Fmt.Money(-plb.Amount)} to {remittance.PayerName} until a later payment takes it back"));
                    break;
                case ForwardBalance:
                {
                    var left = plb.Amount;
                    // The carried balance its reference names first (a trace), then the oldest.
                    foreach (var earlier in carried.OrderBy(r => r.TraceNumber == plb.Reference ? 0 : 1).ThenBy(r => r.ReceivedAt))
                    {
                        var take = Math.Min(left, open[earlier.Id]);
                        if (take <= 0) continue;
                        open[earlier.Id] -= take;
                        left -= take;
                        outcome = outcome.Append(earlier.Id, new ForwardBalanceOffset(earlier.Id, remittanceId, remittance.TraceNumber, take, now));
                    }

                    var applied = plb.Amount - left;
                    items.Add(new(i, plb.Reason, plb.Reference, plb.Amount, treatment, null, applied,
                        left == 0 ? $"Balance forward taken back: {Fmt.Money(applied)}"
                            : $"Balance forward taken back: {Fmt.Money(applied)} offset carried balances; {Fmt.Money(left)} matches none carried from {remittance.PayerName}"));
                    break;
                }

                case OverpaymentRecovery when plb.Amount > 0 && plb.Reference is { } reference && recoveryClaims.TryGetValue(reference, out var found):
                {
                    var account = accounts.GetValueOrDefault(found.Account.Id) ?? Snapshot.Copy(found.Account);
                    var cleared = InsuranceOnAccount.OverpaymentCleared(account, found.Claim.Id, found.Claim.PayerId, DeterministicGuid.From(remittanceId, $"plb-{i}"),
                        "recovery", $"835 {remittance.TraceNumber}", plb.Amount, paidOn, now);
                    if (cleared is not null)
                    {
                        account = PatientAccount.Advance(account, cleared);
                        outcome = outcome.Append(account.Id, cleared);
                    }

                    accounts[account.Id] = account;
                    var applied = cleared?.Amount ?? 0m;
                    items.Add(new(i, plb.Reason, plb.Reference, plb.Amount, treatment, found.Claim.Id, applied,
                        applied == plb.Amount ? $"Recovered the insurance credit on claim {found.Claim.ControlNumber}"
                            : $"Recovery on claim {found.Claim.ControlNumber}: {Fmt.Money(applied)} cleared its insurance credit; {Fmt.Money(plb.Amount - applied)} found none to clear"));
                    break;
                }

                case OverpaymentRecovery:
                    items.Add(new(i, plb.Reason, plb.Reference, plb.Amount, treatment, null, 0m,
                        $"Recovery of {Fmt.Money(plb.Amount)}: no claim with insurance credit has the reference {plb.Reference ?? "(none)"}"));
                    break;
                default:
                    items.Add(new(i, plb.Reason, plb.Reference, plb.Amount, treatment, null, 0m, $"{plb.Reason} ({words}): {Fmt.Money(plb.Amount)} recorded"));
                    break;
            }
        }

        return outcome.Append(remittanceId, new ProviderAdjustmentsPosted(remittanceId, remittance.PayerName, items, paidOn, now));
    }

    /// <summary>Reads what <see cref="Decide"/> needs: the claims the WO references name, the payer's open balances carried forward.</summary>
    /// <param name="payerId">The 835's payer, when known: a recovery clears only its own claims' credit.</param>
    public static async Task<(Dictionary<string, (Claim, PatientAccount)> Claims, IReadOnlyList<Remittance> Carried)> LoadAsync(
        IDocumentSession session, PostingWorkspace workspace, Remittance835 remittance, Guid remittanceId, Guid? payerId, CancellationToken ct)
    {
        var claims = new Dictionary<string, (Claim, PatientAccount)>(StringComparer.Ordinal);
        foreach (var reference in remittance.ProviderAdjustments.Where(p => p.Reason == "WO" && p.Reference is not null).Select(p => p.Reference!).Distinct())
        {
            // The patient control number first, else the payer's claim number (which only the payer's own claims are searched for):
            // a reference that names more than one claim names none.
            var found = (await session.Query<Claim>().Where(c => c.ControlNumber == reference).Select(c => new { c.Id, c.PayerId }).ToListAsync(ct))
                .Where(c => payerId is null || c.PayerId == payerId).ToList();
            if (found.Count == 0)
            {
                found = (await session.Query<Claim>().Where(c => c.Adjudications.Any(a => a.PayerClaimNumber == reference)).Select(c => new { c.Id, c.PayerId })
                    .ToListAsync(ct)).Where(c => payerId is null || c.PayerId == payerId).ToList();
            }

            if (found.Count == 1 && await workspace.LoadAsync(found[0].Id, ct) is var (claim, account)) claims[reference] = (claim, account);
        }

        IReadOnlyList<Remittance> carried = [];
        if (remittance.ProviderAdjustments.Any(p => p.Reason == "FB" && p.Amount > 0))
        {
            var payer = remittance.PayerIdentifier;
            carried = (await session.Query<Remittance>().Where(r => r.Id != remittanceId && r.PayerIdentifier == payer && r.ForwardBalanceCarried > 0).ToListAsync(ct))
                .Where(r => r.ForwardBalanceOpen > 0).OrderBy(r => r.ReceivedAt).ToList();
        }

        return (claims, carried);
    }
}
