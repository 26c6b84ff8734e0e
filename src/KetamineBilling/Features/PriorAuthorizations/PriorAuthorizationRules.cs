using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Wolverine;
using Wolverine.Marten;

namespace KetamineBilling.Features.PriorAuthorizations;

/// <summary>requested → approved | denied; approved → extended (still approved) | expired. Anything else is a 409.</summary>
public static class PriorAuthorizationRules
{
    public static Outcome.Rejected? IllegalFrom(PriorAuthorization a, string action, params AuthorizationStatus[] allowed) =>
        allowed.Contains(a.Status) ? null : Outcome.Conflict($"an authorization that is {ApiEnum.Name(a.Status)} cannot be {action}");

    /// <summary>
    /// The answer of a change that other work follows (approve, extend): the change's event is the cause the messages name,
    /// so the sessions counted again carry its id (docs/events.md).
    /// </summary>
    public static (IResult, Events, OutgoingMessages) Answer<TChange>(Outcome outcome, Guid authorizationId) where TChange : notnull
    {
        var events = outcome.EventsFor(authorizationId);
        if (events is not [TChange change, ..]) return (outcome.ToResult(), [], []);
        var cause = FollowUps.Identified(change);
        var messages = new OutgoingMessages();
        messages.AddRange(outcome.OutgoingMessages);
        return (outcome.ToResult(), [cause, .. events.Skip(1)], messages.CausedBy(cause));
    }
}
