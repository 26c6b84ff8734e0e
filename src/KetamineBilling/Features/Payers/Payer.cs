using System.Text.Json.Serialization;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Payers;

public enum PayerKind
{
    [JsonStringEnumMemberName("commercial")] Commercial,
    [JsonStringEnumMemberName("medicare")] Medicare,
    [JsonStringEnumMemberName("medicaid")] Medicaid,
    [JsonStringEnumMemberName("tricare-va")] TricareVa,
    [JsonStringEnumMemberName("copay-assistance")] CopayAssistance,
    [JsonStringEnumMemberName("other")] Other
}

public enum NetworkStatus
{
    [JsonStringEnumMemberName("in-network")] InNetwork,
    [JsonStringEnumMemberName("out-of-network")] OutOfNetwork
}

/// <summary>
/// An insurer (or a manufacturer's copay-assistance program) the clinic bills. Reference data, changed in
/// place: claims copy what they need when they are filed.
/// </summary>
public sealed class Payer
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";

    /// <summary>The payer's X12 id (NM109 of the payer loop in an 837, N104 in an 835).</summary>
    public string PayerId { get; set; } = "";

    public PayerKind Kind { get; set; }
    public NetworkStatus NetworkStatus { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The clinic's contracted allowed amount per unit, by code, when it has a contract with the payer: what estimates use first.</summary>
    public Dictionary<string, decimal> ContractedRates { get; set; } = [];
}

public static class PayerQueries
{
    [WolverineGet("/api/payers"), Authorize(Policy = Policies.Staff)]
    [Tags("Payers")]
    public static async Task<IReadOnlyList<Payer>> Get(IQuerySession session, CancellationToken ct) =>
        await session.Query<Payer>().OrderBy(p => p.Name).ToListAsync(ct);

    [WolverineGet("/api/payers/{id}"), Authorize(Policy = Policies.Staff)]
    [Tags("Payers")]
    public static async Task<IResult> GetOne(Guid id, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Payer>(id, ct) is { } payer ? Results.Ok(payer) : Outcome.NotFound($"payer {id} does not exist").ToResult();
}
