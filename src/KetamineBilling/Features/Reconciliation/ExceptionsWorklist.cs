using KetamineBilling.Features.PatientBilling;
using KetamineBilling.Features.Ui;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Reconciliation;

/// <summary>One thing a billing administrator has to act on.</summary>
/// <param name="Key">Stable across calls while the exception stands (type and the ids it is about).</param>
/// <param name="Since">The date its age counts from (date of service, payment, filing or receipt).</param>
/// <param name="Resolution">What would make it go away.</param>
/// <param name="Fix">The address of the screen that does it (<see cref="Worklist.Where"/>).</param>
/// <param name="RemittanceId">The remittance an item is in (an unmatched remittance item): used to find its fix, not part of the API's answer.</param>
public sealed record ExceptionItem(
    string Key, string Type, Guid? PatientId, string? Patient, Guid? ClaimId, string? Reference, decimal Amount, DateOnly Since, int AgeDays,
    string Detail, string Resolution, string Fix = "", [property: JsonIgnore] Guid? RemittanceId = null);

public sealed record ExceptionSummary(string Type, int Count, decimal Amount, int OldestAgeDays);

/// <summary>One page of the worklist. Total, TotalAmount and Summary count every item the filters match, whatever the page.</summary>
public sealed record ExceptionPage(
    IReadOnlyList<ExceptionItem> Items, IReadOnlyList<ExceptionSummary> Summary, int Total, decimal TotalAmount, DateOnly AsOf, int Page = 1, int? PageSize = null,
    int PageCount = 1);

/// <summary>
/// The reconciliation exceptions, found from the current inline documents on every call: an item is there as
/// long as the facts that make it an exception stand, and is gone as soon as an event resolves it.
/// </summary>
public static class ExceptionsWorklist
{
    public const int UnbilledAfterDays = 7;
    public const int ClaimUnansweredAfterDays = 30;
    public const int UndepositedAfterDays = 5;

    public static readonly string[] Types =
    [
        "unapplied-payment", "credit-balance", "unbilled-session", "claim-no-response", "claim-rejected", "denied-line", "unmatched-remittance-item", "remittance-incomplete",
        "beyond-authorization", "cap-exceeded", "fsa-without-letter", "over-estimate", "missing-address", "unmatched-deposit", "undeposited-receipt",
        "deposit-mismatch", "card-dispute", "missed-instalment", "payer-overpayment", "payer-balance-carried", "eligibility-unverified"
    ];

    /// <summary>The largest page a caller may ask for.</summary>
    public const int MaxPageSize = 500;

    public static int Order(string type) => Array.IndexOf(Types, type) is var i and >= 0 ? i : int.MaxValue;

    /// <summary>
    /// The worklist found from every current document (ADR 0009's on-read computation): what the Exceptions read model
    /// must equal, item for item. Never served: the tests compare the read model with it after random work.
    /// </summary>
    public static async Task<IReadOnlyList<ExceptionItem>> FromLedgerAsync(IQuerySession session, DateOnly today, CancellationToken ct) =>
        (await EntriesFromLedgerAsync(session, ct)).Where(e => e.VisibleFrom <= today).Select(e => e.ToItem(today)).ToList();

