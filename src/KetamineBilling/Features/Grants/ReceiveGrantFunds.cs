using KetamineBilling.Features.GeneralLedger;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Grants;

public record ReceiveGrantFunds(string? Reference, decimal? Amount, DateOnly? ReceivedOn);

public static class ReceiveGrantFundsEndpoint
{
    public static ProblemDetails Validate(ReceiveGrantFunds command)
    {
        var problems = new ValidationProblems();
        problems.RequireText("reference", command.Reference, 80);
        problems.RequirePositive("amount", command.Amount);
        if (command.ReceivedOn is null) problems.Add("receivedOn", "is required");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Money from the organization pays the grant's sessions oldest first, on the patient's account too
    /// (<see cref="ThirdPartyOnAccount.PaidPerSession"/>); never more than the grant owes for sessions applied. Once per reference.
    /// </summary>
    public static Outcome Decide(Grant grant, PatientAccount account, ReceiveGrantFunds command, DateTimeOffset now)
    {
        var reference = command.Reference!.Trim();
        if (grant.Funds.FirstOrDefault(f => f.Reference == reference) is { } existing)
        {
            return existing.Amount == command.Amount ? Outcome.Replay(GrantView.From(grant)) : Outcome.Conflict($"funds reference {reference} was already recorded with another amount");
        }

        if (command.Amount > grant.Applied - grant.Received)
        {
            return Outcome.Reject("amount", $"must not exceed the {Fmt.Money(grant.Applied - grant.Received)} the grant owes for sessions applied");
        }

        var received = new GrantFundsReceived(grant.Id, reference, command.Amount!.Value, command.ReceivedOn!.Value, now);
        var after = Snapshot.Copy(grant);
        after.Apply(received);
        return Outcome.Ok(GrantView.From(after))
            .Append(grant.Id, received)
            .Append(account.Id, ThirdPartyOnAccount.PaidPerSession(account, ResponsibleParty.Grant, grant.Id, reference,
                after.Uses.Select(u => (u.SessionId, u.Received - grant.Uses.First(x => x.SessionId == u.SessionId).Received)), now));
    }

    [WolverinePost("/api/grants/{grantId}/funds"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Grants")]
    public static async Task<IResult> Post(Guid grantId, ReceiveGrantFunds command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Grant>(grantId, ct);
        if (stream.Aggregate is not { } grant) return Problems.NotFound($"grant {grantId} does not exist");
        var account = await session.Events.FetchForWriting<PatientAccount>(grant.PatientId, ct);
        var outcome = ClosedPeriods.Guard(Decide(grant, account.Aggregate!, command, clock.GetUtcNow()), await Books.LoadAsync(session, ct), command.ReceivedOn,
            "receivedOn");
        outcome.AppendTo(session, stream.Writing(), account.Writing());
        return outcome.ToResult();
    }
}
