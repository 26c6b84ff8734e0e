using System.Text.RegularExpressions;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Clinic;

/// <param name="AddressLines">One or two street lines, then "City, ST 12345" (the 837's N3/N4 are read from them).</param>
/// <param name="SubmitterId">The clinic's submitter id with its clearinghouse (ISA06, at most 15 characters).</param>
/// <param name="TimeZone">
/// The clinic's IANA time zone (America/Denver): what "today" is for it, and in which month a claim is counted. Left out: the
/// one it has (the configured default until one is named).
/// </param>
public record SetClinicProfile(
    string? Name, IReadOnlyList<string>? AddressLines, string? Phone, string? Npi, string? TaxId, string? Taxonomy, string? SubmitterId,
    string? TimeZone = null);

public static partial class SetClinicProfileEndpoint
{
    [GeneratedRegex(@"^[^,]+, [A-Z]{2} [0-9]{5}(-?[0-9]{4})?$")]
    private static partial Regex CityStateZip();

    [GeneratedRegex("^[0-9]{2}-?[0-9]{7}$")]
    private static partial Regex Ein();

    // Health care provider taxonomy: ten characters, the last an X (e.g. 2084P0800X).
    [GeneratedRegex("^[0-9]{3}[0-9A-Z]{6}X$")]
    private static partial Regex TaxonomyCode();

    [GeneratedRegex("^[A-Za-z0-9]{2,15}$")]
    private static partial Regex Submitter();

    /// <summary>A profile as a command that sets it again (with a time zone).</summary>
    public static SetClinicProfile From(ClinicProfile profile, string? timeZone) =>
        new(profile.Name, profile.AddressLines, profile.Phone, profile.Npi, profile.TaxId, profile.Taxonomy, profile.SubmitterId, timeZone);

    public static ProblemDetails Validate(SetClinicProfile command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("name", command.Name, 60);
        problems.Check("name", command.Name);
        var lines = command.AddressLines?.Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => l.Trim()).ToList() ?? [];
        if (lines.Count is < 2 or > 3)
        {
            problems.Add("addressLines", "must be one or two street lines and then the city, state and ZIP code");
        }
        else
        {
            foreach (var (line, i) in lines.Select((l, i) => (l, i)))
            {
                if (line.Length > 55) problems.Add($"addressLines[{i}]", "must be at most 55 characters");
                problems.Check($"addressLines[{i}]", line);
            }

            if (!CityStateZip().IsMatch(lines[^1])) problems.Add($"addressLines[{lines.Count - 1}]", "must read City, ST 12345 (the city, a comma, the state's two capitals and the ZIP code)");
        }

        if (command.Phone is { } phone && (phone.Count(char.IsAsciiDigit) != 10 || phone.Length > 20))
        {
            problems.Add("phone", "must be a 10-digit phone number, e.g. (312) 555-0142");
        }

        if (!Npi.IsValid(command.Npi?.Trim())) problems.Add("npi", "must be the clinic's 10-digit group NPI with a valid check digit");
        if (command.TaxId is null || !Ein().IsMatch(command.TaxId.Trim())) problems.Add("taxId", "must be the clinic's 9-digit employer identification number, e.g. 36-1234567");
        if (command.Taxonomy is null || !TaxonomyCode().IsMatch(command.Taxonomy.Trim().ToUpperInvariant())) problems.Add("taxonomy", "must be a 10-character provider taxonomy code ending in X, e.g. 2084P0800X");
        if (command.SubmitterId is null || !Submitter().IsMatch(command.SubmitterId.Trim())) problems.Add("submitterId", "must be the clearinghouse submitter id: 2-15 letters or digits");
        if (command.TimeZone is not null && !ClinicCalendar.TryFindZone(command.TimeZone.Trim(), out _))
            problems.Add("timeZone", "must be an IANA time zone such as America/Denver (not an abbreviation like MST), or left out to keep the clinic's");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// The whole profile from now on, answered as it then reads; the same as the current one (recorded, or the configuration's
    /// before any change) is a replay: nothing recorded. <paramref name="timeZone"/> is the clinic's zone now; the command's
    /// is recorded only when it names another.
    /// </summary>
    public static Outcome Decide(ClinicProfile current, SetClinicProfile command, string timeZone, DateTimeOffset now)
    {
        var zone = command.TimeZone?.Trim() is { Length: > 0 } named && named != timeZone ? named : null;
        var changed = new ClinicProfileChanged(ClinicProfileState.StreamId, command.Name!.Trim(),
            command.AddressLines!.Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => l.Trim()).ToList(),
            string.IsNullOrWhiteSpace(command.Phone) ? null : command.Phone.Trim(), command.Npi!.Trim(), command.TaxId!.Trim(),
            command.Taxonomy!.Trim().ToUpperInvariant(), command.SubmitterId!.Trim(), now, zone);
        if (zone is null && changed.Name == current.Name && changed.AddressLines.SequenceEqual(current.AddressLines) && changed.Phone == current.Phone
            && changed.Npi == current.Npi && changed.TaxId == current.TaxId && changed.Taxonomy == current.Taxonomy && changed.SubmitterId == current.SubmitterId)
        {
            return Outcome.Replay(ClinicProfileQueries.View(current, timeZone, null));
        }

        var after = new ClinicProfileProjection().Create(changed).Over(current);
        return Outcome.Ok(ClinicProfileQueries.View(after, zone ?? timeZone, now)).Append(ClinicProfileState.StreamId, changed);
    }

    [WolverinePut("/api/clinic/profile"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Clinic")]
    [ProducesResponseType<ClinicProfileView>(StatusCodes.Status200OK)]
    public static async Task<IResult> Put(
        SetClinicProfile command, IDocumentSession session, ConfiguredClinicProfile configured, ClinicZones zones, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<ClinicProfileState>(ClinicProfileState.StreamId, ct);
        var current = stream.Aggregate?.Over(configured.Profile) ?? configured.Profile;
        var zone = zones.ZoneOf(stream.Aggregate).Id;
        var outcome = Decide(current, command, zone, clock.GetUtcNow());
        if (outcome is Outcome.Replayed && stream.Aggregate is { } state)
        {
            outcome = Outcome.Replay(ClinicProfileQueries.View(current, zone, state.ChangedAt));
        }

        outcome.AppendTo(session, stream.Writing());
        if (outcome is not Outcome.Replayed)
        {
            // Saved here, not after the endpoint: this node's requests see the clinic's new zone from the next one on.
            await session.SaveChangesAsync(ct);
            zones.Forget(session.TenantId);
        }

        return outcome.ToResult();
    }
}
