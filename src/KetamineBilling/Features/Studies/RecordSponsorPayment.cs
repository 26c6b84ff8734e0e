using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Studies;

public record RecordSponsorPayment(string? Reference, decimal? Amount, DateOnly? ReceivedOn);

public static class RecordSponsorPaymentEndpoint
{
    public static ProblemDetails Validate(RecordSponsorPayment command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reference", command.Reference, 80);
        problems.RequirePositive("amount", command.Amount);
        if (command.ReceivedOn is null) problems.Add("receivedOn", "is required");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Pays the study's sessions oldest first, on each patient's account too (<see cref="ThirdPartyOnAccount.PaidPerSession"/>);
    /// never more than the sponsor owes. Once per reference. <paramref name="accounts"/>: the accounts of the study's patients.
    /// </summary>
    public static Outcome Decide(Study study, RecordSponsorPayment command, IReadOnlyDictionary<Guid, PatientAccount> accounts, DateTimeOffset now)
    {
        var reference = command.Reference!.Trim();
        if (study.Payments.FirstOrDefault(p => p.Reference == reference) is { } existing)
            return existing.Amount == command.Amount ? Outcome.Replay(existing) : Outcome.Conflict($"reference {reference} was already recorded with another amount");
        if (command.Amount > study.Owed)
        {
            return Outcome.Reject("amount", $"must not exceed the {Fmt.Money(study.Owed)} the sponsor owes");
        }

        var received = new SponsorPaymentReceived(study.Id, reference, command.Amount!.Value, command.ReceivedOn!.Value, now);
        var after = Snapshot.Copy(study);
        after.Apply(received);
        var outcome = Outcome.Created($"/api/studies/{study.Id}/payments/{reference}", received).Append(study.Id, received);
        foreach (var byPatient in after.Sessions.GroupBy(s => s.PatientId))
        {
            outcome = outcome.Append(byPatient.Key, ThirdPartyOnAccount.PaidPerSession(accounts[byPatient.Key], ResponsibleParty.Sponsor, study.Id, reference,
                byPatient.Select(c => (c.SessionId, c.Paid - study.Sessions.First(s => s.SessionId == c.SessionId).Paid)), now));
        }

        return outcome;
    }

    [WolverinePost("/api/studies/{studyId}/payments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static async Task<IResult> Post(Guid studyId, RecordSponsorPayment command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Study>(studyId, ct);
        if (stream.Aggregate is not { } study) return Problems.NotFound($"study {studyId} does not exist");
        var fetched = new List<OutcomeAppends.FetchedStream> { stream.Writing() };
        var accounts = new Dictionary<Guid, PatientAccount>();
        foreach (var patientId in study.Sessions.Select(s => s.PatientId).Distinct())
        {
            var account = await session.Events.FetchForWriting<PatientAccount>(patientId, ct);
            accounts[patientId] = account.Aggregate!;
            fetched.Add(account.Writing());
        }

        var outcome = ClosedPeriods.Guard(Decide(study, command, accounts, clock.GetUtcNow()), await Books.LoadAsync(session, ct), command.ReceivedOn, "receivedOn");
        outcome.AppendTo(session, fetched);
        return outcome.ToResult();
    }
}
