using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.PriorAuthorizations;

/// <param name="ExtensionId">Made by the client: the idempotency key of this extension (a replay adds nothing).</param>
public record ExtendPriorAuthorization(Guid ExtensionId, int AdditionalSessions, DateOnly? ValidTo);

public static class ExtendPriorAuthorizationEndpoint
{
    public static ProblemDetails Validate(ExtendPriorAuthorization command)
    {
        var problems = new ValidationProblems();
        if (command.ExtensionId == Guid.Empty) problems.Add("extensionId", "is required: a client-made id (the same id again adds nothing)");
        if (command.AdditionalSessions is < 0 or > 52) problems.Add("additionalSessions", "must be from 0 to 52");
        if (command.ValidTo is null) problems.Add("validTo", "is required");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// An approved authorization gets more sessions or a later end (never an earlier one); sessions already delivered that it
    /// now covers are counted again (<see cref="PriorAuthorizationChanged"/>). The same extension id again adds nothing.
    /// </summary>
    public static Outcome Decide(PriorAuthorization authorization, ExtendPriorAuthorization command, DateOnly today, DateTimeOffset now)
    {
        if (authorization.Extensions.FirstOrDefault(x => x.ExtensionId == command.ExtensionId) is { } done)
        {
            // A replay: the same extension adds nothing; the same id with other content is a conflict.
            return done.AdditionalSessions == command.AdditionalSessions && done.ValidTo == command.ValidTo
                ? Outcome.Replay(AuthorizationView.From(authorization, today))
                : Outcome.Conflict($"extension {command.ExtensionId} was already recorded with {done.AdditionalSessions} session(s) to {Fmt.Date(done.ValidTo)}");
        }

        if (PriorAuthorizationRules.IllegalFrom(authorization, "extended", AuthorizationStatus.Approved) is { } conflict) return conflict;
        if (command.ValidTo < authorization.ValidTo)
        {
            return Outcome.Reject("validTo", $"must not be before the current end {Fmt.Date(authorization.ValidTo)}");
        }

        var extended = new PriorAuthorizationExtended(authorization.Id, command.AdditionalSessions, command.ValidTo!.Value, now, command.ExtensionId);
        var after = Snapshot.Copy(authorization);
        after.Apply(extended);
        return Outcome.Ok(AuthorizationView.From(after, today))
            .Append(authorization.Id, extended)
            .Send(new PriorAuthorizationChanged(authorization.Id, authorization.PatientId));
    }

    [WolverinePost("/api/prior-authorizations/{authorizationId}/extend"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Prior authorizations")]
    public static (IResult, Events, OutgoingMessages) Post(
        ExtendPriorAuthorization command,
        [WriteAggregate("authorizationId", OnMissing = OnMissing.ProblemDetailsWith404)] PriorAuthorization authorization,
        ClinicCalendar calendar, TimeProvider clock) =>
        PriorAuthorizationRules.Answer<PriorAuthorizationExtended>(Decide(authorization, command, calendar.Today(), clock.GetUtcNow()), authorization.Id);
}
