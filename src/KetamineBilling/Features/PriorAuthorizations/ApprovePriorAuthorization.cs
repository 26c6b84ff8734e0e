using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.PriorAuthorizations;

public record ApprovePriorAuthorization(string? AuthorizationNumber, int SessionsApproved, IReadOnlyList<string>? Codes, DateOnly? ValidFrom, DateOnly? ValidTo);

public static class ApprovePriorAuthorizationEndpoint
{
    public static ProblemDetails Validate(ApprovePriorAuthorization command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("authorizationNumber", command.AuthorizationNumber, 50);
        problems.Check("authorizationNumber", command.AuthorizationNumber);
        if (command.SessionsApproved is < 1 or > 52) problems.Add("sessionsApproved", "must be from 1 to 52");
        if (command.Codes is { } codes && codes.Any(c => c is null || !System.Text.RegularExpressions.Regex.IsMatch(c.ToUpperInvariant(), "^[A-Z0-9]{5}$")))
            problems.Add("codes", "must be five-character CPT/HCPCS codes");
        if (command.ValidFrom is null) problems.Add("validFrom", "is required");
        if (command.ValidTo is null) problems.Add("validTo", "is required");
        else if (command.ValidFrom is { } from && command.ValidTo < from) problems.Add("validTo", "must be on or after validFrom");
        return problems.ToProblemDetails();
    }

    /// <summary>A requested authorization is approved; sessions already delivered that it covers are counted again (<see cref="PriorAuthorizationChanged"/>).</summary>
    public static Outcome Decide(PriorAuthorization authorization, ApprovePriorAuthorization command, DateOnly today, DateTimeOffset now)
    {
        if (PriorAuthorizationRules.IllegalFrom(authorization, "approved", AuthorizationStatus.Requested) is { } conflict) return conflict;
        var approved = new PriorAuthorizationApproved(authorization.Id, command.AuthorizationNumber!.Trim(), command.SessionsApproved,
            (command.Codes is { Count: > 0 } codes ? codes : authorization.CodesRequested).Select(c => c.ToUpperInvariant()).ToList(),
            command.ValidFrom!.Value, command.ValidTo!.Value, now);
        var after = Snapshot.Copy(authorization);
        after.Apply(approved);
        return Outcome.Ok(AuthorizationView.From(after, today))
            .Append(authorization.Id, approved)
            .Send(new PriorAuthorizationChanged(authorization.Id, authorization.PatientId));
    }

    [WolverinePost("/api/prior-authorizations/{authorizationId}/approve"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static (IResult, Events, OutgoingMessages) Post(
        ApprovePriorAuthorization command,
        [WriteAggregate("authorizationId", OnMissing = OnMissing.ProblemDetailsWith404)] PriorAuthorization authorization,
        ClinicCalendar calendar, TimeProvider clock) =>
        PriorAuthorizationRules.Answer<PriorAuthorizationApproved>(Decide(authorization, command, calendar.Today(), clock.GetUtcNow()), authorization.Id);
}