    /// <summary>Every entry the current documents make, shown or not yet (<see cref="WorklistEntry.VisibleFrom"/>).</summary>
    public static async Task<IReadOnlyList<WorklistEntry>> EntriesFromLedgerAsync(IQuerySession session, CancellationToken ct)
    {
        var accounts = await session.Query<PatientAccount>().ToListAsync(ct);
        var claims = (await session.Query<Claim>().ToListAsync(ct)).ToDictionary(c => c.Id);
        var remittances = await session.Query<Remittance>().ToListAsync(ct);
        var employers = await session.Query<EmployerAgreement>().ToListAsync(ct);
        var grants = await session.Query<Grant>().ToListAsync(ct);
        var studies = await session.Query<Studies.Study>().ToListAsync(ct);
        var deposits = await session.Query<BankDeposit>().ToListAsync(ct);
        var cards = (await session.Query<CardPayment>().ToListAsync(ct)).ToDictionary(c => c.Id);
        var payouts = await session.Query<ProcessorPayout>().ToListAsync(ct);
        var autopays = (await session.Query<Autopay>().ToListAsync(ct)).ToDictionary(a => a.Id);
        var capped = new Dictionary<Guid, string>();
        foreach (var employer in employers)
        {
            foreach (var c in employer.Commitments.Where(c => c.CappedBy is not null)) capped.TryAdd(c.SessionId, CapText(employer.Name, c.CappedBy!));
        }

        var granted = new HashSet<Guid>();
        foreach (var grant in grants) granted.UnionWith(grant.Uses.Where(u => u.Amount > 0).Select(u => u.SessionId));

        var entries = new List<WorklistEntry>();
        foreach (var account in accounts) entries.AddRange(ForAccount(account, claims, s => capped.GetValueOrDefault(s), granted.Contains, cards.GetValueOrDefault, autopays.GetValueOrDefault));
        foreach (var remittance in remittances) entries.AddRange(ForRemittance(remittance));
        var receipts = Receipts.From(remittances, accounts, employers, grants, studies, payouts);
        var current = receipts.ToDictionary(r => r.Key, r => r.Amount);
        foreach (var deposit in deposits) entries.AddRange(ForDeposit(deposit, key => current.GetValueOrDefault(key)));
        foreach (var receipt in Receipts.Undeposited(receipts, deposits)) entries.AddRange(ForUndeposited(receipt));
        return entries;
    }

    public static string CapText(string employer, string cappedBy) => $"{employer}: {cappedBy}";

    /// <summary>Builds one source's entries: the key is "type:key", the fix found from the rest (<see cref="Worklist.Where"/>).</summary>
    private sealed class Entries(string source) : List<WorklistEntry>
    {
        public void Add(string type, string key, PatientAccount? account, Guid? claimId, string? reference, decimal amount, DateOnly since, string detail,
            string resolution, DateOnly? visibleFrom = null, Guid? remittanceId = null, Guid? patientId = null)
        {
            var id = $"{type}:{key}";
            var item = new ExceptionItem(id, type, account?.Id ?? patientId, account?.Name, claimId, reference, amount, since, 0, detail, resolution, RemittanceId: remittanceId);
            // Shown at once unless it waits some days: a date in the future of the clinic's today (a remittance received after
            // midnight UTC, evening in the clinic) must not hide it.
            Add(new WorklistEntry(id, type, Order(type), source, item.PatientId, item.Patient, claimId, reference, amount, since, visibleFrom ?? DateOnly.MinValue, detail, resolution,
                Worklist.Where(item), remittanceId, WorklistEntry.SearchOf(item.Patient, reference, detail)));
        }
    }

    public static string AccountSource(Guid accountId) => $"account:{accountId}";
    public static string RemittanceSource(Guid remittanceId) => $"remittance:{remittanceId}";
    public static string DepositSource(Guid depositId) => $"deposit:{depositId}";
    public static string ReceiptSource(string receiptKey) => $"receipt:{receiptKey}";

