using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Aggregation;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Clinic;

/// <summary>
/// Who the clinic is on what it issues (837 claims, statements, receipts, superbills, employer statements), as from now:
/// the whole profile each time. Until the first change, the configuration's <c>Clinic</c> section is the profile.
/// </summary>
/// <param name="ClinicId">The clinic's profile stream (<see cref="ClinicProfileState.StreamId"/>).</param>
/// <param name="TimeZone">
/// The clinic's IANA time zone from now on: what "today" is for it and in which month a date falls. Null in the events
/// recorded before clinics had their own (and in a change that kept it): the one before, else the configured default.
/// </param>
public record ClinicProfileChanged(
    Guid ClinicId, string Name, IReadOnlyList<string> AddressLines, string? Phone, string Npi, string TaxId, string Taxonomy, string SubmitterId,
    DateTimeOffset ChangedAt, string? TimeZone = null);

/// <summary>
/// The latest recorded profile, read inline. One stream and one document for the clinic: when the platform serves several
/// clinics (tenants), each tenant's store holds its own.
/// </summary>
public sealed class ClinicProfileState
{
    public static readonly Guid StreamId = new("9a4c2e71-0d3b-4b8e-a6f5-1c7d8e2b3f40");

    public Guid Id { get; set; }

    public int Version { get; set; }

    public string Name { get; set; } = "";
    public List<string> AddressLines { get; set; } = [];
    public string? Phone { get; set; }
    public string Npi { get; set; } = "";
    public string TaxId { get; set; } = "";
    public string Taxonomy { get; set; } = "";
    public string SubmitterId { get; set; } = "";

    /// <summary>The clinic's IANA time zone; null until a change names one (the configured default).</summary>
    public string? TimeZone { get; set; }

    public DateTimeOffset ChangedAt { get; set; }

    /// <summary>The profile documents print: the recorded fields over the configured ones (NDCs stay configured).</summary>
    public ClinicProfile Over(ClinicProfile configured) => new()
    {
        Name = Name, AddressLines = [.. AddressLines], Phone = Phone, Npi = Npi, TaxId = TaxId, Taxonomy = Taxonomy, SubmitterId = SubmitterId,
        Ndcs = configured.Ndcs
    };
}

public partial class ClinicProfileProjection : SingleStreamProjection<ClinicProfileState, Guid>
{
    public ClinicProfileState Create(ClinicProfileChanged e) => Apply(e, new ClinicProfileState { Id = e.ClinicId });

    public ClinicProfileState Apply(ClinicProfileChanged e, ClinicProfileState state)
    {
        state.Name = e.Name;
        state.AddressLines = [.. e.AddressLines];
        state.Phone = e.Phone;
        state.Npi = e.Npi;
        state.TaxId = e.TaxId;
        state.Taxonomy = e.Taxonomy;
        state.SubmitterId = e.SubmitterId;
        state.TimeZone = e.TimeZone ?? state.TimeZone;
        state.ChangedAt = e.ChangedAt;
        return state;
    }
}

/// <summary>The configuration's profile, as bound at start: the profile until the first change is recorded.</summary>
public sealed record ConfiguredClinicProfile(ClinicProfile Profile);

/// <param name="TimeZone">The clinic's IANA time zone: what "today" is for it, and in which month a date falls.</param>
/// <param name="ChangedAt">When the profile was last changed; null while it is still the configuration's.</param>
public sealed record ClinicProfileView(
    string Name, IReadOnlyList<string> AddressLines, string? Phone, string Npi, string TaxId, string Taxonomy, string SubmitterId, string TimeZone,
    DateTimeOffset? ChangedAt);

public static class ClinicProfileQueries
{
    public static ClinicProfileView View(ClinicProfile p, string timeZone, DateTimeOffset? changedAt) =>
        new(p.Name, p.AddressLines, p.Phone, p.Npi, p.TaxId, p.Taxonomy, p.SubmitterId, timeZone, changedAt);

    [WolverineGet("/api/clinic/profile"), Authorize(Policy = Policies.Staff)]
    [Tags("Clinic")]
    public static async Task<ClinicProfileView> Get(IQuerySession session, ConfiguredClinicProfile configured, ClinicZones zones, CancellationToken ct)
    {
        var state = await session.LoadAsync<ClinicProfileState>(ClinicProfileState.StreamId, ct);
        return View(state?.Over(configured.Profile) ?? configured.Profile, zones.ZoneOf(state).Id, state?.ChangedAt);
    }
}

/// <summary>
/// The profile documents print now: the latest recorded one (over the configuration's NDCs), or the configuration's until the
/// first change. Endpoints that issue documents ask it with their own session, so a change is printed at once on every node.
/// </summary>
public sealed class ClinicProfiles(ConfiguredClinicProfile configured)
{
    public async Task<ClinicProfile> CurrentAsync(IQuerySession session, CancellationToken ct) =>
        (await session.LoadAsync<ClinicProfileState>(ClinicProfileState.StreamId, ct))?.Over(configured.Profile) ?? configured.Profile;
}
