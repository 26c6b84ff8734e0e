using System.Collections.Concurrent;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Clinic;

/// <summary>
/// Each clinic's time zone, as its profile names it (the configured default until it names one), kept for a minute: a
/// request asks it once, and a change made on another node is seen here within <see cref="Fresh"/>. A change made on this
/// node is seen at once (<see cref="Forget"/>).
/// </summary>
/// <remarks>The store is asked for when first needed: the store's own projections ask this (a store made with it would be a cycle).</remarks>
public sealed class ClinicZones(IServiceProvider services, ClinicCalendar calendar, TimeProvider clock)
{
    public static readonly TimeSpan Fresh = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, (TimeZoneInfo Zone, DateTimeOffset LoadedAt)> _zones = new();

    public async ValueTask<TimeZoneInfo> ZoneOfAsync(string clinic, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (_zones.TryGetValue(clinic, out var known) && now - known.LoadedAt < Fresh) return known.Zone;
        return await LoadAsync(clinic, now, ct);
    }

    private async Task<TimeZoneInfo> LoadAsync(string clinic, DateTimeOffset now, CancellationToken ct)
    {
        await using var session = services.GetRequiredService<IDocumentStore>().QuerySession(clinic);
        var state = await session.LoadAsync<ClinicProfileState>(ClinicProfileState.StreamId, ct);
        var zone = ZoneOf(state);
        _zones[clinic] = (zone, now);
        return zone;
    }

    /// <summary>
    /// The clinic's zone as this node knows it, without waiting: the kept one (a stale one is loaded again in the
    /// background), null when this node has not loaded it yet (it starts loading it). For code that must not wait, such as
    /// a Blazor circuit's events: a wait there would let a later event of the circuit overtake an earlier one.
    /// </summary>
    public TimeZoneInfo? Known(string clinic)
    {
        var found = _zones.TryGetValue(clinic, out var known);
        // One load at a time per clinic; the kept zone answers meanwhile.
        if ((!found || clock.GetUtcNow() - known.LoadedAt >= Fresh) && _refreshing.TryAdd(clinic, 0)) _ = RefreshAsync(clinic);
        return found ? known.Zone : null;
    }

    private readonly ConcurrentDictionary<string, byte> _refreshing = new();

    private async Task RefreshAsync(string clinic)
    {
        try
        {
            await LoadAsync(clinic, clock.GetUtcNow(), CancellationToken.None);
        }
        catch (Exception)
        {
            // An unknown or unreachable clinic: its requests answer for it (404, or the database's error).
        }
        finally
        {
            _refreshing.TryRemove(clinic, out _);
        }
    }

    /// <summary>The zone a recorded profile names, else the configured default.</summary>
    public TimeZoneInfo ZoneOf(ClinicProfileState? state) =>
        state?.TimeZone is { } id && ClinicCalendar.TryFindZone(id, out var zone) ? zone : calendar.DefaultZone;

    public void Forget(string clinic) => _zones.TryRemove(clinic, out _);

    /// <summary>The United States' zones, as the pages offer them.</summary>
    public static readonly IReadOnlyList<(string Id, string Label)> UnitedStates =
    [
        ("America/New_York", "Eastern (New York)"), ("America/Chicago", "Central (Chicago)"), ("America/Denver", "Mountain (Denver)"),
        ("America/Phoenix", "Mountain, no daylight saving (Phoenix)"), ("America/Los_Angeles", "Pacific (Los Angeles)"),
        ("America/Anchorage", "Alaska (Anchorage)"), ("Pacific/Honolulu", "Hawaii (Honolulu)"), ("America/Puerto_Rico", "Atlantic (Puerto Rico)")
    ];

    /// <summary>The zones a page offers: the United States', and the clinic's own when it is another (set through the API).</summary>
    public static IEnumerable<(string Id, string Label)> Choices(string? current) =>
        current is null || UnitedStates.Any(z => z.Id == current) ? UnitedStates : [.. UnitedStates, (current, current)];
}
