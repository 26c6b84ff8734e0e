using KetamineBilling.Features.Ui;
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

/// <summary>
/// The worklist, or one page of it. Total, TotalAmount and Summary count every item the filters match, whatever the page;
/// a page holds whole groups (types) only (<see cref="ExceptionsWorklist.PagesOf"/>), so PageCount is the number of such pages.
/// </summary>
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
        "unapplied-payment", "credit-balance", "unbilled-session", "claim-no-response", "denied-line", "unmatched-remittance-item", "remittance-incomplete",
        "beyond-authorization", "cap-exceeded", "fsa-without-letter", "over-estimate", "missing-address", "unmatched-deposit", "undeposited-receipt",
        "deposit-mismatch"
    ];

    /// <summary>The largest page a caller may ask for (a group larger than this still comes whole, on a page of its own).</summary>
    public const int MaxPageSize = 500;

    /// <summary>
    /// The items cut into pages that never split a group: the groups (types) in the summary's order, each group's items in
    /// the order given; a page takes whole groups while they fit in pageSize, and a group larger than pageSize has a
    /// page of its own. No items: no pages.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<ExceptionItem>> PagesOf(IEnumerable<ExceptionItem> items, int pageSize)
    {
        var pages = new List<IReadOnlyList<ExceptionItem>>();
        var page = new List<ExceptionItem>();
        foreach (var group in items.GroupBy(i => i.Type).OrderBy(g => Order(g.Key)))
        {
            var rows = group.ToList();
            if (page.Count > 0 && page.Count + rows.Count > pageSize)
            {
                pages.Add(page);
                page = [];
            }

            page.AddRange(rows);
        }

        if (page.Count > 0) pages.Add(page);
        return pages;
    }

    private static int Order(string type) => Array.IndexOf(Types, type) is var i and >= 0 ? i : int.MaxValue;

    public static async Task<IReadOnlyList<ExceptionItem>> FindAsync(IQuerySession session, DateOnly today, CancellationToken ct)
    {
        var accounts = await session.Query<PatientAccount>().ToListAsync(ct);
        var claims = (await session.Query<Claim>().ToListAsync(ct)).ToDictionary(c => c.Id);
        var remittances = await session.Query<Remittance>().ToListAsync(ct);
        var employers = await session.Query<EmployerAgreement>().ToListAsync(ct);
        var grants = await session.Query<Grant>().ToListAsync(ct);
        var studies = await session.Query<Studies.Study>().ToListAsync(ct);
        var deposits = await session.Query<BankDeposit>().ToListAsync(ct);
        var capped = new Dictionary<Guid, string>();
        foreach (var employer in employers)
        {
            foreach (var c in employer.Commitments.Where(c => c.CappedBy is not null)) capped[c.SessionId] = $"{employer.Name}: {c.CappedBy}";
        }

        var granted = new HashSet<Guid>();
        foreach (var grant in grants) granted.UnionWith(grant.Uses.Where(u => u.Amount > 0).Select(u => u.SessionId));

        var items = new List<ExceptionItem>();
        void Add(string type, string key, PatientAccount? account, Guid? claimId, string? reference, decimal amount, DateOnly since, string detail, string resolution,
            Guid? remittanceId = null)
        {
            var item = new ExceptionItem($"{type}:{key}", type, account?.Id, account?.Name, claimId, reference, amount, since, Math.Max(0, today.DayNumber - since.DayNumber),
                detail, resolution, RemittanceId: remittanceId);
            items.Add(item with { Fix = Worklist.Where(item) });
        }

        foreach (var account in accounts)
        {
            var patientOpen = account.Open().Patient;
            foreach (var p in account.Payments.Where(p => p.Unapplied > 0 && !p.Reversed))
            {
                if (patientOpen > 0)
                {
                    Add("unapplied-payment", $"{p.PaymentId}", account, null, p.Reference, p.Unapplied, p.ReceivedOn,
                        $"{ApiEnum.Name(p.Method)} payment of {Fmt.Money(p.Amount)} has {Fmt.Money(p.Unapplied)} not applied while the patient owes {Fmt.Money(patientOpen)}",
                        "Apply the credit to the open charges (credit application)");
                }
                else
                {
                    Add("credit-balance", $"{p.PaymentId}", account, null, p.Reference, p.Unapplied, p.ReceivedOn,
                        $"{Fmt.Money(p.Unapplied)} of a {ApiEnum.Name(p.Method)} payment of {Fmt.Money(p.Amount)} is credit with nothing open to apply it to",
                        "Refund the credit, or keep it for a planned session with the patient's agreement");
                }
            }

            foreach (var s in account.Sessions.Where(s => !s.Voided))
            {
                var open = s.Lines.Sum(l => l.Open.Total);
                var insured = s.Funding.Contains(FundingSource.Insurance);
                var postedToInsurer = account.InsurancePostings.Any(p => p.Lines.Any(l => l.SessionId == s.SessionId));
                if (insured && s.Claims.Count == 0 && !postedToInsurer && open > 0 && today.DayNumber - s.DeliveredOn.DayNumber > UnbilledAfterDays)
                {
                    Add("unbilled-session", $"{s.SessionId}", account, null, null, open, s.DeliveredOn,
                        $"Insured session of {Fmt.Date(s.DeliveredOn)} ({Fmt.Money(s.Charge)}) is on no claim after {UnbilledAfterDays} days",
                        "File a claim for it, or change who pays it (void and re-enter as self-pay)");
                }

                foreach (var line in s.Lines.Where(l => l.Denied && l.Open.Insurance > 0))
                {
                    var claim = s.Claims.Select(c => claims.GetValueOrDefault(c.ClaimId)).FirstOrDefault(c => c is not null);
                    if (claim is { Status: ClaimStatus.Appealed or ClaimStatus.Closed }) continue;
                    Add("denied-line", $"{s.SessionId}:{line.LineNumber}", account, claim?.Id, claim?.ControlNumber, line.Open.Insurance, s.DeliveredOn,
                        $"{line.Code} of {Fmt.Date(s.DeliveredOn)} was denied and {Fmt.Money(line.Open.Insurance)} is still open with the payer",
                        "Appeal the claim (a write-off takes only what the patient owes: the payer's part stays open until the appeal is answered)");
                }

                if (s.AuthorizationFlag is { } flag && flag != AuthorizationFlag.None && open > 0)
                {
                    Add("beyond-authorization", $"{s.SessionId}", account, null, s.AuthorizationNumber, open, s.DeliveredOn,
                        $"Session of {Fmt.Date(s.DeliveredOn)} is {ApiEnum.Name(flag)}{(s.AuthorizationNumber is null ? "" : $" ({s.AuthorizationNumber})")}",
                        "Ask the payer to extend the authorization, or bill the session to the patient");
                }

                var patientOpenOnSession = s.Lines.Sum(l => l.Open.Patient);
                if (patientOpenOnSession > 0 && capped.TryGetValue(s.SessionId, out var cap))
                {
                    Add("cap-exceeded", $"{s.SessionId}", account, null, null, patientOpenOnSession, s.DeliveredOn,
                        $"Employer cap reached ({cap}); {Fmt.Money(patientOpenOnSession)} of the session of {Fmt.Date(s.DeliveredOn)} fell to the patient",
                        "Collect from the patient, or agree an exception with the employer");
                }
                else if (patientOpenOnSession > 0 && s.Funding.Contains(FundingSource.Grant) && !granted.Contains(s.SessionId))
                {
                    Add("cap-exceeded", $"{s.SessionId}", account, null, null, patientOpenOnSession, s.DeliveredOn,
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
                Add("missing-address", $"{account.Id}", account, null, null, amount, owedByPayer.Min(x => x.Session.DeliveredOn),
                    $"Insured patient has no address on file: the payer may reject the claims for {owedByPayer.Count} session(s) ({Fmt.Money(amount)} still owed by the payer)",
                    "Add the patient's address (edit the patient's details)");
            }

            foreach (var alert in PatientBalance.AlertsFor(account))
            {
                if (alert.Kind == "fsa-without-letter")
                {
                    var payment = account.Payment(alert.PaymentId!.Value)!;
                    Add("fsa-without-letter", $"{alert.PaymentId}:{alert.SessionId}", account, null, payment.Reference, alert.Amount ?? 0m, payment.ReceivedOn,
                        alert.Message, "Record a letter of medical necessity covering the date of service, or refund the FSA/HSA payment");
                }
                else if (alert.Kind == "estimate-exceeded")
                {
                    var estimate = account.Estimates.Single(e => e.EstimateId == alert.EstimateId);
                    var last = account.Sessions.Where(s => s.SeriesId == estimate.SeriesId && !s.Voided).Max(s => s.DeliveredOn);
                    Add("over-estimate", $"{estimate.SeriesId}", account, null, null, alert.Amount ?? 0m, last, alert.Message,
                        "Discount the series down to within $400 of the estimate (More, Discount), or issue a new estimate before further sessions");
                }
            }
        }

        var unansweredBefore = today.AddDays(-ClaimUnansweredAfterDays);
        foreach (var claim in claims.Values.Where(c => c.Status is ClaimStatus.Filed or ClaimStatus.Acknowledged))
        {
            var filedOn = DateOnly.FromDateTime(claim.FiledAt.UtcDateTime);
            if (filedOn >= unansweredBefore) continue;
            var account = accounts.FirstOrDefault(a => a.Id == claim.PatientId);
            Add("claim-no-response", $"{claim.Id}", account, claim.Id, claim.ControlNumber, claim.TotalCharge, filedOn,
                $"Claim {claim.ControlNumber} ({ApiEnum.Name(claim.Status)}) has had no answer for more than {ClaimUnansweredAfterDays} days",
                "Check its status with the payer (276/277 or portal); if it was never received, send it again: select it on the claims list, tick Resubmission and say why");
        }

        foreach (var remittance in remittances)
        {
            var received = DateOnly.FromDateTime(remittance.ReceivedAt.UtcDateTime);
            if (remittance.Posting)
            {
                Add("remittance-incomplete", $"{remittance.Id}", null, null, remittance.TraceNumber, remittance.PaymentAmount, received,
                    $"{remittance.PayerName}'s 835 (trace {remittance.TraceNumber}, {remittance.ClaimPayments} claim payments) was being posted when the upload was cut short",
                    "Upload the same 835 file again: it posts the rest and nothing twice");
            }

            foreach (var item in remittance.Unmatched)
            {
                Add("unmatched-remittance-item", $"{remittance.Id}:{item.ItemId}", null, null, $"{remittance.TraceNumber} / {item.ControlNumber}", item.Paid, received,
                    $"{remittance.PayerName} paid {Fmt.Money(item.Paid)} on claim {item.ControlNumber}: {item.Reason}",
                    "Match it to the claim by hand (remittance item match), or return it to the payer", remittance.Id);
            }
        }

        var receipts = Receipts.From(remittances, accounts, employers, grants, studies);
        var undeposited = Receipts.Undeposited(receipts, deposits);
        var current = receipts.ToDictionary(r => r.Key, r => r.Amount);
        foreach (var deposit in deposits.Where(d => d.Matched))
        {
            // A receipt changed after the match (a late card payment for that day, a reversed payment): the bank has
            // one amount and the books another.
            var now = deposit.Receipts.Sum(r => current.GetValueOrDefault(r.Key));
            if (now == deposit.Amount) continue;
            Add("deposit-mismatch", $"{deposit.Id}", null, null, deposit.Reference, now - deposit.Amount, deposit.DepositedOn,
                $"Deposit of {Fmt.Money(deposit.Amount)} on {Fmt.Date(deposit.DepositedOn)} was matched to receipts that now come to {Fmt.Money(now)}",
                "Find the payment recorded, reversed or changed after the deposit was matched, and correct it or record the difference");
        }

        foreach (var deposit in deposits.Where(d => !d.Matched))
        {
            Add("unmatched-deposit", $"{deposit.Id}", null, null, deposit.Reference, deposit.Amount, deposit.DepositedOn,
                $"Bank deposit of {Fmt.Money(deposit.Amount)} on {Fmt.Date(deposit.DepositedOn)} matches no receipt",
                "Match it to the receipts it is made of (deposit matches), or find the receipt that was never recorded");
        }

        foreach (var receipt in undeposited.Where(r => today.DayNumber - r.ReceivedOn.DayNumber > UndepositedAfterDays))
        {
            Add("undeposited-receipt", receipt.Key, null, null, receipt.Reference, receipt.Amount, receipt.ReceivedOn,
                $"{receipt.Reference} ({Fmt.Money(receipt.Amount)}) has reached no bank deposit after {UndepositedAfterDays} days",
                "Record the deposit it went into, or trace the missing money");
        }

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

public static class ExceptionsEndpoints
{
    /// <summary>The reconciliation worklist, oldest first, with a summary by type.</summary>
    /// <param name="type">One of the exception types (see the API docs); left out: all.</param>
    /// <param name="olderThanDays">Only items older than this many days.</param>
    /// <param name="format">json (default) or csv.</param>
    [WolverineGet("/api/reconciliation/exceptions"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Reconciliation")]
    /// <param name="page">With pageSize: the page (from 1) of the worklist cut into pages of whole groups.</param>
    /// <param name="pageSize">Items a page holds at most (1-500), unless one group is larger: it comes whole on its own page.</param>
    public static async Task<IResult> List(
        string? type, int? olderThanDays, string? format, int? page, int? pageSize, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        if (type is not null && !ExceptionsWorklist.Types.Contains(type)) problems.Add("type", $"must be one of {string.Join(", ", ExceptionsWorklist.Types)}");
        if (olderThanDays is < 0) problems.Add("olderThanDays", "must be zero or more");
        if (format is not (null or "json" or "csv")) problems.Add("format", "must be json or csv");
        if (page is < 1) problems.Add("page", "must be 1 or more");
        if (pageSize is < 1 or > ExceptionsWorklist.MaxPageSize) problems.Add("pageSize", $"must be between 1 and {ExceptionsWorklist.MaxPageSize}");
        if (page is not null && pageSize is null) problems.Add("pageSize", "is required with page");
        if (format == "csv" && pageSize is not null) problems.Add("pageSize", "is not taken with format csv (the file holds every item)");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);

        var today = calendar.Today();
        var items = (await ExceptionsWorklist.FindAsync(session, today, ct))
            .Where(i => type is null || i.Type == type)
            .Where(i => olderThanDays is null || i.AgeDays > olderThanDays)
            .OrderByDescending(i => i.AgeDays).ThenBy(i => i.Type, StringComparer.Ordinal).ThenBy(i => i.Key, StringComparer.Ordinal)
            .ToList();
        if (format == "csv") return CsvText.Download(ExceptionsWorklist.ToCsv(items), $"exceptions-{today:yyyy-MM-dd}.csv");
        var summary = ExceptionsWorklist.Summarize(items);
        if (pageSize is not { } size) return Results.Ok(new ExceptionPage(items, summary, items.Count, items.Sum(i => i.Amount), today));

        // Pages of whole groups; the counts are of every item, never of the page asked.
        var pages = ExceptionsWorklist.PagesOf(items, size);
        var number = page ?? 1;
        return Results.Ok(new ExceptionPage(number <= pages.Count ? pages[number - 1] : [], summary, items.Count, items.Sum(i => i.Amount), today, number, size,
            Math.Max(1, pages.Count)));
    }

    /// <summary>Counts, amounts and the oldest age of the open exceptions, by type.</summary>
    [WolverineGet("/api/reconciliation/exceptions/summary"), Authorize(Policy = Policies.Staff)]
    [Tags("Reconciliation")]
    public static async Task<IReadOnlyList<ExceptionSummary>> Summary(IQuerySession session, ClinicCalendar calendar, CancellationToken ct) =>
        ExceptionsWorklist.Summarize(await ExceptionsWorklist.FindAsync(session, calendar.Today(), ct));
}
