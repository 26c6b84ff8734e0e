using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;
using Money = KetamineBilling.Features.Ledger.Money;

namespace KetamineBilling.Features.Patients;

/// <param name="DiscountId">Made by the client: the idempotency key.</param>
/// <param name="Basis">per-session (needs sessionId), series-package (needs seriesId) or sliding-scale (needs
/// incomeBand, and sessionId or seriesId).</param>
/// <param name="Kind">percentage or amount; a sliding-scale discount takes its percentage from the band.</param>
public record GrantDiscount(
    Guid DiscountId, string? Basis, string? Kind, decimal? Value, string? IncomeBand, Guid? SessionId, Guid? SeriesId, string? Reason);

public static class SlidingScale
{
    /// <summary>
    /// The clinic's sliding-scale bands by household income against the federal poverty guideline (FPG), the
    /// usual basis of charity-care policies: the lower the band, the larger the discount on self-pay charges.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, decimal> Bands = new Dictionary<string, decimal>
    {
        ["fpg-0-200"] = 50m,
        ["fpg-201-300"] = 30m,
        ["fpg-301-400"] = 15m
    };
}

public static class GrantDiscountEndpoint
{
    public static ProblemDetails Validate(GrantDiscount command)
    {
        var problems = new ValidationProblems();
        if (command.DiscountId == Guid.Empty) problems.Add("discountId", "is required: a client-made id that makes the discount idempotent");
        problems.RequireText("reason", command.Reason, 500);
        var basis = ApiEnum.Parse<DiscountBasis>(problems, "basis", command.Basis);
        if (basis == DiscountBasis.CashPrice) problems.Add("basis", "cash-price discounts are granted automatically from the fee schedule");
        if (basis == DiscountBasis.SlidingScale)
        {
            if (command.IncomeBand is null || !SlidingScale.Bands.ContainsKey(command.IncomeBand))
                problems.Add("incomeBand", $"must be one of {string.Join(", ", SlidingScale.Bands.Keys)}");
        }
        else
        {
            var kind = ApiEnum.Parse<DiscountKind>(problems, "kind", command.Kind);
            if (kind == DiscountKind.Percentage && (command.Value is not { } pct || pct <= 0 || pct > 100 || decimal.Round(pct, 2) != pct))
                problems.Add("value", "must be a percentage above 0 and at most 100, with at most two decimals");
            if (kind == DiscountKind.Amount) problems.RequirePositive("value", command.Value);
        }

        if (basis == DiscountBasis.PerSession && command.SessionId is null) problems.Add("sessionId", "is required for a per-session discount");
        if (basis == DiscountBasis.SeriesPackage && command.SeriesId is null) problems.Add("seriesId", "is required for a series-package discount");
        if (basis == DiscountBasis.SlidingScale && command.SessionId is null == command.SeriesId is null)
            problems.Add("sessionId", "a sliding-scale discount needs exactly one of sessionId or seriesId");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// A percentage is taken of the patient's share of the session (or of every live session of the series): what
    /// the patient owes or has paid on its lines, after earlier discounts. It is rounded to the cent and spread
    /// over the lines in proportion to that share. Where a line was already paid, the paid part the discount
    /// covers goes back to the payment as credit first (PaymentUnapplied), so prepaying never costs a discount.
    /// </summary>
    public static Outcome Decide(PatientAccount account, GrantDiscount command, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        var basis = ApiEnum.Parse<DiscountBasis>(problems, "basis", command.Basis)!.Value;
        var kind = basis == DiscountBasis.SlidingScale ? DiscountKind.Percentage : ApiEnum.Parse<DiscountKind>(problems, "kind", command.Kind)!.Value;
        var value = basis == DiscountBasis.SlidingScale ? SlidingScale.Bands[command.IncomeBand!] : command.Value!.Value;
        var fingerprint = Fingerprint.Of(command);
        if (account.Discounts.FirstOrDefault(d => d.DiscountId == command.DiscountId) is { } existing)
        {
            return existing.Fingerprint == fingerprint
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"discount {command.DiscountId} was already granted with other content");
        }

        List<AccountSession> sessions;
        if (command.SessionId is { } sessionId)
        {
            var session = account.Session(sessionId);
            if (session is null) problems.Add("sessionId", "is not a session of this patient");
            else if (session.Voided) problems.Add("sessionId", "is a voided session");
            sessions = session is null ? [] : [session];
        }
        else
        {
            if (account.Series.All(s => s.SeriesId != command.SeriesId)) problems.Add("seriesId", "is not a treatment series of this patient");
            sessions = account.Sessions.Where(s => s.SeriesId == command.SeriesId && !s.Voided).ToList();
        }

        // The patient's share: what they still owe the clinic and what their payments paid. Not what a collection agency holds
        // or collected (the agency's money is not the clinic's to give back as credit).
        var paidByPayments = account.Payments.Where(p => !p.Reversed).SelectMany(p => p.Applied)
            .GroupBy(a => (a.SessionId, a.LineNumber)).ToDictionary(g => g.Key, g => g.Sum(a => a.Amount));
        var shares = sessions.SelectMany(s => s.Lines.Select(l => (l, Share: l.Open.Patient + paidByPayments.GetValueOrDefault((s.SessionId, l.LineNumber)))))
            .ToDictionary(x => x.l, x => x.Share);
        decimal Share(AccountLine l) => shares[l];
        var lines = sessions.SelectMany(s => s.Lines.OrderBy(l => l.LineNumber).Select(l => (s, l))).Where(x => Share(x.l) > 0).ToList();
        var share = lines.Sum(x => Share(x.l));
        if (!problems.Any && share == 0) problems.Add(command.SessionId is null ? "seriesId" : "sessionId", "has no patient share to discount");
        if (problems.Any) return Outcome.Reject(problems);

        var total = kind == DiscountKind.Percentage ? Money.Round(share * value / 100m) : Math.Min(value, share);
        var allocations = LineAllocation.Prorate(lines, total, Share);
        var events = new List<object>();
        foreach (var allocation in allocations)
        {
            var (session, line) = lines.First(x => x.s.SessionId == allocation.SessionId && x.l.LineNumber == allocation.LineNumber);
            var paidPart = allocation.Amount - line.Open.Patient;
            // Take the covered paid part back from the most recent payments on that line.
            decimal OnLine(AccountPayment p) =>
                p.Applied.Where(a => a.SessionId == session.SessionId && a.LineNumber == line.LineNumber).Sum(a => a.Amount);
            foreach (var (payment, back) in Allocation.FillInOrder(Enumerable.Reverse(account.Payments).Where(p => !p.Reversed), paidPart, OnLine))
            {
                events.Add(new PaymentUnapplied(account.Id, payment.PaymentId, [new LineAmount(session.SessionId, line.LineNumber, back)], back,
                    "discount granted after payment", now));
            }
        }

        var granted = new DiscountGranted(account.Id, command.DiscountId, basis, kind, value,
            basis == DiscountBasis.SlidingScale ? command.IncomeBand : null, command.Reason!.Trim(), allocations, allocations.Sum(a => a.Amount), now, fingerprint);
        events.Add(granted);
        return Outcome.Created($"/api/patients/{account.Id}/discounts/{command.DiscountId}", granted).Append(account.Id, events);
    }

    [WolverinePost("/api/patients/{patientId}/discounts"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        GrantDiscount command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, TimeProvider clock)
    {
        var outcome = Decide(account, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
