using KetamineBilling.Features.Ui;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Grants;

public record GrantFundedSessionDelivered(Guid PatientId, Guid SessionId, DateOnly DeliveredOn, IReadOnlyList<ChargeLine> Lines);

/// <summary>What a grant-funded session does: the award applied (if any) and the account's events.</summary>
/// <param name="Grant">The award used; null when none covers the session.</param>
public sealed record GrantDecision(Grant? Grant, GrantApplied? Applied, IReadOnlyList<object> AccountEvents);

/// <summary>
/// The cascade from a delivered grant-funded session: applies the patient's award (the clinic's fee-sharing
/// reduction, the grant's share) and gives the rest to the patient. Idempotent: a session is applied once.
/// </summary>
public static class ApplyGrantHandler
{
    public static async Task Handle(GrantFundedSessionDelivered message, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var account = await session.Events.FetchForWriting<PatientAccount>(message.PatientId, ct);
        if (account.Aggregate is null) return;
        var grants = await session.Query<Grant>().Where(g => g.PatientId == message.PatientId).ToListAsync(ct);
        var decision = Decide(message, account.Aggregate, grants, clock.GetUtcNow());
        if (decision.Applied is { } applied)
        {
            var stream = await session.Events.FetchForWriting<Grant>(applied.GrantId, ct);
            stream.AppendOne(applied);
        }

        foreach (var e in decision.AccountEvents) account.AppendOne(e);
    }

    /// <summary>
    /// The decision, pure: which of the patient's awards covers the session (the one expiring first with money and
    /// sessions left), its fee-sharing reduction and share (<see cref="GrantRules"/>), and what is left moves to the
    /// patient. Every amount is worked out from the account as it stands before any of these events.
    /// </summary>
    public static GrantDecision Decide(GrantFundedSessionDelivered message, PatientAccount account, IReadOnlyList<Grant> grants, DateTimeOffset now)
    {
        var target = account.Session(message.SessionId);
        if (target is null || target.Voided || target.Lines.All(l => l.Open.Grant == 0)) return new GrantDecision(null, null, []);

        var grant = grants.Where(g => g.PatientId == message.PatientId && g.ValidFrom <= message.DeliveredOn && message.DeliveredOn <= g.ValidTo
                                      && g.RemainingSessions is null or > 0 && g.RemainingAmount is null or > 0)
            .OrderBy(g => g.ValidTo).FirstOrDefault();
        var reduction = new List<CommittedLine>();
        var share = new List<CommittedLine>();
        GrantApplied? applied = null;
        var events = new List<object>();
        if (grant is not null && grant.Uses.All(u => u.SessionId != message.SessionId))
        {
            var (cut, amount, limitedBy) = GrantRules.Split(grant, message.DeliveredOn, message.Lines.Sum(l => l.Amount));
            reduction = GrantRules.Spread(message.Lines, cut);
            var reduced = message.Lines.Select(l => l with { Amount = l.Amount - (reduction.FirstOrDefault(r => r.LineNumber == l.LineNumber)?.Amount ?? 0) }).ToList();
            share = GrantRules.Spread(reduced, amount);
            applied = new GrantApplied(grant.Id, message.PatientId, message.SessionId, message.DeliveredOn, share.Sum(s => s.Amount), share, cut, limitedBy, now);
            if (cut > 0)
            {
                events.Add(new ThirdPartyAdjusted(message.PatientId, ResponsibleParty.Grant, $"fee sharing with {grant.Organization}: the clinic's share",
                    reduction.Select(r => new LineAmount(message.SessionId, r.LineNumber, r.Amount)).ToList(), cut, now));
            }
        }

        var moves = target.Lines
            .Select(l => (Line: l, Left: l.Open.Grant - (reduction.FirstOrDefault(r => r.LineNumber == l.LineNumber)?.Amount ?? 0)
                                          - (share.FirstOrDefault(s => s.LineNumber == l.LineNumber)?.Amount ?? 0)))
            .Where(x => x.Left > 0)
            .Select(x => new ResponsibilityMove(message.SessionId, x.Line.LineNumber, ResponsibleParty.Grant, ResponsibleParty.Patient, x.Left))
            .ToList();
        if (moves.Count > 0)
        {
            events.Add(new ResponsibilityMoved(message.PatientId, moves, grant is null ? "no grant award covers the date of service" : "beyond the grant's share", now));
        }

        return new GrantDecision(grant, applied, events);
    }
}

public record AwardGrant(
    Guid GrantId, Guid PatientId, string? Organization, decimal? Amount, int? MaxSessions, string? Coverage, decimal? Percentage, decimal? FixedAmount,
    decimal? ClinicSharePercent, decimal? FoundationSharePercent, DateOnly? ValidFrom, DateOnly? ValidTo);

public record GrantCreated(Guid Id) : CreationResponse($"/api/grants/{Id}");

