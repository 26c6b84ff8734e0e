using System.Text.RegularExpressions;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Payers;

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

    /// <summary>
    /// The X12 payer id is the natural key: the same payer again answers its id, another name under it is a 409. A payer
    /// is reference data (a document, not a stream): accepted, the answer is the new payer, which the endpoint stores.
    /// </summary>
    /// <param name="existing">The payer that has the command's X12 id already, if any.</param>
    /// <param name="id">The new payer's id.</param>
    public static Outcome Decide(Payer? existing, CreatePayer command, Guid id, DateTimeOffset now)
    {
        var problems = new ValidationProblems();
        var kind = ApiEnum.Parse<PayerKind>(problems, "kind", command.Kind)!.Value;
        var network = ApiEnum.Parse<NetworkStatus>(problems, "networkStatus", command.NetworkStatus, required: false) ?? NetworkStatus.InNetwork;
        if (existing is not null)
        {
            return existing.Name == command.Name!.Trim() && existing.Kind == kind && existing.NetworkStatus == network
                ? Outcome.Replay(new PayerCreated(existing.Id))
                : Outcome.Conflict($"payer id {command.PayerId} belongs to {existing.Name} already");
        }

        var payer = new Payer { Id = id, Name = command.Name!.Trim(), PayerId = command.PayerId!, Kind = kind, NetworkStatus = network, CreatedAt = now };
        return Outcome.Created($"/api/payers/{payer.Id}", payer);
    }

    [WolverinePost("/api/payers"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Payers")]
    public static IResult Post(CreatePayer command, Payer? existing, IDocumentSession session, TimeProvider clock)
    {
        var outcome = Decide(existing, command, Guid.CreateVersion7(), clock.GetUtcNow());
        if (outcome is not Outcome.Accepted { Answer: Payer payer }) return outcome.ToResult();
        session.Insert(payer);
        return Results.Created($"/api/payers/{payer.Id}", new PayerCreated(payer.Id));
    }
}
