using KetamineBilling.Features.Reconciliation;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Stripe;
using Wolverine.Http;

namespace KetamineBilling.Features.PatientBilling;

// The processor payout stream (one per payout, id derived from the processor's payout id): money the processor sent to the
// clinic's bank, the card payments it is made of less the processor's fees, refunds and disputes.

/// <summary>One balance transaction of a payout as the processor listed it: a card payment (gross), a refund, a dispute, a fee.</summary>
/// <param name="Type">The processor's type: "charge", "payment", "refund", "adjustment" (a dispute), "stripe_fee", ...</param>
/// <param name="PaymentIntentId">The PaymentIntent it belongs to, when it is about one.</param>
/// <param name="PaymentId">The platform's card payment it is, when that payment was recorded here.</param>
/// <param name="Amount">Gross: positive money in, negative money out.</param>
/// <param name="Fee">What the processor kept of it (positive).</param>
/// <param name="Net">Amount less fee.</param>
public sealed record PayoutLine(string BalanceTransactionId, string Type, string? PaymentIntentId, Guid? PaymentId, decimal Amount, decimal Fee, decimal Net);

/// <summary>
/// The processor paid money out to the clinic's bank account. <paramref name="Net"/> is what reaches the bank (the payout's amount);
/// <paramref name="Gross"/> less <paramref name="Fees"/> is what its balance transactions explain of it.
/// </summary>
/// <param name="ArrivalDate">The day the processor expects it in the bank.</param>
public record ProcessorPayoutPaid(
    Guid PayoutId, string ProcessorPayoutId, DateOnly ArrivalDate, decimal Gross, decimal Fees, decimal Net, IReadOnlyList<PayoutLine> Lines, DateTimeOffset RecordedAt);

/// <summary>A payout as the processor reported it (inline): the receipt the bank deposit of its net is matched to.</summary>
public sealed class ProcessorPayout
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public string ProcessorPayoutId { get; set; } = "";
    public DateOnly ArrivalDate { get; set; }
    public decimal Gross { get; set; }
    public decimal Fees { get; set; }
    public decimal Net { get; set; }
    public List<PayoutLine> Lines { get; set; } = [];
    public DateTimeOffset RecordedAt { get; set; }

    /// <summary>What the balance transactions do not explain (zero when the processor listed them all).</summary>
    public decimal Unexplained => Net - (Gross - Fees);

    /// <summary>The receipt's key (<see cref="Receipt.Key"/>).</summary>
    public string ReceiptKey => $"processor-payout:{ProcessorPayoutId}";

    public static ProcessorPayout Create(ProcessorPayoutPaid e) => new()
    {
        Id = e.PayoutId, ProcessorPayoutId = e.ProcessorPayoutId, ArrivalDate = e.ArrivalDate, Gross = e.Gross, Fees = e.Fees, Net = e.Net, Lines = [.. e.Lines],
        RecordedAt = e.RecordedAt
    };

    /// <summary>The platform's id of a processor payout: the same however often it is reported.</summary>
    public static Guid IdOf(string processorPayoutId) => DeterministicGuid.From(Guid.Empty, $"stripe-payout:{processorPayoutId}");
}

public static class Payouts
{
    /// <summary>
    /// A payout paid, from the processor's payout and its balance transactions: gross is every transaction but the payout itself,
    /// fees what the processor kept of them, net the payout's amount. Null when it is not money paid to the clinic.
    /// </summary>
    public static ProcessorPayoutPaid? Paid(string payoutId, long amountCents, DateOnly arrival, IEnumerable<BalanceTransaction> transactions, DateTimeOffset now)
    {
        if (amountCents <= 0) return null;
        var lines = transactions.Where(t => t.Type != "payout" && t.Type != "payout_cancel" && t.Type != "payout_failure")
            .Select(t => new PayoutLine(t.Id, t.Type, PaymentIntentOf(t.Source), PaymentIntentOf(t.Source) is { } pi ? CardProcessor.PaymentIdOf(pi) : null,
                CardProcessor.Dollars(t.Amount), CardProcessor.Dollars(t.Fee), CardProcessor.Dollars(t.Net)))
            .ToList();
        return new ProcessorPayoutPaid(ProcessorPayout.IdOf(payoutId), payoutId, arrival, lines.Sum(l => l.Amount), lines.Sum(l => l.Fee), CardProcessor.Dollars(amountCents),
            lines, now);
    }

