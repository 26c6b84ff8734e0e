using JasperFx.Events;
using KetamineBilling.Features.Auth;
using Marten;
using Marten.Events;

namespace KetamineBilling.Infrastructure;

/// <summary>
/// Who made an event, as a screen shows it (issue 15): the user id an event carries in its
/// <see cref="AuditMiddleware.UserIdHeader"/> header, resolved to the account's display name. The one place every "who did
/// it" column (the patient ledger, a claim's history, employer invoices, bank deposits) reads it from.
/// An event without the header (appended before headers were written) shows <see cref="Unknown"/>; one a system job or
/// the demo seed appended ("system:..."), <see cref="System"/>; a user id no account has any more, <see cref="UnknownUser"/>.
/// </summary>
public static class EventActors
{
    public const string Unknown = "unknown";
    public const string System = "system";
    public const string UnknownUser = "unknown user";

    /// <summary>The user id the event was stamped with, or null when it carries none.</summary>
    public static string? UserIdOf(IEvent e) =>
        e.Headers is { } headers && headers.TryGetValue(AuditMiddleware.UserIdHeader, out var value) && value?.ToString() is { Length: > 0 } id ? id : null;

    /// <summary>The display names of the accounts behind these user ids, loaded in one query (accounts are the platform's: the global store).</summary>
    public static async Task<ActorNames> NamesAsync(IGlobalStore accounts, IEnumerable<string?> userIds, CancellationToken ct)
    {
        var ids = userIds.Select(id => Guid.TryParse(id, out var guid) ? guid : (Guid?)null).OfType<Guid>().Distinct().ToArray();
        if (ids.Length == 0) return new ActorNames(new Dictionary<Guid, string>());
        await using var session = accounts.QuerySession();
        var found = await session.LoadManyAsync<UserAccount>(ct, ids);
        return new ActorNames(found.ToDictionary(a => a.Id, a => a.DisplayName));
    }

    /// <summary>
    /// The events of these types on these streams, oldest first, with who made each: one query for the events and one for
    /// the names, whatever the number of streams (a page of deposits, an employer's invoices).
    /// </summary>
    public static async Task<IReadOnlyList<(IEvent Event, Actor Actor)>> OfStreamsAsync(
        IQuerySession session, IGlobalStore accounts, IReadOnlyCollection<Guid> streamIds, Type[] eventTypes, CancellationToken ct)
    {
        if (streamIds.Count == 0) return [];
        var ids = streamIds.Distinct().ToArray();
        var events = await session.Events.QueryAllRawEvents()
            .Where(e => ids.Contains(e.StreamId) && e.EventTypesAre(eventTypes))
            .OrderBy(e => e.Sequence).ToListAsync(ct);
        var names = await NamesAsync(accounts, events, ct);
        return events.Select(e => (e, Actor.Of(e, names))).ToList();
    }

    /// <summary>The display names of the users who made these events.</summary>
    public static Task<ActorNames> NamesAsync(IGlobalStore accounts, IEnumerable<IEvent> events, CancellationToken ct) =>
        NamesAsync(accounts, events.Select(UserIdOf), ct);
}

/// <summary>User id to display name, for the ids one screen shows.</summary>
public sealed class ActorNames(IReadOnlyDictionary<Guid, string> names)
{
    public string Name(string? userId) => userId switch
    {
        null or "" => EventActors.Unknown,
        _ when userId.StartsWith("system", StringComparison.Ordinal) => EventActors.System,
        _ when Guid.TryParse(userId, out var id) => names.TryGetValue(id, out var name) && name.Length > 0 ? name : EventActors.UnknownUser,
        _ => EventActors.Unknown
    };

    public string Of(IEvent e) => Name(EventActors.UserIdOf(e));
}

/// <summary>Who did something and when (the event's user and timestamp), as read models answer it.</summary>
/// <param name="By">The display name (or "system" / "unknown").</param>
public sealed record Actor(string By, DateTimeOffset At)
{
    public static Actor Of(IEvent e, ActorNames names) => new(names.Of(e), e.Timestamp);
}
