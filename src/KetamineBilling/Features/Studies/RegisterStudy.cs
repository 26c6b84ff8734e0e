using KetamineBilling.Features.Ledger;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Studies;

public record RegisterStudy(Guid StudyId, string? Sponsor, string? ProtocolId, decimal? PerSessionAmount);

public record StudyCreated(Guid Id) : CreationResponse($"/api/studies/{Id}");

public static class StudyEndpoints
{
    public static ProblemDetails Validate(RegisterStudy command)
    {
        var problems = new ValidationProblems();
        if (command.StudyId == Guid.Empty) problems.Add("studyId", "is required: a client-made id");
        problems.RequireText("sponsor", command.Sponsor, 120);
        problems.RequireText("protocolId", command.ProtocolId, 60);
        // $0 is a trial at no cost to anyone: the sponsor owes nothing and the contract adjusts the whole charge off.
        problems.RequireMoney("perSessionAmount", command.PerSessionAmount, Money.Max);
        return problems.ToProblemDetails();
    }

    /// <summary>The study starts with its sponsor, protocol and per-session amount; the same id again is a replay when they agree, else a conflict.</summary>
    public static Outcome Decide(Study? existing, RegisterStudy command, DateTimeOffset now)
    {
        if (existing is not null)
        {
            return existing.ProtocolId == command.ProtocolId!.Trim() && existing.PerSessionAmount == command.PerSessionAmount
                ? Outcome.Replay(new StudyCreated(existing.Id))
                : Outcome.Conflict($"study {command.StudyId} exists with other terms");
        }

        return Outcome.Created($"/api/studies/{command.StudyId}", new StudyCreated(command.StudyId))
            .Start<Study>(command.StudyId, new StudyRegistered(command.StudyId, command.Sponsor!.Trim(), command.ProtocolId!.Trim(), command.PerSessionAmount!.Value, now));
    }

    [WolverinePost("/api/studies"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static async Task<IResult> Post(RegisterStudy command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var outcome = Decide(await session.LoadAsync<Study>(command.StudyId, ct), command, clock.GetUtcNow());
        outcome.AppendTo(session);
        return outcome.ToResult();
    }
}
