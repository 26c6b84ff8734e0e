using System.Security.Claims;
using JasperFx.CommandLine;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Clinic;

/// <summary>
/// A new clinic (tenant). <c>code</c> is its id for good and the idempotency key (<c>[a-z0-9_]</c>, 2 to 40 characters);
/// <c>database</c>: one of the pool's (default: the shared one); <c>profile</c>: its billing profile (the 837's billing
/// provider), else it prints the platform's configured profile until its billing administrator sets its own; <c>timeZone</c>:
/// its IANA time zone (default: the configured one), also given as <c>profile.timeZone</c>.
/// </summary>
public record OnboardClinic(string? Code, string? Name, string? Database, SetClinicProfile? Profile, string? TimeZone = null);

/// <summary>A clinic as the platform lists it.</summary>
public record ClinicView(string Code, string Name, string Database, DateTimeOffset CreatedAt);

/// <summary>A pool database: its id, whether new clinics may be placed there by default, and how many it holds.</summary>
public record ClinicDatabaseView(string Id, bool Full, int Clinics);

public static class OnboardClinicEndpoint
{
    public static ProblemDetails Validate(OnboardClinic command)
    {
        var problems = new ValidationProblems();
        if (string.IsNullOrWhiteSpace(command.Code)) problems.Add("code", "is required");
        else if (!ClinicDatabases.IsValidCode(command.Code.Trim()))
            problems.Add("code", "must be 2 to 40 lower-case letters, digits or underscores (it is the clinic's id for good)");
        problems.RequireText("name", command.Name, 60);
        problems.Check("name", command.Name);
        if (command.TimeZone is not null && !ClinicCalendar.TryFindZone(command.TimeZone.Trim(), out _))
            problems.Add("timeZone", "must be an IANA time zone such as America/Denver (not an abbreviation like MST), or left out for the configured one");
        else if (command.TimeZone is not null && command.Profile?.TimeZone is { } other && other.Trim() != command.TimeZone.Trim())
            problems.Add("timeZone", $"names another zone than profile.timeZone ('{other}'): give one of them");
        if (command.Profile is { } profile)
        {
            foreach (var (field, rules) in SetClinicProfileEndpoint.Validate(profile) is HttpValidationProblemDetails details ? details.Errors : new Dictionary<string, string[]>())
            {
                foreach (var rule in rules) problems.Add($"profile.{field}", rule);
            }
        }

        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Where the clinic goes: the named pool database (one that exists) or the default; the same code again with the same
    /// name and database is a replay, with other details a conflict (a clinic's code is its id for good).
    /// </summary>
    public static Outcome Decide(OnboardClinic command, ClinicRecord? existing, IReadOnlyCollection<string> databases, string defaultDatabase)
    {
        var database = string.IsNullOrWhiteSpace(command.Database) ? null : command.Database.Trim().ToLowerInvariant();
        if (existing is not null)
        {
            return existing.Name == command.Name!.Trim() && (database is null || database == existing.Database)
                ? Outcome.Replay(View(existing))
                : Outcome.Conflict($"code: clinic '{existing.Id}' exists already ({existing.Name}, in database {existing.Database})");
        }

        if (database is not null && !databases.Contains(database))
            return Outcome.Reject("database", $"'{database}' is not a clinic database (there are: {string.Join(", ", databases.Order())}); add-clinic --database ID --connection adds one");
        return Outcome.Created($"/api/clinics/{command.Code!.Trim()}", database ?? defaultDatabase);
    }

    /// <summary>The profile onboarding records: the one given (with the zone), else the configured one when a zone is named.</summary>
    public static SetClinicProfile? ProfileOf(OnboardClinic command, ConfiguredClinicProfile configured)
    {
        var zone = command.TimeZone?.Trim() is { Length: > 0 } z ? z : null;
        if (command.Profile is { } profile) return zone is null ? profile : profile with { TimeZone = zone };
        return zone is null ? null : SetClinicProfileEndpoint.From(configured.Profile, zone);
    }

    public static ClinicView View(ClinicRecord c) => new(c.Id, c.Name, c.Database, c.CreatedAt);

    /// <summary>Onboards a clinic: its partitions in its database, the registry, the administrator's membership, its profile.</summary>
    [WolverinePost("/api/clinics"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Clinics")]
    [ProducesResponseType<ClinicView>(StatusCodes.Status201Created)]
    [ProducesResponseType<ClinicView>(StatusCodes.Status200OK)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status400BadRequest)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status422UnprocessableEntity)]
    public static async Task<IResult> Post(OnboardClinic command, ClaimsPrincipal admin, Clinics clinics, UserAccounts accounts, AccountStates states,
        IDocumentStore store, ConfiguredClinicProfile configured, ClinicZones zones, TimeProvider clock, ILogger<OnboardClinic> logger, CancellationToken ct)
    {
        var code = command.Code!.Trim();
        var databases = (await clinics.DatabasesAsync(ct)).Select(d => d.DatabaseId).ToList();
        var outcome = Decide(command, await clinics.FindAsync(code, ct), databases, clinics.Databases.DefaultDatabase);
        if (outcome is not Outcome.Accepted { Answer: string database } accepted) return outcome.ToResult();

        var now = clock.GetUtcNow();
        var by = AccountChanges.CallerId(admin);
        var record = await OnboardAsync(clinics, store, configured, zones, code, command.Name!.Trim(), database, ProfileOf(command, configured), by?.ToString(), now, ct);
        // The administrator who onboards a clinic works for it (and hands it to others from there).
        if (by is { } adminId && await accounts.LoadAsync(adminId, ct) is { } account && !account.Clinics.Contains(code))
        {
            var changed = account.Copy();
            changed.Clinics.Add(code);
            changed.ChangedAt = now;
            await accounts.SaveAsync(changed, ct);
            states.Forget(adminId);
        }

        logger.LogInformation("Administrator {AdminId} onboarded clinic {Clinic} in database {Database}", by, code, database);
        return (accepted with { Answer = View(record) }).ToResult();
    }

    /// <summary>The onboarding itself (the endpoint's and add-clinic's): placed, registered, and its profile recorded if given.</summary>
    public static async Task<ClinicRecord> OnboardAsync(Clinics clinics, IDocumentStore store, ConfiguredClinicProfile configured, ClinicZones zones,
        string code, string name, string database, SetClinicProfile? profile, string? by, DateTimeOffset now, CancellationToken ct)
    {
        var record = await clinics.AddAsync(code, name, database, by, now, ct);
        if (profile is not null)
        {
            await using var session = store.LightweightSession(code);
            if (by is not null)
            {
                session.LastModifiedBy = by;
                session.SetHeader(AuditMiddleware.UserIdHeader, by);
            }

            var stream = await session.Events.FetchForWriting<ClinicProfileState>(ClinicProfileState.StreamId, ct);
            var current = stream.Aggregate?.Over(configured.Profile) ?? configured.Profile;
            SetClinicProfileEndpoint.Decide(current, profile, zones.ZoneOf(stream.Aggregate).Id, now).AppendTo(session, stream.Writing());
            await session.SaveChangesAsync(ct);
            zones.Forget(code);
        }

        return record;
    }

}

/// <summary>The clinics and the pool's databases, as the platform lists them.</summary>
public static class ClinicsEndpoints
{
    /// <summary>The clinics the caller works for (an administrator: every clinic, to hand out).</summary>
    [WolverineGet("/api/clinics"), Authorize(Policy = Policies.AnyRole), NotTenanted]
    [Tags("Clinics")]
    public static async Task<IReadOnlyList<ClinicView>> List(ClaimsPrincipal user, Clinics clinics, UserAccounts accounts, CancellationToken ct)
    {
        var all = await clinics.ListAsync(ct);
        if (user.IsInRole(Roles.Administrator)) return all.Select(OnboardClinicEndpoint.View).ToList();
        var mine = await AccountChanges.CallerClinicsAsync(user, accounts, ct);
        return all.Where(c => mine.Contains(c.Id)).Select(OnboardClinicEndpoint.View).ToList();
    }

