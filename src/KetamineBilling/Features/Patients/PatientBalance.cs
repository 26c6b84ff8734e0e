using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Aggregation;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Patients;

public sealed record BalanceSession(Guid SessionId, DateOnly DeliveredOn, IReadOnlyList<ChargeLine> Lines, decimal Charge);

/// <summary>
/// What a patient's account owes, kept inline: a charge shows here in the same transaction that records it.
/// </summary>
public sealed class PatientBalance
{
    public Guid Id { get; set; }

    public int Version { get; set; }

    public string PatientName { get; set; } = "";

    public decimal TotalCharged { get; set; }

    public List<BalanceSession> Sessions { get; set; } = [];

    public DateTimeOffset LastChangedAt { get; set; }
}

public partial class PatientBalanceProjection : SingleStreamProjection<PatientBalance, Guid>
{
    public PatientBalance Create(PatientRegistered e) => new()
    {
        Id = e.PatientId,
        PatientName = $"{e.FirstName} {e.LastName}",
        LastChangedAt = e.RegisteredAt
    };

    public void Apply(SessionDelivered e, PatientBalance balance)
    {
        balance.Sessions.Add(new BalanceSession(e.SessionId, e.DeliveredOn, e.Lines, e.TotalCharge));
        balance.Sessions.Sort((a, b) => a.DeliveredOn.CompareTo(b.DeliveredOn));
        balance.TotalCharged += e.TotalCharge;
        balance.LastChangedAt = e.RecordedAt;
    }
}

public static class GetPatientBalanceEndpoint
{
    [WolverineGet("/api/patients/{patientId}/balance"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patients")]
    public static async Task<IResult> Get(Guid patientId, IQuerySession session, CancellationToken ct)
    {
        var balance = await session.LoadAsync<PatientBalance>(patientId, ct);
        return balance is null
            ? Problems.NotFound($"patient {patientId} does not exist")
            : Results.Ok(balance);
    }
}
