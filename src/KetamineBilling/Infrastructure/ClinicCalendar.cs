namespace KetamineBilling.Infrastructure;

/// <summary>
/// The clinic's own calendar: "today" and dates of service are the clinic's local dates, not UTC ones
/// (a session at 7 pm in Denver is on that day, though UTC has moved to the next).
/// </summary>
public sealed class ClinicCalendar(TimeProvider clock, TimeZoneInfo zone)
{
    public TimeZoneInfo Zone { get; } = zone;

    public DateOnly Today() => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), Zone).DateTime);

    public static ClinicCalendar FromConfiguration(IConfiguration configuration, TimeProvider clock)
    {
        var id = configuration["Clinic:TimeZone"] ?? "America/Chicago";
        return new ClinicCalendar(clock, TimeZoneInfo.FindSystemTimeZoneById(id));
    }
}
