using KetamineBilling.Infrastructure;
using Marten;
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
    public static async Task<(IResult, Events)> Post(
        Guid sessionId, VoidSession command,
        [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, IDocumentSession session, TimeProvider clock,
        CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var result = Decide(sessionId, command, account, now, out var events);
        if (events.Length > 0 && await ReleaseThirdPartiesAsync(session, account.Id, sessionId, command.Reason!.Trim(), now, ct) is { } refused)
        {
            return (refused, []);
        }

        return (result, [.. events]);
    }

    /// <summary>
    /// An employer, grant or study that took on the session lets it go in the same transaction: an employer owes
    /// nothing for it (refused once it is on an invoice: credit the invoice first), a grant gets its share back.
    /// </summary>
    private static async Task<IResult?> ReleaseThirdPartiesAsync(IDocumentSession session, Guid patientId, Guid sessionId, string reason, DateTimeOffset now, CancellationToken ct)
    {
        foreach (var employer in await session.Query<KetamineBilling.Features.Employers.EmployerAgreement>().Where(a => a.EnrolledPatientIds.Contains(patientId)).ToListAsync(ct))
        {
            var commitment = employer.Commitments.FirstOrDefault(c => c.SessionId == sessionId);
            if (commitment is null) continue;
            if (commitment.InvoiceId is not null) return Problems.Conflict($"session {sessionId} is on an invoice to {employer.Name}: credit the invoice first");
            (await session.Events.FetchForWriting<KetamineBilling.Features.Employers.EmployerAgreement>(employer.Id, ct))
                .AppendOne(new KetamineBilling.Features.Employers.DirectPayReleased(employer.Id, sessionId, reason, now));
        }

        foreach (var authorization in await session.Query<KetamineBilling.Features.PriorAuthorizations.PriorAuthorization>().Where(a => a.PatientId == patientId).ToListAsync(ct))
        {
            if (authorization.Uses.All(u => u.SessionId != sessionId)) continue;
            (await session.Events.FetchForWriting<KetamineBilling.Features.PriorAuthorizations.PriorAuthorization>(authorization.Id, ct))
                .AppendOne(new KetamineBilling.Features.PriorAuthorizations.AuthorizedSessionReleased(authorization.Id, sessionId, now));
        }

        foreach (var grant in await session.Query<KetamineBilling.Features.Grants.Grant>().Where(g => g.PatientId == patientId).ToListAsync(ct))
        {
            if (grant.Uses.All(u => u.SessionId != sessionId)) continue;
            (await session.Events.FetchForWriting<KetamineBilling.Features.Grants.Grant>(grant.Id, ct))
                .AppendOne(new KetamineBilling.Features.Grants.GrantReleased(grant.Id, sessionId, reason, now));
        }

        foreach (var study in await session.Query<KetamineBilling.Features.Studies.Study>().Where(s => s.SubjectPatientIds.Contains(patientId)).ToListAsync(ct))
        {
            if (study.Sessions.All(s => s.SessionId != sessionId)) continue;
            (await session.Events.FetchForWriting<KetamineBilling.Features.Studies.Study>(study.Id, ct))
                .AppendOne(new KetamineBilling.Features.Studies.StudySessionReleased(study.Id, sessionId, reason, now));
        }

        return null;
    }
}
