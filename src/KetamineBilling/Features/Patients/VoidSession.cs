using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

public record VoidSession(string? Reason);

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
    /// credit, one PaymentUnapplied per payment, so the ledger shows where it went.
    /// </summary>
    public static IResult Decide(Guid sessionId, VoidSession command, PatientAccount account, DateTimeOffset now, out object[] events)
    {
        events = [];
        var session = account.Session(sessionId);
        if (session is null)
        {
            return Problems.NotFound($"session {sessionId} is not on this patient's account");
        }

        if (session.Voided)
        {
            return Problems.Conflict($"session {sessionId} was already voided ({session.VoidReason})");
        }

        if (session.Claims.Count > 0)
        {
            return Problems.Conflict($"session {sessionId} is on an open claim: reject or close the claim first");
        }

        if (session.Lines.Any(l => l.InsurancePaid != 0 || l.ThirdPartyPaid != 0))
        {
            return Problems.Conflict($"an insurer or third party paid toward session {sessionId}: reverse or refund that payment first");
        }

        var list = new List<object>
        {
            new SessionVoided(account.Id, sessionId, command.Reason!.Trim(), session.Charge, session.Lines.Sum(l => l.Adjusted), now)
        };
        foreach (var payment in account.Payments.Where(p => p.Applied.Any(a => a.SessionId == sessionId)))
        {
            var back = payment.Applied.Where(a => a.SessionId == sessionId).ToList();
            list.Add(new PaymentUnapplied(account.Id, payment.PaymentId, back, back.Sum(a => a.Amount), "session voided", now));
        }

        events = [.. list];
        return Results.Ok(new { sessionId, voided = true, chargeReversed = session.Charge, returnedToCredit = list.OfType<PaymentUnapplied>().Sum(u => u.Total) });
    }

    [WolverinePost("/api/patients/{patientId}/sessions/{sessionId}/void"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        Guid sessionId, VoidSession command,
        [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, TimeProvider clock)
    {
        var result = Decide(sessionId, command, account, clock.GetUtcNow(), out var events);
        return (result, [.. events]);
    }
}