    private static string? PaymentIntentOf(IBalanceTransactionSource? source) => source switch
    {
        Charge c => c.PaymentIntentId,
        Refund r => r.PaymentIntentId,
        Dispute d => d.PaymentIntentId,
        _ => null
    };

    /// <summary>The payout's balance transactions, through the library (every page), with their sources expanded.</summary>
    public static async Task<IReadOnlyList<BalanceTransaction>> TransactionsAsync(IStripeClient client, string payoutId, CancellationToken ct)
    {
        var list = new List<BalanceTransaction>();
        var options = new BalanceTransactionListOptions { Payout = payoutId, Limit = 100, Expand = ["data.source"] };
        await foreach (var t in new BalanceTransactionService(client).ListAutoPagingAsync(options, cancellationToken: ct)) list.Add(t);
        return list;
    }
}

public sealed record PayoutView(
    Guid PayoutId, string ProcessorPayoutId, DateOnly ArrivalDate, decimal Gross, decimal Fees, decimal Net, decimal Unexplained, int Transactions,
    Guid? DepositId, IReadOnlyList<PayoutLine>? Lines)
{
    public static PayoutView From(ProcessorPayout p, Guid? depositId, bool lines) =>
        new(p.Id, p.ProcessorPayoutId, p.ArrivalDate, p.Gross, p.Fees, p.Net, p.Unexplained, p.Lines.Count, depositId, lines ? p.Lines : null);
}

public sealed record PayoutPage(IReadOnlyList<PayoutView> Items, long TotalCount, int Page, int PageSize, decimal Gross, decimal Fees, decimal Net);

public static class PayoutQueries
{
    private static async Task<Dictionary<string, Guid>> DepositsOfAsync(IQuerySession session, IEnumerable<ProcessorPayout> payouts, CancellationToken ct)
    {
        var keys = payouts.Select(p => p.ReceiptKey).ToArray();
        return keys.Length == 0 ? [] : (await session.LoadManyAsync<DepositedReceipt>(ct, keys)).ToDictionary(d => d.Id, d => d.DepositId);
    }

    /// <summary>The processor's payouts, newest first, with the bank deposit each was matched to, and the totals of the period.</summary>
    /// <param name="from">First arrival day (yyyy-MM-dd); left out: the first.</param>
    /// <param name="to">Last arrival day; left out: the last.</param>
    [WolverineGet("/api/payouts"), Authorize(Policy = Policies.Staff)]
    [Tags("Reconciliation")]
    public static async Task<IResult> List(int? page, int? pageSize, DateOnly? from, DateOnly? to, IQuerySession session, CancellationToken ct)
    {
        var problems = new ValidationProblems();
        if (page is < 1) problems.Add("page", "must be 1 or more");
        if (pageSize is < 1 or > 200) problems.Add("pageSize", "must be from 1 to 200");
        if (from is { } f && to is { } t && t < f) problems.Add("to", "must not be before from");
        if (problems.Any) return problems.ToResult(StatusCodes.Status400BadRequest);
        var number = page ?? 1;
        var size = pageSize ?? 25;
        IQueryable<ProcessorPayout> query = session.Query<ProcessorPayout>();
        if (from is { } first) query = query.Where(p => p.ArrivalDate >= first);
        if (to is { } last) query = query.Where(p => p.ArrivalDate <= last);
        var (items, total) = await query.OrderByDescending(p => p.ArrivalDate).ThenByDescending(p => p.RecordedAt).PageAsync(number, size, ct);
        var sums = await query.Select(p => new { p.Gross, p.Fees, p.Net }).ToListAsync(ct);
        var deposits = await DepositsOfAsync(session, items, ct);
        return Results.Ok(new PayoutPage(items.Select(p => PayoutView.From(p, deposits.TryGetValue(p.ReceiptKey, out var d) ? d : null, false)).ToList(), total, number, size,
            sums.Sum(s => s.Gross), sums.Sum(s => s.Fees), sums.Sum(s => s.Net)));
    }

    /// <summary>One payout with its balance transactions.</summary>
    [WolverineGet("/api/payouts/{payoutId}"), Authorize(Policy = Policies.Staff)]
    [Tags("Reconciliation")]
    public static async Task<IResult> Get(Guid payoutId, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<ProcessorPayout>(payoutId, ct) is not { } payout) return Problems.NotFound($"payout {payoutId} does not exist");
        var deposits = await DepositsOfAsync(session, [payout], ct);
        return Results.Ok(PayoutView.From(payout, deposits.TryGetValue(payout.ReceiptKey, out var d) ? d : null, true));
    }
}