public record GrantView(
    Guid Id, Guid PatientId, string Organization, GrantRule Rule, DateOnly ValidFrom, DateOnly ValidTo, decimal? Awarded, int? MaxSessions, decimal Applied,
    decimal Received, decimal Outstanding, decimal? RemainingAmount, int? RemainingSessions, decimal ClinicReductions, IReadOnlyList<GrantUse> Uses)
{
    public static GrantView From(Grant g) => new(g.Id, g.PatientId, g.Organization, g.Rule, g.ValidFrom, g.ValidTo, g.Amount, g.MaxSessions, g.Applied, g.Received,
        g.Applied - g.Received, g.RemainingAmount, g.RemainingSessions, g.Uses.Sum(u => u.ClinicReduction), g.Uses);
}

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

    [WolverinePost("/api/grants"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Grants")]
    public static async Task<IResult> Post(AwardGrant command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        if (await session.LoadAsync<PatientAccount>(command.PatientId, ct) is null)
        {
            return Problems.Invalid("patientId", "is not a patient", StatusCodes.Status422UnprocessableEntity);
        }

        var rule = new GrantRule(ApiEnum.Parse<GrantCoverage>(new ValidationProblems(), "coverage", command.Coverage)!.Value, command.Percentage, command.FixedAmount,
            command.ClinicSharePercent, command.FoundationSharePercent);
        var awarded = new GrantAwarded(command.GrantId, command.PatientId, command.Organization!.Trim(), command.Amount, command.MaxSessions, rule,
            command.ValidFrom!.Value, command.ValidTo!.Value, clock.GetUtcNow());
        if (await session.LoadAsync<Grant>(command.GrantId, ct) is { } existing)
        {
            return existing.PatientId == awarded.PatientId && existing.Rule == rule && existing.Amount == awarded.Amount && existing.MaxSessions == awarded.MaxSessions
                ? Results.Ok(new GrantCreated(existing.Id))
                : Problems.Conflict($"grant {command.GrantId} was already awarded with other terms");
        }

        session.Events.StartStream<Grant>(command.GrantId, awarded);
        return Results.Created($"/api/grants/{command.GrantId}", new GrantCreated(command.GrantId));
    }
}

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

    /// <summary>Money from the organization pays the grant's sessions oldest first, on the patient's account too.</summary>
    [WolverinePost("/api/grants/{grantId}/funds"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Grants")]
    public static async Task<IResult> Post(Guid grantId, ReceiveGrantFunds command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Grant>(grantId, ct);
        if (stream.Aggregate is not { } grant) return Problems.NotFound($"grant {grantId} does not exist");
        var reference = command.Reference!.Trim();
        if (grant.Funds.FirstOrDefault(f => f.Reference == reference) is { } existing)
        {
            return existing.Amount == command.Amount ? Results.Ok(GrantView.From(grant)) : Problems.Conflict($"funds reference {reference} was already recorded with another amount");
        }

        if (command.Amount > grant.Applied - grant.Received)
        {
            return Problems.Invalid("amount", $"must not exceed the {Fmt.Money(grant.Applied - grant.Received)} the grant owes for sessions applied", StatusCodes.Status422UnprocessableEntity);
        }

        var now = clock.GetUtcNow();
        var received = new GrantFundsReceived(grant.Id, reference, command.Amount!.Value, command.ReceivedOn!.Value, now);
        var after = Snapshot.Copy(grant);
        after.Apply(received);
        stream.AppendOne(received);

        var account = await session.Events.FetchForWriting<PatientAccount>(grant.PatientId, ct);
        var allocations = ThirdPartyShares.ToLines(account.Aggregate!,
            after.Uses.Select(u => (u.SessionId, u.Received - grant.Uses.First(x => x.SessionId == u.SessionId).Received)), ResponsibleParty.Grant);
        if (allocations.Count > 0)
        {
            account.AppendOne(new ThirdPartyPaymentApplied(grant.PatientId, ResponsibleParty.Grant, grant.Id, reference, allocations, allocations.Sum(a => a.Amount), now));
        }

        return Results.Ok(GrantView.From(after));
    }
}

public record OrganizationUtilization(string Organization, int Grants, decimal Awarded, decimal Applied, decimal Received, decimal Outstanding);

public static class GrantQueries
{
    [WolverineGet("/api/grants/{grantId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Grants")]
    public static async Task<IResult> Get(Guid grantId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Grant>(grantId, ct) is { } g ? Results.Ok(GrantView.From(g)) : Problems.NotFound($"grant {grantId} does not exist");

    [WolverineGet("/api/grants"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Grants")]
    public static async Task<IReadOnlyList<GrantView>> List(Guid? patientId, string? organization, IQuerySession session, CancellationToken ct)
    {
        IQueryable<Grant> query = session.Query<Grant>();
        if (patientId is { } p) query = query.Where(g => g.PatientId == p);
        if (!string.IsNullOrWhiteSpace(organization)) query = query.Where(g => g.Organization == organization);
        return (await query.ToListAsync(ct)).Select(GrantView.From).ToList();
    }

    [WolverineGet("/api/grants/organizations"), Authorize(Policy = Policies.Staff)]
    [Tags("Grants")]
    public static async Task<IReadOnlyList<OrganizationUtilization>> ByOrganization(IQuerySession session, CancellationToken ct) =>
        (await session.Query<Grant>().ToListAsync(ct)).GroupBy(g => g.Organization)
            .Select(g => new OrganizationUtilization(g.Key, g.Count(), g.Sum(x => x.Amount ?? 0), g.Sum(x => x.Applied), g.Sum(x => x.Received),
                g.Sum(x => x.Applied - x.Received)))
            .OrderBy(o => o.Organization).ToList();
}

public static class GrantsModule
{
    public static void AddGrants(this WebApplicationBuilder builder) => builder.Services.ConfigureMarten(opts =>
    {
        opts.Projections.Snapshot<Grant>(JasperFx.Events.Projections.SnapshotLifecycle.Inline);
        opts.Schema.For<Grant>().Index(g => g.PatientId);
    });
}
