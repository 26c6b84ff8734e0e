using System.Text.RegularExpressions;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Providers;

public record SetProvider(string Name, string Npi, string? Credentials);

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

    /// <summary>
    /// Reference data, changed in place: the provider as the command names it, which is both the document stored and
    /// the answer. No state to decide on: a PUT sets the whole provider whether it existed or not.
    /// </summary>
    public static Outcome Decide(string providerId, SetProvider command) =>
        Outcome.Ok(new Provider { Id = providerId, Name = command.Name.Trim(), Npi = command.Npi, Credentials = command.Credentials?.Trim() });

    [WolverinePut("/api/providers/{providerId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Providers")]
    [ProducesResponseType<Provider>(StatusCodes.Status200OK)]
    public static IResult Put(string providerId, SetProvider command, IDocumentSession session)
    {
        var outcome = Decide(providerId, command);
        if (outcome is Outcome.Accepted { Answer: Provider provider }) session.Store(provider);
        return outcome.ToResult();
    }
}
