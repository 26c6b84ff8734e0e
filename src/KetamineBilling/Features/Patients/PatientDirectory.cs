using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Events.Aggregation;
using Marten.Pagination;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// The list billing administrators search. Asynchronous: a new patient appears within moments, and the
/// write path does not pay for it.
/// </summary>
public sealed class PatientDirectoryEntry
{
    public Guid Id { get; set; }

    public string FirstName { get; set; } = "";

    public string LastName { get; set; } = "";

    public DateOnly DateOfBirth { get; set; }

    /// <summary>Lower-cased "first last" for a case-insensitive search.</summary>
    public string SearchName { get; set; } = "";

    public int SessionCount { get; set; }

    public DateOnly? LastSessionOn { get; set; }

    public DateTimeOffset RegisteredAt { get; set; }
}

public partial class PatientDirectoryProjection : SingleStreamProjection<PatientDirectoryEntry, Guid>
{
    public PatientDirectoryEntry Create(PatientRegistered e) => new()
    {
        Id = e.PatientId,
        FirstName = e.FirstName,
        LastName = e.LastName,
        DateOfBirth = e.DateOfBirth,
        SearchName = $"{e.FirstName} {e.LastName}".ToLowerInvariant(),
        RegisteredAt = e.RegisteredAt
    };

    public void Apply(PatientDetailsCorrected e, PatientDirectoryEntry entry)
    {
        entry.FirstName = e.FirstName;
        entry.LastName = e.LastName;
        entry.DateOfBirth = e.DateOfBirth;
        entry.SearchName = $"{e.FirstName} {e.LastName}".ToLowerInvariant();
    }

    public void Apply(SessionDelivered e, PatientDirectoryEntry entry)
    {
        entry.SessionCount++;
        if (entry.LastSessionOn is null || e.DeliveredOn > entry.LastSessionOn)
        {
            entry.LastSessionOn = e.DeliveredOn;
        }
    }
}

/// <summary>A patient's details as registered and since corrected.</summary>
public sealed record PatientView(
    Guid Id, string FirstName, string LastName, DateOnly DateOfBirth, string? Email, string? Phone, DateTimeOffset RegisteredAt,
    string Sex = "U", PostalAddress? Address = null)
{
    /// <summary>Folds the registration and the corrections of a patient's stream; null before the registration.</summary>
    public static PatientView? Of(IEnumerable<object> events)
    {
        PatientView? view = null;
        foreach (var e in events)
        {
            view = e switch
            {
                PatientRegistered r => new PatientView(r.PatientId, r.FirstName, r.LastName, r.DateOfBirth, r.Email, r.Phone, r.RegisteredAt, r.Sex ?? "U", r.Address),
                PatientDetailsCorrected c when view is not null => view with
                {
                    FirstName = c.FirstName, LastName = c.LastName, DateOfBirth = c.DateOfBirth, Sex = c.Sex, Email = c.Email, Phone = c.Phone
                },
                PatientAddressChanged a when view is not null => view with { Address = a.Address },
                _ => view
            };
        }

        return view;
    }
}

public sealed record PatientPage(IReadOnlyList<PatientDirectoryEntry> Items, long TotalCount, int Page, int PageSize);

public static class PatientDirectoryEndpoints
{
    [WolverineGet("/api/patients"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patients")]
    /// <param name="sort">name (default), lastSession or sessions; a leading '-' sorts descending.</param>
    public static async Task<IResult> List(IQuerySession session, string? search, int? page, int? pageSize, string? sort, CancellationToken ct)
    {
        if (sort is not (null or "name" or "-name" or "lastSession" or "-lastSession" or "sessions" or "-sessions"))
            return Problems.Invalid("sort", "must be name, lastSession or sessions, with an optional leading '-'", StatusCodes.Status400BadRequest);
        var number = Math.Max(page ?? 1, 1);
        var size = Math.Clamp(pageSize ?? 25, 1, 200);
        IQueryable<PatientDirectoryEntry> query = session.Query<PatientDirectoryEntry>();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var term = search.Trim().ToLowerInvariant();
            query = query.Where(p => p.SearchName.Contains(term));
        }

        query = sort switch
        {
            "-name" => query.OrderByDescending(p => p.LastName).ThenByDescending(p => p.FirstName),
            "lastSession" => query.OrderBy(p => p.LastSessionOn).ThenBy(p => p.LastName),
            "-lastSession" => query.OrderByDescending(p => p.LastSessionOn).ThenBy(p => p.LastName),
            "sessions" => query.OrderBy(p => p.SessionCount).ThenBy(p => p.LastName),
            "-sessions" => query.OrderByDescending(p => p.SessionCount).ThenBy(p => p.LastName),
            _ => query.OrderBy(p => p.LastName).ThenBy(p => p.FirstName)
        };
        var (items, total) = await query.PageAsync(number, size, ct);
        return Results.Ok(new PatientPage(items, total, number, size));
    }

    [PhiRead("patient")]
    [WolverineGet("/api/patients/{patientId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patients")]
    public static async Task<IResult> Get(Guid patientId, IQuerySession session, CancellationToken ct)
    {
        // The patient's own stream is the truth; the directory may lag by a moment.
        var events = await session.Events.FetchStreamAsync(patientId, token: ct);
        return PatientView.Of(events.Select(e => e.Data)) is { } view
            ? Results.Ok(view)
            : Problems.NotFound($"patient {patientId} does not exist");
    }
}
