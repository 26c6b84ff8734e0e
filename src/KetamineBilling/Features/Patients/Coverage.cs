using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Patients;

public static class CoverageQueries
{
    [PhiRead("coverages")]
    [WolverineGet("/api/patients/{patientId}/coverages"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(Guid patientId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<PatientAccount>(patientId, ct) is { } account
            ? Results.Ok(account.Coverages)
            : Problems.NotFound($"patient {patientId} does not exist");
}
