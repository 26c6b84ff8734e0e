using System.Text.RegularExpressions;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
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

public record SetProvider(string Name, string Npi, string? Credentials);

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

public static partial class SetProviderEndpoint
{
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$")]
    private static partial Regex Slug();

    public static ProblemDetails Validate(string providerId, SetProvider command)
    {
        var problems = new ValidationProblems();
        if (!Slug().IsMatch(providerId))
        {
            problems.Add("providerId", "must be 1-40 lower-case letters, digits or dashes, e.g. dr-patel");
        }

        problems.RequireText("name", command.Name, 120);
        problems.Check("name", command.Name);
        if (!Npi.IsValid(command.Npi))
        {
            problems.Add("npi", "must be a 10-digit National Provider Identifier with a valid check digit");
        }

        if (command.Credentials is { Length: > 40 })
        {
            problems.Add("credentials", "must be at most 40 characters");
        }

        return problems.ToProblemDetails();
    }

    [WolverinePut("/api/providers/{providerId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Providers")]
    public static Provider Put(string providerId, SetProvider command, IDocumentSession session)
    {
        var provider = new Provider { Id = providerId, Name = command.Name.Trim(), Npi = command.Npi, Credentials = command.Credentials?.Trim() };
        session.Store(provider);
        return provider;
    }
}

public static class ProviderQueries
{
    [WolverineGet("/api/providers"), Authorize(Policy = Policies.Staff)]
    [Tags("Providers")]
    public static async Task<IReadOnlyList<Provider>> Get(IQuerySession session, CancellationToken ct) =>
        await session.Query<Provider>().OrderBy(p => p.Name).ToListAsync(ct);
}

public static class ProvidersModule
{
    public static void AddProviders(this WebApplicationBuilder builder) =>
        builder.Services.ConfigureMarten(opts => opts.Schema.For<Provider>().Identity(p => p.Id));
}
