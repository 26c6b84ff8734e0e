using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Locations;

/// <summary>Deactivates a location (<see cref="Active"/> false) or makes it active again (true).</summary>
public record SetLocationActive(bool? Active);

public static class SetLocationActiveEndpoint
{
    public static ProblemDetails Validate(SetLocationActive command)
    {
        var problems = new ValidationProblems();
        if (command.Active is null) problems.Add("active", "is required (true or false)");
        return problems.ToProblemDetails();
    }

    /// <summary>A location not yet added is a 404; one already as asked is a replay (nothing recorded).</summary>
    public static Outcome Decide(ClinicLocations? locations, string locationId, SetLocationActive command, DateTimeOffset now)
    {
        if (locations?.Locations.GetValueOrDefault(locationId) is not { } location)
        {
            return Outcome.NotFound($"location {locationId} does not exist");
        }

        var active = command.Active!.Value;
        if (location.Active == active)
        {
            return Outcome.Replay(LocationQueries.View(location));
        }

        object change = active
            ? new LocationReactivated(ClinicLocations.StreamId, locationId, now)
            : new LocationDeactivated(ClinicLocations.StreamId, locationId, now);
        return Outcome.Ok(LocationQueries.View(location with { Active = active, ChangedAt = now })).Append(ClinicLocations.StreamId, change);
    }

    [WolverinePut("/api/locations/{locationId}/active"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Locations")]
    [ProducesResponseType<LocationView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Put(string locationId, SetLocationActive command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<ClinicLocations>(ClinicLocations.StreamId, ct);
        var outcome = Decide(stream.Aggregate, locationId, command, clock.GetUtcNow());
        outcome.AppendTo(session, stream.Writing());
        return outcome.ToResult();
    }
}
