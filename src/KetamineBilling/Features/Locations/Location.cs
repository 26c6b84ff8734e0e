using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Aggregation;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Locations;

/// <summary>A place where sessions are delivered: added with its address and CMS place of service code.</summary>
/// <param name="LocationsId">The clinic's locations stream (<see cref="ClinicLocations.StreamId"/>).</param>
/// <param name="LocationId">The clinic's own short id, e.g. "main-clinic": what a session's LocationId names.</param>
public record LocationAdded(Guid LocationsId, string LocationId, string Name, PostalAddress Address, string PlaceOfService, DateTimeOffset AddedAt);

/// <summary>A location's name, address or place of service changed: sessions delivered before keep the id they named.</summary>
public record LocationChanged(Guid LocationsId, string LocationId, string Name, PostalAddress Address, string PlaceOfService, DateTimeOffset ChangedAt);

/// <summary>No new session is to be delivered here; past sessions keep naming it.</summary>
public record LocationDeactivated(Guid LocationsId, string LocationId, DateTimeOffset DeactivatedAt);

/// <summary>A deactivated location is in use again.</summary>
public record LocationReactivated(Guid LocationsId, string LocationId, DateTimeOffset ReactivatedAt);

public sealed record Location(string Id, string Name, PostalAddress Address, string PlaceOfService, bool Active, DateTimeOffset ChangedAt);

/// <summary>
/// The clinic's locations, one stream for the whole list (like the fee schedule), read inline so a change is visible at
/// once. One stream per clinic: when the platform serves several clinics (tenants), each has its own.
/// </summary>
public sealed class ClinicLocations
{
    public static readonly Guid StreamId = new("3c1f0d54-6a0e-4f0b-8d2c-5b7e2f9a7c11");

    public Guid Id { get; set; }

    public int Version { get; set; }

    public Dictionary<string, Location> Locations { get; set; } = new(StringComparer.Ordinal);
}

public partial class ClinicLocationsProjection : SingleStreamProjection<ClinicLocations, Guid>
{
    public ClinicLocations Create(LocationAdded e) => Apply(e, new ClinicLocations { Id = e.LocationsId });

    public ClinicLocations Apply(LocationAdded e, ClinicLocations state)
    {
        state.Locations[e.LocationId] = new Location(e.LocationId, e.Name, e.Address, e.PlaceOfService, true, e.AddedAt);
        return state;
    }

    public ClinicLocations Apply(LocationChanged e, ClinicLocations state)
    {
        if (state.Locations.TryGetValue(e.LocationId, out var l))
            state.Locations[e.LocationId] = l with { Name = e.Name, Address = e.Address, PlaceOfService = e.PlaceOfService, ChangedAt = e.ChangedAt };
        return state;
    }

    public ClinicLocations Apply(LocationDeactivated e, ClinicLocations state)
    {
        if (state.Locations.TryGetValue(e.LocationId, out var l)) state.Locations[e.LocationId] = l with { Active = false, ChangedAt = e.DeactivatedAt };
        return state;
    }

    public ClinicLocations Apply(LocationReactivated e, ClinicLocations state)
    {
        if (state.Locations.TryGetValue(e.LocationId, out var l)) state.Locations[e.LocationId] = l with { Active = true, ChangedAt = e.ReactivatedAt };
        return state;
    }
}

/// <summary>The CMS place of service codes a ketamine clinic delivers at (CMS Place of Service Code Set).</summary>
public static class PlaceOfService
{
    public static readonly IReadOnlyDictionary<string, string> Codes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["02"] = "Telehealth provided other than in the patient's home",
        ["10"] = "Telehealth provided in the patient's home",
        ["11"] = "Office",
        ["12"] = "Home",
        ["19"] = "Off campus outpatient hospital",
        ["22"] = "On campus outpatient hospital",
        ["49"] = "Independent clinic"
    };

    public static string Name(string code) => Codes.GetValueOrDefault(code, code);
}

/// <param name="PlaceOfServiceName">The code's name in words ("Office").</param>
public sealed record LocationView(string Id, string Name, PostalAddress Address, string PlaceOfService, string PlaceOfServiceName, bool Active, DateTimeOffset ChangedAt);

public static class LocationQueries
{
    public static LocationView View(Location l) => new(l.Id, l.Name, l.Address, l.PlaceOfService, PlaceOfService.Name(l.PlaceOfService), l.Active, l.ChangedAt);

    /// <summary>Every location, active ones first, then by name (a clinic has a handful: not paged).</summary>
    [WolverineGet("/api/locations"), Authorize(Policy = Policies.Staff)]
    [Tags("Locations")]
    public static async Task<IReadOnlyList<LocationView>> Get(IQuerySession session, CancellationToken ct) =>
        (await session.LoadAsync<ClinicLocations>(ClinicLocations.StreamId, ct))?.Locations.Values
            .OrderByDescending(l => l.Active).ThenBy(l => l.Name, StringComparer.OrdinalIgnoreCase).Select(View).ToList() ?? [];
}