    /// <summary>
    /// What an account is on the worklist: its payments, sessions, address and alerts, and its claims' "no response" items
    /// (they carry the patient's name). <paramref name="claims"/> holds at least the claims its sessions are on and those
    /// filed for it; <paramref name="capOf"/> says which employer cap cut a session's commitment, <paramref name="granted"/>
    /// whether a grant pays some of it.
    /// </summary>
    public static IReadOnlyList<WorklistEntry> ForAccount(
        PatientAccount account, IReadOnlyDictionary<Guid, Claim> claims, Func<Guid, string?> capOf, Func<Guid, bool> granted,
        Func<Guid, CardPayment?>? cardOf = null, Func<Guid, Autopay?>? autopayOf = null)
    {
        var items = new Entries(AccountSource(account.Id));
        // An instalment the saved card was declined for on every attempt, and not paid since.
        IReadOnlyList<PaymentPlanView>? plans = null;
        foreach (var plan in account.Plans)
        {
            if (autopayOf?.Invoke(AutopayRules.IdOf(plan.PlanId)) is not { } autopay || !autopay.Attempts.Any(a => !a.Paid)) continue;
            plans ??= PaymentPlanRules.Views(account, DateOnly.MaxValue);
            var view = plans.First(v => v.PlanId == plan.PlanId);
            foreach (var i in view.Instalments.Where(i => i.PaidTowards < i.Amount && autopay.GaveUp(i.Number)))
            {
                var last = autopay.Last(i.Number)!;
                items.Add("missed-instalment", $"{plan.PlanId}:{i.Number}", account, null, $"instalment {i.Number}", i.Amount - i.PaidTowards, i.DueOn,
                    $"Instalment {i.Number} of the payment plan ({Fmt.Money(i.Amount)} due {Fmt.Date(i.DueOn)}): the saved card " +
                    $"{(autopay.CardLast4 is { } l4 ? $"ending {l4} " : "")}was declined {last.Attempt} times, last on {Fmt.Date(last.On)} ({last.Reason?.Replace('_', ' ')})",
                    "Call the patient: take the instalment another way (a payment on the account clears it), or agree a new plan");
            }
        }

        // A card payment the cardholder's bank disputed: reversed on the account, to be answered with evidence while it is open.
        foreach (var p in account.Payments.Where(p => p.Reversed))
        {
            if (cardOf?.Invoke(p.PaymentId) is not { Dispute: DisputeState.Open } card) continue;
            items.Add("card-dispute", card.DisputeId!, account, null, card.PaymentIntentId, card.DisputedAmount, card.DisputedOn!.Value,
                $"Card payment of {Fmt.Money(p.Amount)} ({Fmt.Date(p.ReceivedOn)}) is disputed by the cardholder's bank ({card.DisputeReason?.Replace('_', ' ')}): " +
                "it is reversed and the patient owes it again",
                $"Answer the dispute in the processor's dashboard{(card.EvidenceDueBy is { } due ? $" by {Fmt.Date(due)}" : "")} with the signed consent, " +
                "the statement and the receipt; if it is won the money is recorded again, if it is lost collect from the patient");
        }

        var patientOpen = account.Open().Patient;
        foreach (var p in account.Payments.Where(p => p.Unapplied > 0 && !p.Reversed))
        {
            if (patientOpen > 0)
            {
                items.Add("unapplied-payment", $"{p.PaymentId}", account, null, p.Reference, p.Unapplied, p.ReceivedOn,
                    $"{ApiEnum.Name(p.Method)} payment of {Fmt.Money(p.Amount)} has {Fmt.Money(p.Unapplied)} not applied while the patient owes {Fmt.Money(patientOpen)}",
                    "Apply the credit to the open charges (credit application)");
            }
            else
            {
                items.Add("credit-balance", $"{p.PaymentId}", account, null, p.Reference, p.Unapplied, p.ReceivedOn,
                    $"{Fmt.Money(p.Unapplied)} of a {ApiEnum.Name(p.Method)} payment of {Fmt.Money(p.Amount)} is credit with nothing open to apply it to",
                    "Refund the credit, or keep it for a planned session with the patient's agreement");
            }
        }

        foreach (var s in account.Sessions.Where(s => !s.Voided))
        {
            var open = s.Lines.Sum(l => l.Open.Total);
            var insured = s.Funding.Contains(FundingSource.Insurance);
            var postedToInsurer = account.InsurancePostings.Any(p => p.Lines.Any(l => l.SessionId == s.SessionId));
            if (insured && s.Claims.Count == 0 && !postedToInsurer && open > 0)
            {
                // Shown once more than UnbilledAfterDays have passed since the date of service.
                items.Add("unbilled-session", $"{s.SessionId}", account, null, null, open, s.DeliveredOn,
                    $"Insured session of {Fmt.Date(s.DeliveredOn)} ({Fmt.Money(s.Charge)}) is on no claim after {UnbilledAfterDays} days",
                    "File a claim for it, or change who pays it (void and re-enter as self-pay)", s.DeliveredOn.AddDays(UnbilledAfterDays + 1));
            }

            foreach (var line in s.Lines.Where(l => l.Denied && l.Open.Insurance > 0))
            {
                var claim = s.Claims.Select(c => claims.GetValueOrDefault(c.ClaimId)).FirstOrDefault(c => c is not null);
                // Appealed, closed, or corrected by a replacement the payer has not answered yet: nothing to do on it now.
                if (claim is { Status: ClaimStatus.Appealed or ClaimStatus.Closed } or { ReplacesClaimId: not null, Adjudications.Count: 0 }) continue;
                items.Add("denied-line", $"{s.SessionId}:{line.LineNumber}", account, claim?.Id, claim?.ControlNumber, line.Open.Insurance, s.DeliveredOn,
                    $"{line.Code} of {Fmt.Date(s.DeliveredOn)} was denied and {Fmt.Money(line.Open.Insurance)} is still open with the payer",
                    "Appeal the claim (a write-off takes only what the patient owes: the payer's part stays open until the appeal is answered)");
            }

            if (s.AuthorizationFlag is { } flag && flag != AuthorizationFlag.None && open > 0)
            {
                items.Add("beyond-authorization", $"{s.SessionId}", account, null, s.AuthorizationNumber, open, s.DeliveredOn,
                    $"Session of {Fmt.Date(s.DeliveredOn)} is {ApiEnum.Name(flag)}{(s.AuthorizationNumber is null ? "" : $" ({s.AuthorizationNumber})")}",
                    "Ask the payer to extend the authorization, or bill the session to the patient");
            }

            var patientOpenOnSession = s.Lines.Sum(l => l.Open.Patient);
            if (patientOpenOnSession > 0 && capOf(s.SessionId) is { } cap)
            {
                items.Add("cap-exceeded", $"{s.SessionId}", account, null, null, patientOpenOnSession, s.DeliveredOn,
                    $"Employer cap reached ({cap}); {Fmt.Money(patientOpenOnSession)} of the session of {Fmt.Date(s.DeliveredOn)} fell to the patient",
                    "Collect from the patient, or agree an exception with the employer");
            }
            else if (patientOpenOnSession > 0 && s.Funding.Contains(FundingSource.Grant) && !granted(s.SessionId))
            {
                items.Add("cap-exceeded", $"{s.SessionId}", account, null, null, patientOpenOnSession, s.DeliveredOn,
                    $"No grant award had room for the session of {Fmt.Date(s.DeliveredOn)} (used up, expired or none); {Fmt.Money(patientOpenOnSession)} fell to the patient",
                    "Ask the foundation for a new award, or collect from the patient");
            }
        }

        // Claims to a payer need the patient's address (2010BA N3/N4): an insured patient without one, while a payer still owes.
        var owedByPayer = account.Sessions.Where(s => !s.Voided && s.Funding.Contains(FundingSource.Insurance))
            .Select(s => (Session: s, Open: s.Lines.Sum(l => l.Open.Insurance))).Where(x => x.Open > 0).ToList();
        if (account.Address is null && owedByPayer.Count > 0)
        {
            var amount = owedByPayer.Sum(x => x.Open);
            items.Add("missing-address", $"{account.Id}", account, null, null, amount, owedByPayer.Min(x => x.Session.DeliveredOn),
                $"Insured patient has no address on file: the payer may reject the claims for {owedByPayer.Count} session(s) ({Fmt.Money(amount)} still owed by the payer)",
                "Add the patient's address (edit the patient's details)");
        }

        foreach (var alert in PatientBalance.AlertsFor(account))
        {
            if (alert.Kind == "fsa-without-letter")
            {
                var payment = account.Payment(alert.PaymentId!.Value)!;
                items.Add("fsa-without-letter", $"{alert.PaymentId}:{alert.SessionId}", account, null, payment.Reference, alert.Amount ?? 0m, payment.ReceivedOn,
                    alert.Message, "Record a letter of medical necessity covering the date of service, or refund the FSA/HSA payment");
            }
            else if (alert.Kind == "estimate-exceeded")
            {
                var estimate = account.Estimates.Single(e => e.EstimateId == alert.EstimateId);
                var last = account.Sessions.Where(s => s.SeriesId == estimate.SeriesId && !s.Voided).Max(s => s.DeliveredOn);
                items.Add("over-estimate", $"{estimate.SeriesId}", account, null, null, alert.Amount ?? 0m, last, alert.Message,
                    "Discount the series down to within $400 of the estimate (More, Discount), or issue a new estimate before further sessions");
            }
        }

        // An insured visit with no current, active answer from the payer: shown from the day before it, until it is attended,
        // missed (a no-show fee that day), cancelled or answered.
        foreach (var visit in account.Visits.Where(v => !v.Cancelled && !EligibilityOnAccount.Attended(account, v) && !EligibilityOnAccount.Missed(account, v)))
        {
            var eligibility = EligibilityOnAccount.ForVisit(account, visit);
            if (!eligibility.NeedsAttention) continue;
            var dayBefore = visit.On.AddDays(-1);
            items.Add("eligibility-unverified", $"{visit.VisitId}", account, null, null, 0m, dayBefore,
                $"Insured visit of {Fmt.Date(visit.On)}{(visit.Time is { } t ? $" {t}" : "")} ({visit.Purpose}): {eligibility.Detail}",
                eligibility.Status is "inactive" or "rejected"
                    ? "Call the payer or the patient: correct the coverage, or tell the patient before the visit that it may be self-pay"
                    : "Check eligibility (send a 270, or upload the payer's 271) before the visit",
                dayBefore);
        }

        foreach (var claim in claims.Values.Where(c => c.PatientId == account.Id && c.Status is ClaimStatus.Filed or ClaimStatus.Acknowledged))
        {
            // Shown once more than ClaimUnansweredAfterDays have passed since filing.
            var filedOn = DateOnly.FromDateTime(claim.FiledAt.UtcDateTime);
            items.Add("claim-no-response", $"{claim.Id}", account, claim.Id, claim.ControlNumber, claim.TotalCharge, filedOn,
                $"Claim {claim.ControlNumber} ({ApiEnum.Name(claim.Status)}) has had no answer for more than {ClaimUnansweredAfterDays} days",
                "Check its status with the payer (276/277 or portal); if it was never received, send it again: select it on the claims list, tick Resubmission and say why",
                filedOn.AddDays(ClaimUnansweredAfterDays + 1));
        }

        // A claim the clearinghouse or payer rejected (999, 277CA, or by hand) until its sessions are on a claim to that payer again.
        foreach (var claim in claims.Values.Where(c => c.PatientId == account.Id && c.Status == ClaimStatus.Rejected))
        {
            var sessions = claim.Lines.Select(l => account.Session(l.SessionId)).OfType<AccountSession>().Distinct().Where(s => !s.Voided).ToList();
            if (sessions.Count == 0 || sessions.All(s => s.Claims.Any(c => c.PayerId == claim.PayerId))) continue;
            var rejected = claim.History.LastOrDefault(h => h.What.StartsWith("Rejected", StringComparison.Ordinal));
            var on = DateOnly.FromDateTime((rejected?.At ?? claim.LastChangedAt).UtcDateTime);
            items.Add("claim-rejected", $"{claim.Id}", account, claim.Id, claim.ControlNumber, claim.TotalCharge, on,
                $"Claim {claim.ControlNumber} was rejected before adjudication: {rejected?.What ?? "rejected"}",
                "Correct what the rejection names (coverage, patient details, coding), then file its sessions on a new claim");
        }

        // Insurance credit: a payer paid a claim more than insurance owed, until it is refunded or the payer recovers it.
        foreach (var claimId in account.InsuranceOverpayments.Select(o => o.ClaimId).Distinct())
        {
            var credit = account.InsuranceCreditOn(claimId);
            if (credit <= 0) continue;
            var claim = claims.GetValueOrDefault(claimId);
            var since = DateOnly.FromDateTime(account.InsuranceOverpayments.First(o => o.ClaimId == claimId).OverpaidAt.UtcDateTime);
            items.Add("payer-overpayment", $"{claimId}", account, claimId, claim?.ControlNumber, credit, since,
                $"The payer paid {Fmt.Money(credit)} more than insurance owed on claim {claim?.ControlNumber}: it is owed back to the payer",
                "Refund it to the payer by check (the claim's Refund to payer), or leave it for the payer to recover from a later payment (PLB WO)");
        }

        return items;
    }

