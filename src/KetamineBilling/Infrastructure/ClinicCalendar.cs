namespace KetamineBilling.Infrastructure;

/// <summary>
/// The clinic's own calendar: "today" and dates of service are the clinic's local dates, not UTC ones
/// (a session at 7 pm in Denver is on that day, though UTC has moved to the next).
/// </summary>
/// <remarks>
/// Each clinic has its own time zone (its profile's, ADR 0016). The zone of the clinic a piece of work acts for is set
/// where that clinic becomes known: <see cref="ClinicContextMiddleware"/> for a request (from its cookie's or token's
/// clinic), the UI's circuit handler for each event of a Blazor circuit, <see cref="Use"/> for the platform's own work (the
/// demo's seeding). With none set (a platform endpoint, a test's own calculation) it is the configured default zone.
/// </remarks>
public sealed class ClinicCalendar(TimeProvider clock, TimeZoneInfo zone)
{
    private static readonly AsyncLocal<TimeZoneInfo?> Current = new();

    /// <summary>The configuration's zone (<c>Clinic:TimeZone</c>): a clinic's until its profile names another.</summary>
    public TimeZoneInfo DefaultZone { get; } = zone;

    /// <summary>The zone of the clinic the current work acts for.</summary>
    public TimeZoneInfo Zone => Current.Value ?? DefaultZone;

    public DateOnly Today() => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), Zone).DateTime);

    /// <summary>
    /// Acts in <paramref name="clinicZone"/> from here on in this flow of work (its awaited calls included), until the
    /// returned scope is disposed. Called synchronously, so the zone stays set in the caller's own flow.
    /// </summary>
    public static IDisposable Use(TimeZoneInfo clinicZone)
    {
        var before = Current.Value;
        Current.Value = clinicZone;
        return new Restore(before);
    }

    private sealed class Restore(TimeZoneInfo? before) : IDisposable
    {
        public void Dispose() => Current.Value = before;
    }

    public static ClinicCalendar FromConfiguration(IConfiguration configuration, TimeProvider clock)
    {
        var id = configuration["Clinic:TimeZone"] ?? "America/Chicago";
        return new ClinicCalendar(clock, TimeZoneInfo.FindSystemTimeZoneById(id));
    }

    /// <summary>
    /// A time zone a clinic may name: an IANA id (America/Denver) this system knows. Windows ids and abbreviations (MST) are
    /// refused: the 837 and every date the platform prints follow the IANA rules.
    /// </summary>
    public static bool TryFindZone(string? id, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        if (string.IsNullOrWhiteSpace(id) || !id.Contains('/') || !TimeZoneInfo.TryConvertIanaIdToWindowsId(id, out _)) return false;
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found)) return false;
        zone = found;
        return true;
    }
}
