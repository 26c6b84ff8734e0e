using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Eligibility;

/// <summary>A coverage with its latest eligibility answer (stale when older than 30 days) and the answers before it, newest first.</summary>
/// <param name="Benefits">The coverage's limits and drug benefit path, with what its payer used of this calendar year.</param>
public sealed record CoverageEligibility(
    CoverageRecorded Coverage, string Payer, EligibilityChecked? Latest, bool Stale, IReadOnlyList<EligibilityChecked> Earlier, CoverageBenefits Benefits);

/// <summary>A visit on the schedule with where it stands on eligibility (<see cref="VisitEligibility"/>).</summary>
/// <param name="Attended">A session was delivered on its day.</param>
public sealed record VisitRow(
    Guid VisitId, Guid PatientId, string Patient, DateOnly On, string? Time, string Purpose, bool Cancelled, string? CancelReason, bool Attended, string Status,
    string Detail, Guid? CoverageId, string? Payer, DateOnly? CheckedOn);

/// <param name="Visits">Visits from 30 days ago on, soonest first.</param>
public sealed record PatientEligibility(IReadOnlyList<CoverageEligibility> Coverages, IReadOnlyList<VisitRow> Visits);

/// <param name="NeedAttention">Insured visits not cancelled without a current, active answer.</param>
public sealed record DayVisits(DateOnly On, IReadOnlyList<VisitRow> Visits, int NeedAttention);

public static class EligibilityQueries
{
    public static VisitRow Row(PatientAccount account, ScheduledVisit visit, Func<Guid, string> payerName)
    {
        var eligibility = EligibilityOnAccount.ForVisit(account, visit);
        return new VisitRow(visit.VisitId, account.Id, account.Name, visit.On, visit.Time, visit.Purpose, visit.Cancelled, visit.CancelReason,
            EligibilityOnAccount.Attended(account, visit), eligibility.Status, eligibility.Detail, eligibility.Coverage?.CoverageId,
            eligibility.Coverage is { } c ? payerName(c.PayerId) : null, eligibility.Latest?.CheckedOn);
    }

    public static PatientEligibility For(PatientAccount account, DateOnly today, Func<Guid, string> payerName) =>
        new(account.Coverages.OrderByDescending(c => c.ActiveOn(today)).ThenBy(c => c.Priority).ThenByDescending(c => c.ActiveFrom)
                .Select(c =>
                {
                    var answers = account.EligibilityChecks.Where(e => e.CoverageId == c.CoverageId).OrderByDescending(e => e.CheckedOn).ThenByDescending(e => e.RecordedAt).ToList();
                    var latest = answers.FirstOrDefault();
                    return new CoverageEligibility(c, payerName(c.PayerId), latest, latest is not null && EligibilityOnAccount.Stale(latest, today), answers.Skip(1).ToList(),
                        CoverageBenefits.Of(account, c, today.Year));
                }).ToList(),
            account.Visits.Where(v => v.On >= today.AddDays(-EligibilityOnAccount.CurrentDays)).OrderBy(v => v.On).ThenBy(v => v.Time)
                .Select(v => Row(account, v, payerName)).ToList());

    /// <summary>The patient's coverages with their eligibility answers, and their visits from 30 days ago on with where each stands.</summary>
    [PhiRead("eligibility")]
    [WolverineGet("/api/patients/{patientId}/eligibility"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Eligibility")]
    public static async Task<IResult> Get(Guid patientId, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        if (await session.LoadAsync<PatientAccount>(patientId, ct) is not { } account) return Problems.NotFound($"patient {patientId} does not exist");
        var payers = (await session.Query<Payer>().ToListAsync(ct)).ToDictionary(p => p.Id, p => p.Name);
        return Results.Ok(For(account, calendar.Today(), id => payers.GetValueOrDefault(id, "Unknown payer")));
    }

    /// <summary>
    /// The visits of a day (default tomorrow) across patients, by time, with where each stands on eligibility: the list the
    /// front desk works through the day before. Cancelled visits are left out.
    /// </summary>
    [PhiRead("visits", Subject = PhiSubject.Search)]
    [WolverineGet("/api/visits"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Eligibility")]
    public static async Task<IResult> Day(DateOnly? on, IQuerySession session, ClinicCalendar calendar, CancellationToken ct)
    {
        var day = on ?? calendar.Today().AddDays(1);
        var visits = await session.Query<VisitDay>().Where(v => v.On == day).ToListAsync(ct);
        var accounts = visits.Count == 0 ? [] : (await session.LoadManyAsync<PatientAccount>(ct, visits.Select(v => v.PatientId).Distinct().ToArray())).ToDictionary(a => a.Id);
        var payers = (await session.Query<Payer>().ToListAsync(ct)).ToDictionary(p => p.Id, p => p.Name);
        var rows = visits.Where(v => accounts.ContainsKey(v.PatientId))
            .Select(v => (Account: accounts[v.PatientId], Visit: accounts[v.PatientId].Visits.FirstOrDefault(x => x.VisitId == v.Id)))
            .Where(x => x.Visit is { Cancelled: false })
            .Select(x => Row(x.Account, x.Visit!, id => payers.GetValueOrDefault(id, "Unknown payer")))
            .OrderBy(r => r.Time ?? "99:99").ThenBy(r => r.Patient, StringComparer.OrdinalIgnoreCase).ToList();
        return Results.Ok(new DayVisits(day, rows, rows.Count(r => !r.Attended && r.Status is "none" or "stale" or "inactive" or "rejected")));
    }
}