    /// <summary>What a remittance is on the worklist: its posting cut short, its items matching no claim.</summary>
    public static IReadOnlyList<WorklistEntry> ForRemittance(Remittance remittance)
    {
        var items = new Entries(RemittanceSource(remittance.Id));
        var received = DateOnly.FromDateTime(remittance.ReceivedAt.UtcDateTime);
        if (remittance.Posting)
        {
            items.Add("remittance-incomplete", $"{remittance.Id}", null, null, remittance.TraceNumber, remittance.PaymentAmount, received,
                $"{remittance.PayerName}'s 835 (trace {remittance.TraceNumber}, {remittance.ClaimPayments} claim payments) was being posted when the upload was cut short",
                "Upload the same 835 file again: it posts the rest and nothing twice");
        }

        if (remittance.ForwardBalanceOpen > 0)
        {
            items.Add("payer-balance-carried", $"{remittance.Id}", null, null, remittance.TraceNumber, remittance.ForwardBalanceOpen, received,
                $"{remittance.PayerName}'s 835 (trace {remittance.TraceNumber}) carried {Fmt.Money(remittance.ForwardBalanceOpen)} forward (PLB FB): the clinic owes it to the payer",
                "Nothing to do while it is recent: the payer takes it back from a later payment (PLB FB), which clears this; if none does, call the payer",
                remittanceId: remittance.Id);
        }

        foreach (var item in remittance.Unmatched)
        {
            items.Add("unmatched-remittance-item", $"{remittance.Id}:{item.ItemId}", null, null, $"{remittance.TraceNumber} / {item.ControlNumber}", item.Paid, received,
                $"{remittance.PayerName} paid {Fmt.Money(item.Paid)} on claim {item.ControlNumber}: {item.Reason}",
                "Match it to the claim by hand (remittance item match), or return it to the payer", remittanceId: remittance.Id);
        }

        return items;
    }

