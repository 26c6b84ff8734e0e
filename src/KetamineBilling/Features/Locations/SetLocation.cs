using System.Text.RegularExpressions;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Locations;

/// <param name="PlaceOfService">The CMS place of service code claims print for sessions there (11 office, 02/10 telehealth...).</param>
public record SetLocation(string? Name, PostalAddress? Address, string? PlaceOfService);

public static partial class SetLocationEndpoint
{
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex Slug();

    public static ProblemDetails Validate(string locationId, SetLocation command)
    {
        var problems = new ValidationProblems();
        if (!Slug().IsMatch(locationId))
        {
            problems.Add("locationId", "must be 1-64 lower-case letters, digits or dashes, e.g. main-clinic");
        }

        problems.RequireText("name", command.Name, 60);
        problems.Check("name", command.Name);
        if (command.Address is not { } a)
        {
            problems.Add("address", "is required");
        }
        else
        {
            problems.RequireText("address.line1", a.Line1, 55);
            problems.RequireText("address.city", a.City, 30);
            if (a.Line2 is { Length: > 55 }) problems.Add("address.line2", "must be at most 55 characters");
            problems.Check("address.line1", a.Line1);
            problems.Check("address.line2", a.Line2);
            problems.Check("address.city", a.City);
            if (a.State is null || !Regex.IsMatch(a.State, "^[A-Za-z]{2}$")) problems.Add("address.state", "must be a two-letter state code");
            if (a.PostalCode is null || !Regex.IsMatch(a.PostalCode, "^[0-9]{5}([0-9]{4})?$")) problems.Add("address.postalCode", "must be a 5 or 9 digit ZIP code");
        }

        if (command.PlaceOfService is null || !PlaceOfService.Codes.ContainsKey(command.PlaceOfService))
        {
            problems.Add("placeOfService", $"must be a place of service code: {string.Join(", ", PlaceOfService.Codes.Keys)}");
        }

        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Adds the location, or changes what differs of it; the same again is a replay (nothing recorded). Its id never
    /// changes: sessions delivered there keep naming it.
    /// </summary>
    public static Outcome Decide(ClinicLocations? locations, string locationId, SetLocation command, DateTimeOffset now)
    {
        var name = command.Name!.Trim();
        var address = PatientDetailsRules.Normalize(command.Address)!;
        var existing = locations?.Locations.GetValueOrDefault(locationId);
        if (existing is null)
        {
            var added = new LocationAdded(ClinicLocations.StreamId, locationId, name, address, command.PlaceOfService!, now);
            return Outcome.Ok(LocationQueries.View(new Location(locationId, name, address, added.PlaceOfService, true, now))).Append(ClinicLocations.StreamId, added);
        }

        if (existing.Name == name && existing.Address == address && existing.PlaceOfService == command.PlaceOfService)
        {
            return Outcome.Replay(LocationQueries.View(existing));
        }

        var changed = new LocationChanged(ClinicLocations.StreamId, locationId, name, address, command.PlaceOfService!, now);
        return Outcome.Ok(LocationQueries.View(existing with { Name = name, Address = address, PlaceOfService = changed.PlaceOfService, ChangedAt = now }))
            .Append(ClinicLocations.StreamId, changed);
    }

    [WolverinePut("/api/locations/{locationId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Locations")]
    [ProducesResponseType<LocationView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Put(string locationId, SetLocation command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<ClinicLocations>(ClinicLocations.StreamId, ct);
        var outcome = Decide(stream.Aggregate, locationId, command, clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}