    /// <summary>The pool's databases with how many clinics each holds (an administrator picks one when onboarding).</summary>
    [WolverineGet("/api/clinics/databases"), Authorize(Policy = Policies.Administrator), NotTenanted]
    [Tags("Clinics")]
    public static async Task<IReadOnlyList<ClinicDatabaseView>> Databases(Clinics clinics, CancellationToken ct) =>
        (await clinics.DatabasesAsync(ct)).OrderBy(d => d.DatabaseId).Select(d => new ClinicDatabaseView(d.DatabaseId, d.IsFull, d.TenantCount)).ToList();
}

public class AddClinicInput : NetCoreInput
{
    [Description("The clinic's code: its id for good, [a-z0-9_], 2 to 40 characters")]
    public string Code { get; set; } = "";

    [Description("The clinic's name")]
    public string Name { get; set; } = "";

    [Description("The pool database to place it in (default: the shared one)"), FlagAlias("database")]
    public string? DatabaseFlag { get; set; }

    [Description("With --database: a new database's connection string, added to the pool first (a clinic group's own database)"), FlagAlias("connection")]
    public string? ConnectionFlag { get; set; }

    [Description("The clinic's IANA time zone (e.g. America/Denver; default: the configured Clinic:TimeZone), recorded with the configured profile"), FlagAlias("time-zone")]
    public string? TimeZoneFlag { get; set; }
}

/// <summary>Onboards a clinic from the command line (the first clinic of an installation, or a clinic group's own database).</summary>
[Description("Onboards a clinic: add-clinic CODE NAME [--database ID [--connection CONNECTION-STRING]] [--time-zone ZONE]", Name = "add-clinic")]
public class AddClinicCommand : JasperFxAsyncCommand<AddClinicInput>
{
    public override async Task<bool> Execute(AddClinicInput input)
    {
        var command = new OnboardClinic(input.Code, input.Name, input.DatabaseFlag, null, input.TimeZoneFlag);
        var problems = OnboardClinicEndpoint.Validate(command);
        if (problems is HttpValidationProblemDetails { Errors.Count: > 0 } invalid)
        {
            foreach (var (field, rules) in invalid.Errors) Console.Error.WriteLine($"{field}: {string.Join("; ", rules)}");
            return false;
        }

        if (input.ConnectionFlag is not null && (input.DatabaseFlag is null || !ClinicDatabases.IsValidCode(input.DatabaseFlag)))
        {
            Console.Error.WriteLine("database: --connection adds a database to the pool: name it with --database ID ([a-z0-9_], 2 to 40 characters)");
            return false;
        }

        using var host = input.BuildHost();
        {
            var services = host.Services;
            var clinics = services.GetRequiredService<Clinics>();
            var ct = CancellationToken.None;
            if (input.ConnectionFlag is { } connection)
            {
                await clinics.AddDatabaseAsync(input.DatabaseFlag!, connection, ct);
                // Wolverine's inbox and outbox tables in the new database too (a Production node creates none itself).
                await JasperFx.Resources.ResourceHostExtensions.SetupResources(host, ct);
                Console.WriteLine($"database {input.DatabaseFlag} is in the pool");
            }

            var databases = (await clinics.DatabasesAsync(ct)).Select(d => d.DatabaseId).ToList();
            var outcome = OnboardClinicEndpoint.Decide(command,
                await clinics.FindAsync(input.Code, ct), databases, clinics.Databases.DefaultDatabase);
            switch (outcome)
            {
                case Outcome.Replayed:
                    Console.WriteLine($"clinic {input.Code} exists already, as asked");
                    return true;
                case Outcome.Rejected rejected:
                    Console.Error.WriteLine(rejected.Detail ?? string.Join("; ", rejected.Errors.Select(e => $"{e.Key}: {string.Join("; ", e.Value)}")));
                    return false;
            }

            var configured = services.GetRequiredService<ConfiguredClinicProfile>();
            var record = await OnboardClinicEndpoint.OnboardAsync(clinics, services.GetRequiredService<IDocumentStore>(), configured,
                services.GetRequiredService<ClinicZones>(), input.Code, input.Name.Trim(), (string)((Outcome.Accepted)outcome).Answer!,
                OnboardClinicEndpoint.ProfileOf(command, configured),
                "system:add-clinic", DateTimeOffset.UtcNow, ct);
            Console.WriteLine($"onboarded clinic {record.Id} ({record.Name}) in database {record.Database}{(input.TimeZoneFlag is null ? "" : $", time zone {input.TimeZoneFlag}")}");
            return true;
        }
    }
}
