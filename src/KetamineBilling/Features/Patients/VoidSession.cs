using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

public record VoidSession(string? Reason);

/// <summary>
/// A session with a third party in its funding was voided: each area that took something on for it (an employer's
/// commitment, an authorization's count, a grant's share, a study's coverage) lets it go, with its own events. Sent
/// durably in the void's own transaction; <paramref name="VoidedAt"/> stamps the releases.
/// </summary>
public record FundedSessionVoided(Guid PatientId, Guid SessionId, string Reason, DateTimeOffset VoidedAt);

public static class VoidSessionEndpoint
{
    public static ProblemDetails Validate(VoidSession command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reason", command.Reason, 500);
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Voiding compensates the charge; money applied to the session goes back to its payments as unapplied
    /// credit, one PaymentUnapplied per payment, so the ledger shows where it went. A session an employer has put on an
    /// invoice (<paramref name="invoicedBy"/>: that employer's name) is refused: credit the invoice first. The third
    /// parties in the session's funding are told (<see cref="FundedSessionVoided"/>) and let go of it themselves.
    /// </summary>
    public static Outcome Decide(PatientAccount account, VoidSession command, Guid sessionId, string? invoicedBy, DateTimeOffset now)
    {
        var session = account.Session(sessionId);
        if (session is null)
        {
            return Outcome.NotFound($"session {sessionId} is not on this patient's account");
        }

        if (session.Voided)
        {
            return Outcome.Conflict($"session {sessionId} was already voided ({session.VoidReason})");
        }

        if (session.Claims.Count > 0)
        {
            return Outcome.Conflict($"session {sessionId} is on an open claim: reject or close the claim first");
        }

        if (session.Lines.Any(l => l.InsurancePaid != 0 || l.ThirdPartyPaid != 0))
        {
            return Outcome.Conflict($"an insurer or third party paid toward session {sessionId}: reverse or refund that payment first");
        }

        if (session.Lines.Any(l => l.Open.Collections != 0) && account.ActivePlacement is { } placed)
        {
            return Outcome.Conflict($"session {sessionId} is with {placed.AgencyName}: recall the account from the agency first");
        }

        if (account.Placements.SelectMany(p => p.Recoveries).SelectMany(r => r.Allocations).Any(a => a.SessionId == sessionId))
        {
            return Outcome.Conflict($"a collection agency collected toward session {sessionId}: it stands; adjust or refund instead of voiding it");
        }

        if (invoicedBy is not null)
        {
            return Outcome.Conflict($"session {sessionId} is on an invoice to {invoicedBy}: credit the invoice first");
        }

        var reason = command.Reason!.Trim();
        var list = new List<object>
        {
            new SessionVoided(account.Id, sessionId, reason, session.Charge, session.Lines.Sum(l => l.Adjusted), now)
        };
        foreach (var payment in account.Payments.Where(p => p.Applied.Any(a => a.SessionId == sessionId)))
        {
            var back = payment.Applied.Where(a => a.SessionId == sessionId).ToList();
            list.Add(new PaymentUnapplied(account.Id, payment.PaymentId, back, back.Sum(a => a.Amount), "session voided", now));
        }

        return Outcome.Ok(new { sessionId, voided = true, chargeReversed = session.Charge, returnedToCredit = list.OfType<PaymentUnapplied>().Sum(u => u.Total) })
            .Append(account.Id, list)
            .Send(session.Funding.Any(f => f != FundingSource.SelfPay) ? new FundedSessionVoided(account.Id, sessionId, reason, now) : null);
    }

    [WolverinePost("/api/patients/{patientId}/sessions/{sessionId}/void"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<(IResult, Events, OutgoingMessages)> Post(
        Guid sessionId, VoidSession command,
        [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, IDocumentSession session, TimeProvider clock,
        CancellationToken ct)
    {
        var invoicedBy = await KetamineBilling.Features.Employers.EmployerInvoices.InvoicedByAsync(session, account.Id, sessionId, ct);
        var outcome = Decide(account, command, sessionId, invoicedBy, clock.GetUtcNow());
        var events = outcome.EventsFor(account.Id);
        if (events is not [SessionVoided voided, ..]) return (outcome.ToResult(), [], []);

        // The releases the other areas append name the void as their cause (docs/events.md): its id is chosen here.
        var cause = FollowUps.Identified(voided);
        var messages = new OutgoingMessages();
        messages.AddRange(outcome.OutgoingMessages);
        return (outcome.ToResult(), [cause, .. events.Skip(1)], messages.CausedBy(cause));
    }
}
