using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Payers;

/// <summary>A payer as it reads from now on: its name, X12 id, kind and network (the whole set).</summary>
public record ChangePayer(string? Name, string? PayerId, string? Kind, string? NetworkStatus);

public static class ChangePayerEndpoint
{
    /// <summary>The same rules as adding a payer.</summary>
    public static ProblemDetails Validate(ChangePayer command) =>
        CreatePayerEndpoint.Validate(new CreatePayer(command.Name, command.PayerId, command.Kind, command.NetworkStatus));

    /// <summary>The payer to change and another payer that has the command's X12 id already, if any.</summary>
    public sealed record Loaded(Payer? Payer, Payer? Holder);

    public static async Task<Loaded> LoadAsync(Guid id, ChangePayer command, IQuerySession session, CancellationToken ct) =>
        new(await session.LoadAsync<Payer>(id, ct), await session.Query<Payer>().FirstOrDefaultAsync(p => p.PayerId == command.PayerId && p.Id != id, ct));

    /// <summary>
    /// The payer changed in place (reference data: claims filed before keep what they copied when they were filed). The
    /// same values again change nothing; an X12 id another payer has is a 409, as it would make 835s ambiguous.
    /// </summary>
    /// <param name="payer">The payer to change, if it exists.</param>
    /// <param name="holder">Another payer that has the command's X12 id already, if any.</param>
    public static Outcome Decide(Guid id, Payer? payer, Payer? holder, ChangePayer command)
    {
        if (payer is null) return Outcome.NotFound($"payer {id} does not exist");
        if (holder is not null) return Outcome.Conflict($"payer id {command.PayerId} belongs to {holder.Name} already");
        var problems = new ValidationProblems();
        var kind = ApiEnum.Parse<PayerKind>(problems, "kind", command.Kind)!.Value;
        var network = ApiEnum.Parse<NetworkStatus>(problems, "networkStatus", command.NetworkStatus, required: false) ?? NetworkStatus.InNetwork;
        var changed = new Payer
        {
            Id = payer.Id, Name = command.Name!.Trim(), PayerId = command.PayerId!, Kind = kind, NetworkStatus = network, CreatedAt = payer.CreatedAt,
            ContractedRates = payer.ContractedRates
        };
        return changed.Name == payer.Name && changed.PayerId == payer.PayerId && changed.Kind == payer.Kind && changed.NetworkStatus == payer.NetworkStatus
            ? Outcome.Replay(payer)
            : Outcome.Ok(changed);
    }

    [WolverinePut("/api/payers/{id}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Payers")]
    public static IResult Put(Guid id, ChangePayer command, Loaded loaded, IDocumentSession session)
    {
        var outcome = Decide(id, loaded.Payer, loaded.Holder, command);
        if (outcome is Outcome.Accepted { Answer: Payer changed }) session.Store(changed);
        return outcome.ToResult();
    }
}