    /// <summary>
    /// What a bank deposit is on the worklist: matching no receipt, or matched to receipts that now come to another amount
    /// (a late card payment for that day, a reversed payment): the bank has one amount and the books another.
    /// </summary>
    public static IReadOnlyList<WorklistEntry> ForDeposit(BankDeposit deposit, Func<string, decimal> receiptAmount)
    {
        var items = new Entries(DepositSource(deposit.Id));
        if (deposit.Matched)
        {
            var now = deposit.Receipts.Sum(r => receiptAmount(r.Key));
            if (now != deposit.Amount)
            {
                items.Add("deposit-mismatch", $"{deposit.Id}", null, null, deposit.Reference, now - deposit.Amount, deposit.DepositedOn,
                    $"Deposit of {Fmt.Money(deposit.Amount)} on {Fmt.Date(deposit.DepositedOn)} was matched to receipts that now come to {Fmt.Money(now)}",
                    "Find the payment recorded, reversed or changed after the deposit was matched, and correct it or record the difference");
            }
        }
        else
        {
            items.Add("unmatched-deposit", $"{deposit.Id}", null, null, deposit.Reference, deposit.Amount, deposit.DepositedOn,
                $"Bank deposit of {Fmt.Money(deposit.Amount)} on {Fmt.Date(deposit.DepositedOn)} matches no receipt",
                "Match it to the receipts it is made of (deposit matches), or find the receipt that was never recorded");
        }

        return items;
    }

