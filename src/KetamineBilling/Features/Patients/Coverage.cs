using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Patients;

/// <summary>The patient's coverages with how each came to be (recorded, changed, ended), and their copay-assistance programs.</summary>
/// <param name="Coverages">Every coverage period, as claims read them (a change ends one period and starts another).</param>
/// <param name="PaidThisYear">What each payer with an annual maximum (a copay-assistance program, a plan with one) has paid on
/// this calendar year's sessions, by payer id.</param>
public sealed record CoverageHistory(
    IReadOnlyList<CoverageRecorded> Coverages, IReadOnlyList<CoverageChanged> Changes, IReadOnlyList<CoverageEnded> Ends,
    IReadOnlyList<CopayAssistanceRecorded> CopayAssistance, IReadOnlyDictionary<Guid, decimal>? PaidThisYear = null);

public static class CoverageQueries
{
    [PhiRead("coverages")]
    [WolverineGet("/api/patients/{patientId}/coverage-history"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> History(Guid patientId, IQuerySession session, ClinicCalendar calendar, CancellationToken ct) =>
        await session.LoadAsync<PatientAccount>(patientId, ct) is { } account
            ? Results.Ok(new CoverageHistory(account.Coverages, account.CoverageChanges, account.CoverageEnds, account.CopayAssistance,
                account.CopayAssistance.Select(p => p.PayerId).Concat(account.Coverages.Where(c => c.AnnualMaximum is not null).Select(c => (Guid?)c.PayerId))
                    .OfType<Guid>().Distinct().ToDictionary(p => p, p => account.PaidByPayer(p, calendar.Today().Year))))
            : Problems.NotFound($"patient {patientId} does not exist");

    [PhiRead("coverages")]
    [WolverineGet("/api/patients/{patientId}/coverages"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(Guid patientId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<PatientAccount>(patientId, ct) is { } account
            ? Results.Ok(account.Coverages)
            : Problems.NotFound($"patient {patientId} does not exist");
}
