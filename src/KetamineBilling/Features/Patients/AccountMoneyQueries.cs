using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Patients;

/// <summary>One page of a list read from the patient's account, with the count of every item.</summary>
public sealed record AccountPage<T>(IReadOnlyList<T> Items, long TotalCount, int Page, int PageSize)
{
    public const int MaxPageSize = 200;

    public static AccountPage<T> Of(IReadOnlyList<T> all, int? page, int? pageSize)
    {
        var number = Math.Max(page ?? 1, 1);
        var size = Math.Clamp(pageSize ?? 25, 1, MaxPageSize);
        return new AccountPage<T>(all.Skip((number - 1) * size).Take(size).ToList(), all.Count, number, size);
    }
}

/// <summary>A patient payment as the account holds it: what it paid, what is credit, refunded, and whether it was reversed.</summary>
/// <param name="Applied">Applied to charges now (a void, a discount or a reversal takes applications back).</param>
/// <param name="Sessions">The dates of service it pays now.</param>
public sealed record PaymentView(
    Guid PaymentId, PaymentMethod Method, decimal Amount, DateOnly ReceivedOn, string? Reference, decimal Applied, decimal Unapplied, decimal Refunded,
    bool Reversed, IReadOnlyList<DateOnly> Sessions, DateTimeOffset RecordedAt);

/// <summary>A discount on the account, the automatic cash-price ones included.</summary>
public sealed record DiscountView(
    Guid DiscountId, DiscountBasis Basis, DiscountKind Kind, decimal Value, string? IncomeBand, string Reason, decimal Total,
    IReadOnlyList<DateOnly> Sessions, DateTimeOffset GrantedAt);

/// <summary>An FSA/HSA payment's money on the dates of service a letter covers.</summary>
public sealed record LetterPayment(Guid PaymentId, PaymentMethod Method, DateOnly ReceivedOn, decimal Amount, IReadOnlyList<DateOnly> DatesOfService);

/// <param name="Status">valid (today is within its dates), expired or not-yet-valid.</param>
/// <param name="Covers">The FSA/HSA payments (not reversed) applied to sessions whose date of service the letter's dates include.</param>
public sealed record LetterView(
    Guid LetterId, string Condition, string Treatment, string Frequency, DateOnly ValidFrom, DateOnly ValidTo, string ProviderId, string Status,
    IReadOnlyList<LetterPayment> Covers, DateTimeOffset RecordedAt);

public sealed record ReimbursementView(
    Guid ReimbursementId, Guid PayerId, decimal Amount, DateOnly ReceivedOn, IReadOnlyList<Guid> SessionIds, IReadOnlyList<DateOnly> DatesOfService,
    DateTimeOffset ReportedAt);

public static class AccountMoneyViews
{
    public static IReadOnlyList<PaymentView> Payments(PatientAccount account) =>
        account.Payments
            .OrderByDescending(p => p.ReceivedOn).ThenByDescending(p => p.Received.RecordedAt)
            .Select(p => new PaymentView(p.PaymentId, p.Method, p.Amount, p.ReceivedOn, p.Reference, p.Applied.Sum(a => a.Amount), p.Unapplied, p.Refunded,
                p.Reversed, Dates(account, p.Applied.Select(a => a.SessionId)), p.Received.RecordedAt))
            .ToList();

    public static IReadOnlyList<DiscountView> Discounts(PatientAccount account) =>
        account.Discounts
            .OrderByDescending(d => d.GrantedAt)
            .Select(d => new DiscountView(d.DiscountId, d.Basis, d.Kind, d.Value, d.IncomeBand, d.Reason, d.Total,
                Dates(account, d.Allocations.Select(a => a.SessionId)), d.GrantedAt))
            .ToList();

    public static IReadOnlyList<LetterView> Letters(PatientAccount account, DateOnly today) =>
        account.Letters
            .OrderByDescending(l => l.ValidTo).ThenByDescending(l => l.RecordedAt)
            .Select(l => new LetterView(l.LetterId, l.Condition, l.Treatment, l.Frequency, l.ValidFrom, l.ValidTo, l.ProviderId,
                today < l.ValidFrom ? "not-yet-valid" : today > l.ValidTo ? "expired" : "valid", Covered(account, l), l.RecordedAt))
            .ToList();

