using KetamineBilling.Features.Employers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Studies;

public record StudyStatement(Guid StudyId, string Sponsor, string ProtocolId, string Month, decimal OpeningBalance, IReadOnlyList<CoveredStudySession> SessionsCovered,
    IReadOnlyList<SponsorPaymentReceived> Payments, decimal ClosingBalance);

public static class StudyQueries
{
    /// <summary>Every study, by sponsor and protocol.</summary>
    [WolverineGet("/api/studies"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static async Task<IReadOnlyList<Study>> List(IQuerySession session, CancellationToken ct) =>
        (await session.Query<Study>().ToListAsync(ct)).OrderBy(s => s.Sponsor, StringComparer.Ordinal).ThenBy(s => s.ProtocolId, StringComparer.Ordinal).ToList();

    [WolverineGet("/api/studies/{studyId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static async Task<IResult> Get(Guid studyId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Study>(studyId, ct) is { } s ? Results.Ok(s) : Problems.NotFound($"study {studyId} does not exist");

    /// <summary>One statement per study per month: sessions covered (by subject id), payments, balance owed.</summary>
    [WolverineGet("/api/studies/{studyId}/statements/{month}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static async Task<IResult> Statement(Guid studyId, string month, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<Study>(studyId, ct) is not { } study) return Problems.NotFound($"study {studyId} does not exist");
        if (Months.Parse(month) is not var (start, end))
        {
            return Problems.Invalid("month", "must be a month as yyyy-MM", StatusCodes.Status400BadRequest);
        }

        var opening = study.Sessions.Where(s => s.DeliveredOn < start).Sum(s => s.Amount) - study.Payments.Where(p => p.ReceivedOn < start).Sum(p => p.Amount);
        var sessions = study.Sessions.Where(s => s.DeliveredOn >= start && s.DeliveredOn <= end).ToList();
        var payments = study.Payments.Where(p => p.ReceivedOn >= start && p.ReceivedOn <= end).ToList();
        return Results.Ok(new StudyStatement(study.Id, study.Sponsor, study.ProtocolId, month, opening, sessions, payments,
            opening + sessions.Sum(s => s.Amount) - payments.Sum(p => p.Amount)));
    }
}
