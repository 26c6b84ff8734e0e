using System.Globalization;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Linq.MatchesSql;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Search;

/// <summary>One thing found: what it is, how a clerk recognizes it, and the screen that shows it.</summary>
public sealed record SearchHit(Guid Id, string Title, string Detail, string Link);

/// <param name="Kind">patients, claims or remittances.</param>
/// <param name="More">More than <see cref="SearchResults.Limit"/> matched: only the first are listed.</param>
public sealed record SearchGroup(string Kind, IReadOnlyList<SearchHit> Items, bool More);

/// <param name="Limit">At most this many of each kind are listed.</param>
public sealed record SearchResults(string Query, int Limit, IReadOnlyList<SearchGroup> Groups);

/// <summary>
/// The app bar's search (issue 15): a patient by name (part of "first last"), date of birth (MM/dd/yyyy or yyyy-MM-dd) or
/// insurance member id; a claim by control number (prefix); a remittance by trace number (prefix). Each kind is queried
/// in the database, at most <see cref="Limit"/> + 1 rows, so it costs the same whatever the practice's size.
/// </summary>
public static class GlobalSearchEndpoint
{
    public const int Limit = 10;
    public const int MinLength = 2, MaxLength = 100;

    /// <summary>The search text's shape (not named Validate: that would make it Wolverine middleware).</summary>
    public static ValidationProblems Check(string? q)
    {
        var problems = new ValidationProblems();
        if (string.IsNullOrWhiteSpace(q) || q.Trim().Length < MinLength) problems.Add("q", $"must be at least {MinLength} characters");
        else if (q.Trim().Length > MaxLength) problems.Add("q", $"must be at most {MaxLength} characters");
        return problems;
    }

    public static DateOnly? AsDate(string text) =>
        DateOnly.TryParseExact(text, ["MM/dd/yyyy", "M/d/yyyy", "yyyy-MM-dd"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : null;

    /// <param name="q">What to look for: a name, a date of birth, a member id, a claim number or a trace number.</param>
    [PhiRead("search", Subject = PhiSubject.Search)]
    [WolverineGet("/api/search"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Search")]
    public static async Task<IResult> Get(string? q, IQuerySession session, CancellationToken ct)
    {
        if (Check(q) is { Any: true } problems) return problems.ToResult(StatusCodes.Status400BadRequest);
        var text = q!.Trim();
        return Results.Ok(new SearchResults(text, Limit, [
            await PatientsAsync(session, text, ct), await ClaimsAsync(session, text, ct), await RemittancesAsync(session, text, ct)
        ]));
    }

    private static async Task<SearchGroup> PatientsAsync(IQuerySession session, string text, CancellationToken ct)
    {
        var term = text.ToLowerInvariant();
        var ids = new List<Guid>();
        ids.AddRange(await session.Query<PatientDirectoryEntry>().Where(p => p.SearchName.Contains(term))
            .OrderBy(p => p.LastName).ThenBy(p => p.FirstName).Select(p => p.Id).Take(Limit + 1).ToListAsync(ct));
        if (AsDate(text) is { } born)
        {
            ids.AddRange(await session.Query<PatientDirectoryEntry>().Where(p => p.DateOfBirth == born)
                .OrderBy(p => p.LastName).ThenBy(p => p.FirstName).Select(p => p.Id).Take(Limit + 1).ToListAsync(ct));
        }

        // A member id is on the account's coverages (a JSON array): any coverage whose member id is the text, ignoring case.
        var member = text.ToUpperInvariant();
        ids.AddRange(await session.Query<PatientAccount>()
            .Where(a => a.MatchesSql("exists (select 1 from jsonb_array_elements(d.data -> 'Coverages') c where upper(c ->> 'MemberId') = ?)", member))
            .Select(a => a.Id).Take(Limit + 1).ToListAsync(ct));

        var found = ids.Distinct().ToList();
        var page = found.Take(Limit).ToArray();
        var entries = (await session.LoadManyAsync<PatientDirectoryEntry>(ct, page)).ToDictionary(p => p.Id);
        var missing = page.Where(id => !entries.ContainsKey(id)).ToArray();
        var accounts = missing.Length == 0 ? new Dictionary<Guid, PatientAccount>() : (await session.LoadManyAsync<PatientAccount>(ct, missing)).ToDictionary(a => a.Id);
        var hits = page.Select(id => entries.TryGetValue(id, out var p)
                ? new SearchHit(id, $"{p.FirstName} {p.LastName}", $"born {Fmt.Date(p.DateOfBirth)}", $"/patients/{id}")
                : new SearchHit(id, accounts.GetValueOrDefault(id)?.Name ?? "Patient", "just registered", $"/patients/{id}"))
            .ToList();
        return new SearchGroup("patients", hits, found.Count > Limit);
    }

    private static async Task<SearchGroup> ClaimsAsync(IQuerySession session, string text, CancellationToken ct)
    {
        var prefix = text.ToUpperInvariant();
        var claims = await session.Query<Claim>().Where(c => c.ControlNumber.StartsWith(prefix)).OrderBy(c => c.ControlNumber).Take(Limit + 1).ToListAsync(ct);
        var hits = claims.Take(Limit).Select(c => new SearchHit(c.Id, $"Claim {c.ControlNumber}",
            $"{ApiEnum.Name(c.Status)} · charge {Fmt.Money(c.TotalCharge)} · filed {Fmt.Date(DateOnly.FromDateTime(c.FiledAt.UtcDateTime))}", $"/claims/{c.Id}")).ToList();
        return new SearchGroup("claims", hits, claims.Count > Limit);
    }

    private static async Task<SearchGroup> RemittancesAsync(IQuerySession session, string text, CancellationToken ct)
    {
        var remittances = await session.Query<Remittance>().Where(r => r.TraceNumber.StartsWith(text)).OrderBy(r => r.TraceNumber).Take(Limit + 1).ToListAsync(ct);
        var hits = remittances.Take(Limit).Select(r => new SearchHit(r.Id, $"Remittance {r.TraceNumber}",
            $"{r.PayerName} · {Fmt.Money(r.PaymentAmount)}{(r.PaymentDate is { } d ? $" · paid {Fmt.Date(d)}" : "")}", $"/remittances/{r.Id}")).ToList();
        return new SearchGroup("remittances", hits, remittances.Count > Limit);
    }
}
