using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.PriorAuthorizations;

public record DenyPriorAuthorization(string? Reason);

public static class DenyPriorAuthorizationEndpoint
{
    public static ProblemDetails Validate(DenyPriorAuthorization command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reason", command.Reason, 500);
        return problems.ToProblemDetails();
    }

    /// <summary>A requested authorization is denied, with the payer's reason.</summary>
    public static Outcome Decide(PriorAuthorization authorization, DenyPriorAuthorization command, DateOnly today, DateTimeOffset now)
    {
        if (PriorAuthorizationRules.IllegalFrom(authorization, "denied", AuthorizationStatus.Requested) is { } conflict) return conflict;
        var denied = new PriorAuthorizationDenied(authorization.Id, command.Reason!.Trim(), now);
        var after = Snapshot.Copy(authorization);
        after.Apply(denied);
        return Outcome.Ok(AuthorizationView.From(after, today)).Append(authorization.Id, denied);
    }

    [WolverinePost("/api/prior-authorizations/{authorizationId}/deny"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static (IResult, Events) Post(
        DenyPriorAuthorization command,
        [WriteAggregate("authorizationId", OnMissing = OnMissing.ProblemDetailsWith404)] PriorAuthorization authorization,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = Decide(authorization, command, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(authorization.Id)]);
    }
}
