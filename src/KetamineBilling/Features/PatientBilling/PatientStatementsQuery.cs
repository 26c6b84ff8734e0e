using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.PatientBilling;

/// <summary>A statement a patient was sent: its run, period, amount, how it went and where its notice stands.</summary>
public sealed record PatientStatementView(
    Guid StatementId, Guid RunId, DateOnly IssuedOn, DateOnly From, DateOnly To, decimal AmountDue, StatementDelivery Delivery, NoticeState Notice,
    DateTimeOffset? NoticeAt, string? NoticeError);

public static class PatientStatementsQuery
{
    /// <summary>The statements the patient was sent, newest first, paged (pageSize 1-200, default 25): what billing answers "when did you send me one?" from.</summary>
    [PhiRead("statements")]
    [WolverineGet("/api/patients/{patientId}/statements"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Statements")]
    public static async Task<IResult> Get(Guid patientId, int? page, int? pageSize, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<PatientAccount>(patientId, ct) is null) return Problems.NotFound($"patient {patientId} does not exist");
        var issued = (await session.LoadAsync<PatientStatements>(patientId, ct))?.Statements ?? [];
        var runs = issued.Count == 0
            ? new Dictionary<Guid, StatementRun>()
            : (await session.LoadManyAsync<StatementRun>(ct, issued.Select(s => s.RunId).Distinct().ToArray())).ToDictionary(r => r.Id);
        var views = issued.OrderByDescending(s => s.IssuedOn).ThenByDescending(s => s.To)
            .Select(s => runs.GetValueOrDefault(s.RunId)?.Statement(s.StatementId) is { } sent
                ? new PatientStatementView(s.StatementId, s.RunId, s.IssuedOn, s.From, s.To, s.AmountDue, s.Delivery, sent.Notice, sent.NoticeAt, sent.NoticeError)
                : new PatientStatementView(s.StatementId, s.RunId, s.IssuedOn, s.From, s.To, s.AmountDue, s.Delivery,
                    s.Delivery == StatementDelivery.Post ? NoticeState.Post : NoticeState.Pending, null, null))
            .ToList();
        return Results.Ok(AccountPage<PatientStatementView>.Of(views, page, pageSize));
    }
}