    /// <summary>A receipt no deposit was matched to: shown once more than UndepositedAfterDays have passed.</summary>
    public static IReadOnlyList<WorklistEntry> ForUndeposited(Receipt receipt)
    {
        var items = new Entries(ReceiptSource(receipt.Key));
        items.Add("undeposited-receipt", receipt.Key, null, null, receipt.Reference, receipt.Amount, receipt.ReceivedOn,
            $"{receipt.Reference} ({Fmt.Money(receipt.Amount)}) has reached no bank deposit after {UndepositedAfterDays} days",
            "Record the deposit it went into, or trace the missing money", receipt.ReceivedOn.AddDays(UndepositedAfterDays + 1));
        return items;
    }

    public static IReadOnlyList<ExceptionSummary> Summarize(IEnumerable<ExceptionItem> items) =>
        items.GroupBy(i => i.Type)
            .Select(g => new ExceptionSummary(g.Key, g.Count(), g.Sum(i => i.Amount), g.Max(i => i.AgeDays)))
            .OrderBy(s => Array.IndexOf(Types, s.Type))
            .ToList();

    public static string ToCsv(IEnumerable<ExceptionItem> items)
    {
        var text = new StringBuilder("type,since,age_days,amount,patient_id,patient,claim_id,reference,detail,resolution,key\n");
        foreach (var i in items)
        {
            text.Append(string.Join(',', i.Type, CsvText.Date(i.Since), i.AgeDays, CsvText.Money(i.Amount), i.PatientId?.ToString() ?? "", CsvText.Field(i.Patient),
                i.ClaimId?.ToString() ?? "", CsvText.Field(i.Reference), CsvText.Field(i.Detail), CsvText.Field(i.Resolution), CsvText.Field(i.Key))).Append('\n');
        }

        return text.ToString();
    }
}

