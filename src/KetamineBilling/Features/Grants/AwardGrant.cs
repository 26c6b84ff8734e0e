using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Grants;

public record AwardGrant(
    Guid GrantId, Guid PatientId, string? Organization, decimal? Amount, int? MaxSessions, string? Coverage, decimal? Percentage, decimal? FixedAmount,
    decimal? ClinicSharePercent, decimal? FoundationSharePercent, DateOnly? ValidFrom, DateOnly? ValidTo);

public record GrantCreated(Guid Id) : CreationResponse($"/api/grants/{Id}");

public static class AwardGrantEndpoint
{
    public static ProblemDetails Validate(AwardGrant command)
    {
        var problems = new ValidationProblems();
        if (command.GrantId == Guid.Empty) problems.Add("grantId", "is required: a client-made id");
        if (command.PatientId == Guid.Empty) problems.Add("patientId", "is required");
        problems.RequireText("organization", command.Organization, 120);
        if (command.Amount is null && command.MaxSessions is null) problems.Add("amount", "give an amount, a maximum of sessions, or both");
        if (command.Amount is not null) problems.RequirePositive("amount", command.Amount);
        if (command.MaxSessions is < 1) problems.Add("maxSessions", "must be at least 1");
        var coverage = ApiEnum.Parse<GrantCoverage>(problems, "coverage", command.Coverage);
        bool Percent(decimal? p) => p is > 0 and <= 100;
        if (coverage == GrantCoverage.Percentage && !Percent(command.Percentage)) problems.Add("percentage", "must be above 0 and at most 100");
        if (coverage == GrantCoverage.FixedPerSession) problems.RequirePositive("fixedAmount", command.FixedAmount);
        if (coverage == GrantCoverage.FeeSharing)
        {
            if (command.ClinicSharePercent is not (>= 0 and < 100)) problems.Add("clinicSharePercent", "must be from 0 to under 100");
            if (!Percent(command.FoundationSharePercent)) problems.Add("foundationSharePercent", "must be above 0 and at most 100");
        }

        if (command.ValidFrom is null) problems.Add("validFrom", "is required");
        if (command.ValidTo is null) problems.Add("validTo", "is required");
        else if (command.ValidTo < command.ValidFrom) problems.Add("validTo", "must be on or after validFrom");
        return problems.ToProblemDetails();
    }

    /// <summary>The award starts the grant's stream; the same id again is a replay when the terms agree, else a conflict.</summary>
    public static Outcome Decide(Grant? existing, AwardGrant command, bool patientExists, DateTimeOffset now)
    {
        if (!patientExists) return Outcome.Reject("patientId", "is not a patient");
        var rule = new GrantRule(ApiEnum.Parse<GrantCoverage>(new ValidationProblems(), "coverage", command.Coverage)!.Value, command.Percentage, command.FixedAmount,
            command.ClinicSharePercent, command.FoundationSharePercent);
        var awarded = new GrantAwarded(command.GrantId, command.PatientId, command.Organization!.Trim(), command.Amount, command.MaxSessions, rule,
            command.ValidFrom!.Value, command.ValidTo!.Value, now);
        if (existing is not null)
        {
            return existing.PatientId == awarded.PatientId && existing.Rule == rule && existing.Amount == awarded.Amount && existing.MaxSessions == awarded.MaxSessions
                ? Outcome.Replay(new GrantCreated(existing.Id))
                : Outcome.Conflict($"grant {command.GrantId} was already awarded with other terms");
        }

        return Outcome.Created($"/api/grants/{command.GrantId}", new GrantCreated(command.GrantId)).Start<Grant>(command.GrantId, awarded);
    }

    [WolverinePost("/api/grants"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Grants")]
    public static async Task<IResult> Post(AwardGrant command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var patientExists = await session.LoadAsync<PatientAccount>(command.PatientId, ct) is not null;
        var outcome = Decide(patientExists ? await session.LoadAsync<Grant>(command.GrantId, ct) : null, command, patientExists, clock.GetUtcNow());
        outcome.AppendTo(session);
        return outcome.ToResult();
    }
}
