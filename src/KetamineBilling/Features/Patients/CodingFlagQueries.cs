using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Patients;

/// <summary>A session's coding flags for the payer its claim would go to (the primary coverage active on its date).</summary>
public sealed record SessionCodingFlags(Guid SessionId, DateOnly DeliveredOn, Guid PayerId, string Payer, IReadOnlyList<CodingFlag> Flags);

public static class CodingFlagQueries
{
    public static IReadOnlyList<SessionCodingFlags> For(PatientAccount account, Func<Guid, Payer?> payerOf) =>
        account.Sessions.Where(s => !s.Voided && s.NoShow is null && s.Funding.Contains(FundingSource.Insurance))
            .Select(s => (Session: s, Coverage: account.InsuranceOn(s.DeliveredOn).FirstOrDefault()))
            .Where(x => x.Coverage is not null && payerOf(x.Coverage.PayerId) is not null)
            .Select(x =>
            {
                var payer = payerOf(x.Coverage!.PayerId)!;
                return new SessionCodingFlags(x.Session.SessionId, x.Session.DeliveredOn, payer.Id, payer.Name, SpravatoCoding.Check(account, x.Session, payer.Kind, x.Coverage.DrugBenefit));
            })
            .Where(x => x.Flags.Count > 0).OrderByDescending(x => x.DeliveredOn).ToList();

    /// <summary>The patient's insured sessions that break a coding rule for their payer (Spravato's, by payer type and drug benefit path), newest first.</summary>
    [PhiRead("coding-flags")]
    [WolverineGet("/api/patients/{patientId}/coding-flags"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(Guid patientId, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<PatientAccount>(patientId, ct) is not { } account) return Problems.NotFound($"patient {patientId} does not exist");
        var payers = (await session.Query<Payer>().ToListAsync(ct)).ToDictionary(p => p.Id);
        return Results.Ok(For(account, payers.GetValueOrDefault));
    }
}