/// <summary>The worklist's filters: a type, an age, a text in the patient's name, the reference or the detail.</summary>
public sealed record WorklistFilter(string? Type = null, int? OlderThanDays = null, string? Search = null);

/// <summary>
/// Reads of the Exceptions read model (ADR 0017): the items shown today (<see cref="WorklistEntry.VisibleFrom"/>), filtered,
/// ordered (the types in <see cref="ExceptionsWorklist.Types"/>' order, oldest first within a type) and paged in the
/// database; the summary summed there too. A read is one page and one grouped count, whatever the store's size.
/// </summary>
public static class WorklistReads
{
    private static IQueryable<WorklistEntry> Matching(IQuerySession session, DateOnly today, WorklistFilter filter)
    {
        var query = session.Query<WorklistEntry>().Where(x => x.VisibleFrom <= today);
        if (filter.Type is { } type) query = query.Where(x => x.Type == type);
        // Older than n days: today - since > n.
        if (filter.OlderThanDays is { } days)
        {
            var before = today.AddDays(-days);
            query = query.Where(x => x.Since < before);
        }
        if (SearchTerm(filter) is { } term) query = query.Where(x => x.Search.Contains(term));
        return query;
    }

    private static string? SearchTerm(WorklistFilter filter) => string.IsNullOrWhiteSpace(filter.Search) ? null : filter.Search.Trim().ToLowerInvariant();

    /// <summary>One page (from 1) of the items the filter keeps.</summary>
    public static async Task<IReadOnlyList<ExceptionItem>> PageAsync(IQuerySession session, DateOnly today, WorklistFilter filter, int page, int pageSize, CancellationToken ct) =>
        (await Ordered(session, today, filter).Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(ct))
        .Select(x => x.ToItem(today)).ToList();

    /// <summary>Every item the filter keeps, in the same order (the CSV file).</summary>
    public static async Task<IReadOnlyList<ExceptionItem>> AllAsync(IQuerySession session, DateOnly today, WorklistFilter filter, CancellationToken ct) =>
        (await Ordered(session, today, filter).ToListAsync(ct)).Select(x => x.ToItem(today)).ToList();

    /// <summary>The worklist's one order: the types in order, the oldest first within a type, then the key.</summary>
    private static IQueryable<WorklistEntry> Ordered(IQuerySession session, DateOnly today, WorklistFilter filter) =>
        Matching(session, today, filter).OrderBy(x => x.TypeOrder).ThenBy(x => x.Since).ThenBy(x => x.Id);

    /// <summary>
    /// Count, amount and oldest age by type of the items the filter keeps, in one grouped query. Without a search it sums
    /// the tallies (<see cref="WorklistTally"/>: a few thousand rows whatever the number of items); a search needs the
    /// items' text, so it groups the items.
    /// </summary>
    public static async Task<IReadOnlyList<ExceptionSummary>> SummaryAsync(IQuerySession session, DateOnly today, WorklistFilter filter, CancellationToken ct)
    {
        var schema = session.DocumentStore.Options.DatabaseSchemaName;
        var tallied = SearchTerm(filter) is null;
        var sql = new StringBuilder(tallied
            ? $"select data ->> 'Type' || '|' || sum((data ->> 'Count')::int) || '|' || sum((data ->> 'Amount')::numeric) || '|' || min(data ->> 'Since') from {schema}.mt_doc_worklisttally where tenant_id = ? and visible_from <= ?"
            : $"select type || '|' || count(*) || '|' || sum(amount) || '|' || min(since) from {schema}.mt_doc_worklistentry where tenant_id = ? and visible_from <= ?");
        var parameters = new List<object> { session.TenantId, today };
        if (filter.Type is { } type)
        {
            sql.Append(tallied ? " and data ->> 'Type' = ?" : " and type = ?");
            parameters.Add(type);
        }

        if (filter.OlderThanDays is { } days)
        {
            sql.Append(tallied ? " and (data ->> 'Since')::date < ?" : " and since < ?");
            parameters.Add(today.AddDays(-days));
        }

        if (SearchTerm(filter) is { } term)
        {
            sql.Append(" and strpos(data ->> 'Search', ?) > 0");
            parameters.Add(term);
        }

        sql.Append(tallied ? " group by data ->> 'Type'" : " group by type");
        var rows = await session.QueryAsync<string>(sql.ToString(), ct, parameters.ToArray());
        return rows.Select(row => row.Split('|'))
            .Select(p => new ExceptionSummary(p[0], int.Parse(p[1], CultureInfo.InvariantCulture), decimal.Parse(p[2], CultureInfo.InvariantCulture),
                Math.Max(0, today.DayNumber - DateOnly.ParseExact(p[3], "yyyy-MM-dd", CultureInfo.InvariantCulture).DayNumber)))
            .OrderBy(s => ExceptionsWorklist.Order(s.Type)).ToList();
    }
}

