using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
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
}

public record CreatePayer(string? Name, string? PayerId, string? Kind, string? NetworkStatus);

public record PayerCreated(Guid Id) : CreationResponse($"/api/payers/{Id}");

public static partial class CreatePayerEndpoint
{
    // X12 identifiers: letters, digits and a few separators-safe characters, 2 to 80 long (NM109).
    [GeneratedRegex("^[A-Za-z0-9-]{2,80}$")]
    private static partial Regex X12Id();

    public static ProblemDetails Validate(CreatePayer command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("name", command.Name, 60);
        problems.Check("name", command.Name);
        if (command.PayerId is null || !X12Id().IsMatch(command.PayerId)) problems.Add("payerId", "must be the payer's X12 id: 2-80 letters, digits or dashes");
        ApiEnum.Parse<PayerKind>(problems, "kind", command.Kind);
        ApiEnum.Parse<NetworkStatus>(problems, "networkStatus", command.NetworkStatus, required: false);
        return problems.ToProblemDetails();
    }

    public static async Task<Payer?> LoadAsync(CreatePayer command, IQuerySession session, CancellationToken ct) =>
        await session.Query<Payer>().FirstOrDefaultAsync(p => p.PayerId == command.PayerId, ct);

    /// <summary>The X12 payer id is the natural key: the same payer again is a 200, another name under it a 409.</summary>
    [WolverinePost("/api/payers"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Payers")]
    public static IResult Post(CreatePayer command, Payer? existing, IDocumentSession session, TimeProvider clock)
    {
        var problems = new ValidationProblems();
        var kind = ApiEnum.Parse<PayerKind>(problems, "kind", command.Kind)!.Value;
        var network = ApiEnum.Parse<NetworkStatus>(problems, "networkStatus", command.NetworkStatus, required: false) ?? NetworkStatus.InNetwork;
        if (existing is not null)
        {
            return existing.Name == command.Name!.Trim() && existing.Kind == kind && existing.NetworkStatus == network
                ? Results.Ok(new PayerCreated(existing.Id))
                : Problems.Conflict($"payer id {command.PayerId} belongs to {existing.Name} already");
        }

        var payer = new Payer
        {
            Id = Guid.CreateVersion7(), Name = command.Name!.Trim(), PayerId = command.PayerId!, Kind = kind, NetworkStatus = network,
            CreatedAt = clock.GetUtcNow()
        };
        session.Insert(payer);
        return Results.Created($"/api/payers/{payer.Id}", new PayerCreated(payer.Id));
    }
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
        await session.LoadAsync<Payer>(id, ct) is { } payer ? Results.Ok(payer) : Problems.NotFound($"payer {id} does not exist");
}

public static class PayersModule
{
    public static void AddPayers(this WebApplicationBuilder builder) =>
        builder.Services.ConfigureMarten(opts => opts.Schema.For<Payer>().UniqueIndex(p => p.PayerId));
}
