using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Claims;

/// <summary>One state change of a claim: when (the event's timestamp), what it did, the status after it, and who made it.</summary>
/// <param name="By">The user's display name, "system" for a system job, "unknown" for an event recorded without a user (<see cref="EventActors"/>).</param>
public sealed record ClaimHistoryItem(long Version, DateTimeOffset At, string Status, string What, string By);

public static class ClaimHistoryEndpoint
{
    /// <summary>The claim's events, oldest first, each as the claim's own history words it, with its user.</summary>
    public static IReadOnlyList<ClaimHistoryItem> Of(IReadOnlyList<JasperFx.Events.IEvent> events, ActorNames names)
    {
        Claim? claim = null;
        var items = new List<ClaimHistoryItem>();
        foreach (var e in events)
        {
            if (claim is null)
            {
                if (e.Data is not ClaimFiled filed) continue;
                claim = Claim.Create(filed);
            }
            else claim.Fold(e.Data);

            var last = claim.History[^1];
            items.Add(new ClaimHistoryItem(e.Version, e.Timestamp, ApiEnum.Name(claim.Status), last.What, names.Of(e)));
        }

        return items;
    }

    [PhiRead("claim-history", Subject = PhiSubject.Claim)]
    [WolverineGet("/api/claims/{claimId}/history"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Get(Guid claimId, IQuerySession session, IGlobalStore accounts, CancellationToken ct)
    {
        var events = await session.Events.FetchStreamAsync(claimId, token: ct);
        if (events.Count == 0) return Outcome.NotFound($"claim {claimId} does not exist").ToResult();
        var names = await EventActors.NamesAsync(accounts, events, ct);
        return Results.Ok(Of(events, names));
    }
}