public static class ExceptionsEndpoints
{
    public const int DefaultPageSize = 100;

    /// <summary>The reconciliation worklist, a page at a time: the types in order, oldest first within each, with a summary by type.</summary>
    /// <param name="type">One of the exception types (see the API docs); left out: all.</param>
    /// <param name="olderThanDays">Only items older than this many days.</param>
    /// <param name="search">Only items whose patient, reference or detail contains this text (any case).</param>
    /// <param name="format">json (default) or csv (every item the filters keep).</param>
    /// <param name="page">The page, from 1.</param>
    /// <param name="pageSize">Items a page holds (1-500, default 100).</param>
    [WolverineGet("/api/reconciliation/exceptions"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Reconciliation")]
    public static async Task<IResult> List(
        string? type, int? olderThanDays, string? search, string? format, int? page, int? pageSize, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        if (type is not null && !ExceptionsWorklist.Types.Contains(type)) problems.Add("type", $"must be one of {string.Join(", ", ExceptionsWorklist.Types)}");
        if (olderThanDays is < 0) problems.Add("olderThanDays", "must be zero or more");
        if (search is { Length: > 100 }) problems.Add("search", "must be at most 100 characters");
        if (format is not (null or "json" or "csv")) problems.Add("format", "must be json or csv");
        if (page is < 1) problems.Add("page", "must be 1 or more");
        if (pageSize is < 1 or > ExceptionsWorklist.MaxPageSize) problems.Add("pageSize", $"must be between 1 and {ExceptionsWorklist.MaxPageSize}");
        if (format == "csv" && (pageSize is not null || page is not null)) problems.Add(pageSize is null ? "page" : "pageSize", "is not taken with format csv (the file holds every item)");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

        var today = calendar.Today();
        var filter = new WorklistFilter(type, olderThanDays, search);
        if (format == "csv") return CsvText.Download(ExceptionsWorklist.ToCsv(await WorklistReads.AllAsync(session, today, filter, ct)), $"exceptions-{today:yyyy-MM-dd}.csv");
        // The summary is by type for the other filters (the chips of every type); the total, the amount and the pages are of the type asked.
        var summary = await WorklistReads.SummaryAsync(session, today, filter with { Type = null }, ct);
        var kept = summary.Where(s => type is null || s.Type == type).ToList();
        var number = page ?? 1;
        var size = pageSize ?? DefaultPageSize;
        var total = kept.Sum(s => s.Count);
        // Counts are of every item the filters keep, never of the page asked; a page past the end is empty.
        var items = (number - 1) * size < total ? await WorklistReads.PageAsync(session, today, filter, number, size, ct) : [];
        return Results.Ok(new ExceptionPage(items, summary, total, kept.Sum(s => s.Amount), today, number, size, Math.Max(1, (total + size - 1) / size)));
    }

    /// <summary>Counts, amounts and the oldest age of the open exceptions, by type.</summary>
    [WolverineGet("/api/reconciliation/exceptions/summary"), Authorize(Policy = Policies.Staff)]
    [Tags("Reconciliation")]
    public static Task<IReadOnlyList<ExceptionSummary>> Summary(IQuerySession session, ClinicCalendar calendar, CancellationToken ct) =>
        WorklistReads.SummaryAsync(session, calendar.Today(), new WorklistFilter(), ct);
}
