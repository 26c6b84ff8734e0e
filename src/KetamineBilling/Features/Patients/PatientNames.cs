using Marten;

namespace KetamineBilling.Features.Patients;

/// <summary>Patients' names for lists of other areas (claims, prior authorizations, grants): read only, never PHI beyond the name.</summary>
public static class PatientNames
{
    /// <summary>
    /// Names from the patient directory (small documents); a patient it does not list yet (it is asynchronous) from the
    /// account. An id with neither is left out.
    /// </summary>
    public static async Task<Dictionary<Guid, string>> LoadAsync(IQuerySession session, IEnumerable<Guid> patientIds, CancellationToken ct)
    {
        var ids = patientIds.Distinct().ToArray();
        if (ids.Length == 0) return [];
        var names = (await session.LoadManyAsync<PatientDirectoryEntry>(ct, ids)).ToDictionary(p => p.Id, p => $"{p.FirstName} {p.LastName}");
        var missing = ids.Where(id => !names.ContainsKey(id)).ToArray();
        if (missing.Length > 0)
        {
            foreach (var account in await session.LoadManyAsync<PatientAccount>(ct, missing)) names[account.Id] = account.Name;
        }

        return names;
    }
}
