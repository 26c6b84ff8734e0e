using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.PriorAuthorizations;

public static class ExpirePriorAuthorizationEndpoint
{
    /// <summary>An approved authorization expires.</summary>
    public static Outcome Decide(PriorAuthorization authorization, DateOnly today, DateTimeOffset now)
    {
        if (PriorAuthorizationRules.IllegalFrom(authorization, "expired", AuthorizationStatus.Approved) is { } conflict) return conflict;
        var expired = new PriorAuthorizationExpired(authorization.Id, now);
        var after = Snapshot.Copy(authorization);
        after.Apply(expired);
        return Outcome.Ok(AuthorizationView.From(after, today)).Append(authorization.Id, expired);
    }

    [WolverinePost("/api/prior-authorizations/{authorizationId}/expire"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static (IResult, Events) Post(
        [WriteAggregate("authorizationId", OnMissing = OnMissing.ProblemDetailsWith404)] PriorAuthorization authorization,
        ClinicCalendar calendar, TimeProvider clock)
    {
        var outcome = Decide(authorization, calendar.Today(), clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(authorization.Id)]);
    }
}
