using System.Text.RegularExpressions;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Providers;

/// <summary>
/// A clinician who renders sessions. Reference data, not a financial fact: a document, changed in place.
/// Receipts and claims print the NPI that is current when they are made.
/// </summary>
public sealed class Provider
{
    /// <summary>The clinic's own short id, e.g. "dr-patel".</summary>
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Npi { get; set; } = "";
    public string? Credentials { get; set; }
}

public static partial class Npi
{
    [GeneratedRegex("^[0-9]{10}$")]
    private static partial Regex TenDigits();

    /// <summary>
    /// An NPI is ten digits whose last is a Luhn check digit computed over "80840" + the first nine
    /// (CMS, "Requirements for National Provider Identifier Check Digit").
    /// </summary>
    public static bool IsValid(string? npi)
    {
        if (npi is null || !TenDigits().IsMatch(npi))
        {
            return false;
        }

        var digits = "80840" + npi[..9];
        var sum = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            var d = digits[digits.Length - 1 - i] - '0';
            if (i % 2 == 0)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }

            sum += d;
        }

        return (10 - sum % 10) % 10 == npi[9] - '0';
    }
}

public static class ProviderQueries
{
    [WolverineGet("/api/providers"), Authorize(Policy = Policies.Staff)]
    [Tags("Providers")]
    public static async Task<IReadOnlyList<Provider>> Get(IQuerySession session, CancellationToken ct) =>
        await session.Query<Provider>().OrderBy(p => p.Name).ToListAsync(ct);
}