    public static IReadOnlyList<ReimbursementView> Reimbursements(PatientAccount account) =>
        account.OutOfNetworkReimbursements
            .OrderByDescending(r => r.ReceivedOn).ThenByDescending(r => r.ReportedAt)
            .Select(r => new ReimbursementView(r.ReimbursementId, r.PayerId, r.Amount, r.ReceivedOn, r.SessionIds, Dates(account, r.SessionIds), r.ReportedAt))
            .ToList();

    private static List<LetterPayment> Covered(PatientAccount account, LetterOfMedicalNecessityRecorded letter)
    {
        var covers = new List<LetterPayment>();
        foreach (var payment in account.Payments.Where(p => p.Method is PaymentMethod.Fsa or PaymentMethod.Hsa && !p.Reversed).OrderBy(p => p.ReceivedOn))
        {
            var onLetter = payment.Applied
                .Select(a => (a.Amount, Session: account.Session(a.SessionId)))
                .Where(x => x.Session is { } s && letter.ValidFrom <= s.DeliveredOn && s.DeliveredOn <= letter.ValidTo)
                .ToList();
            if (onLetter.Count == 0) continue;
            covers.Add(new LetterPayment(payment.PaymentId, payment.Method, payment.ReceivedOn, onLetter.Sum(x => x.Amount),
                onLetter.Select(x => x.Session!.DeliveredOn).Distinct().Order().ToList()));
        }

        return covers;
    }

    private static List<DateOnly> Dates(PatientAccount account, IEnumerable<Guid> sessionIds) =>
        sessionIds.Distinct().Select(account.Session).OfType<AccountSession>().Select(s => s.DeliveredOn).Distinct().Order().ToList();
}

public static class AccountMoneyQueries
{
    private static async Task<IResult> ReadAsync(Guid patientId, IQuerySession session, CancellationToken ct, Func<PatientAccount, object> view)
    {
        var account = await session.LoadAsync<PatientAccount>(patientId, ct);
        return account is null ? Problems.NotFound($"patient {patientId} does not exist") : Results.Ok(view(account));
    }

    /// <summary>The patient's payments, newest first, paged (pageSize 1-200, default 25).</summary>
    [PhiRead("payments")]
    [WolverineGet("/api/patients/{patientId}/payments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static Task<IResult> Payments(Guid patientId, int? page, int? pageSize, IQuerySession session, CancellationToken ct) =>
        ReadAsync(patientId, session, ct, a => AccountPage<PaymentView>.Of(AccountMoneyViews.Payments(a), page, pageSize));

    /// <summary>The discounts granted on the account (cash-price ones included), newest first, paged.</summary>
    [PhiRead("discounts")]
    [WolverineGet("/api/patients/{patientId}/discounts"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static Task<IResult> Discounts(Guid patientId, int? page, int? pageSize, IQuerySession session, CancellationToken ct) =>
        ReadAsync(patientId, session, ct, a => AccountPage<DiscountView>.Of(AccountMoneyViews.Discounts(a), page, pageSize));

    /// <summary>The letters of medical necessity, latest validity first, with their validity today and the FSA/HSA payments they cover; paged.</summary>
    [PhiRead("medical-necessity-letters")]
    [WolverineGet("/api/patients/{patientId}/medical-necessity-letters"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static Task<IResult> Letters(Guid patientId, int? page, int? pageSize, IQuerySession session, ClinicCalendar calendar, CancellationToken ct) =>
        ReadAsync(patientId, session, ct, a => AccountPage<LetterView>.Of(AccountMoneyViews.Letters(a, calendar.Today()), page, pageSize));

    /// <summary>What the patient reported their out-of-network insurer reimbursed them, newest first, paged.</summary>
    [PhiRead("out-of-network-reimbursements")]
    [WolverineGet("/api/patients/{patientId}/out-of-network-reimbursements"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static Task<IResult> Reimbursements(Guid patientId, int? page, int? pageSize, IQuerySession session, CancellationToken ct) =>
        ReadAsync(patientId, session, ct, a => AccountPage<ReimbursementView>.Of(AccountMoneyViews.Reimbursements(a), page, pageSize));
}
