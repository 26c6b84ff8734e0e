using KetamineBilling.Features.Ui;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Grants;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Studies;

// The study stream (one per sponsored clinical trial). It guards: a session is covered once; payments once
// per reference and never above what the sponsor owes.

public record StudyRegistered(Guid StudyId, string Sponsor, string ProtocolId, decimal PerSessionAmount, DateTimeOffset RegisteredAt);

public record StudyPatientEnrolled(Guid StudyId, Guid PatientId, string SubjectId, DateTimeOffset EnrolledAt);

public record StudySessionCovered(Guid StudyId, Guid PatientId, string SubjectId, Guid SessionId, DateOnly DeliveredOn, decimal Amount, DateTimeOffset CoveredAt);

/// <summary>The session was voided: the sponsor owes nothing for it.</summary>
public record StudySessionReleased(Guid StudyId, Guid SessionId, string Reason, DateTimeOffset ReleasedAt);

public record SponsorPaymentReceived(Guid StudyId, string Reference, decimal Amount, DateOnly ReceivedOn, DateTimeOffset RecordedAt);

public sealed record StudySubject(Guid PatientId, string SubjectId);

public sealed record CoveredStudySession(Guid SessionId, Guid PatientId, string SubjectId, DateOnly DeliveredOn, decimal Amount, decimal Paid);

public sealed class Study
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public string Sponsor { get; set; } = "";
    public string ProtocolId { get; set; } = "";
    public decimal PerSessionAmount { get; set; }
    public List<StudySubject> Subjects { get; set; } = [];
    public List<Guid> SubjectPatientIds { get; set; } = [];
    public List<CoveredStudySession> Sessions { get; set; } = [];
    public List<SponsorPaymentReceived> Payments { get; set; } = [];

    public decimal Owed => Sessions.Sum(s => s.Amount) - Payments.Sum(p => p.Amount);

    public static Study Create(StudyRegistered e) => new() { Id = e.StudyId, Sponsor = e.Sponsor, ProtocolId = e.ProtocolId, PerSessionAmount = e.PerSessionAmount };

    public void Apply(StudyPatientEnrolled e)
    {
        Subjects.Add(new StudySubject(e.PatientId, e.SubjectId));
        SubjectPatientIds.Add(e.PatientId);
    }

    public void Apply(StudySessionCovered e) => Sessions.Add(new CoveredStudySession(e.SessionId, e.PatientId, e.SubjectId, e.DeliveredOn, e.Amount, 0));

    public void Apply(StudySessionReleased e) => Sessions.RemoveAll(s => s.SessionId == e.SessionId);

    public void Apply(SponsorPaymentReceived e)
    {
        Payments.Add(e);
        var left = e.Amount;
        for (var i = 0; i < Sessions.Count && left > 0; i++)
        {
            var take = Math.Min(left, Sessions[i].Amount - Sessions[i].Paid);
            if (take <= 0) continue;
            Sessions[i] = Sessions[i] with { Paid = Sessions[i].Paid + take };
            left -= take;
        }
    }
}

public record StudyFundedSessionDelivered(Guid PatientId, Guid SessionId, DateOnly DeliveredOn, IReadOnlyList<ChargeLine> Lines);

/// <summary>
/// The cascade from a delivered study session: the sponsor owes the contracted per-session amount, the rest of
/// the charge is adjusted off by the study contract, and the patient owes nothing. Without an enrolment, the
/// session is the patient's.
/// </summary>
public static class CoverStudySessionHandler
{
    public static async Task Handle(StudyFundedSessionDelivered message, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var account = await session.Events.FetchForWriting<PatientAccount>(message.PatientId, ct);
        if (account.Aggregate is null) return;
        var study = (await session.Query<Study>().Where(s => s.SubjectPatientIds.Contains(message.PatientId)).ToListAsync(ct)).FirstOrDefault();
        var (covered, events) = Decide(message, account.Aggregate, study, clock.GetUtcNow());
        if (covered is not null)
        {
            var stream = await session.Events.FetchForWriting<Study>(covered.StudyId, ct);
            stream.AppendOne(covered);
        }

        foreach (var e in events) account.AppendOne(e);
    }

    /// <summary>
    /// The decision, pure: the sponsor of the study that enrols the patient owes its per-session amount (never more
    /// than the charge), the rest is the contract's adjustment; without an enrolment the session is the patient's.
    /// </summary>
    public static (StudySessionCovered? Covered, IReadOnlyList<object> AccountEvents) Decide(
        StudyFundedSessionDelivered message, PatientAccount account, Study? study, DateTimeOffset now)
    {
        var target = account.Session(message.SessionId);
        if (target is null || target.Voided || target.Lines.All(l => l.Open.Sponsor == 0)) return (null, []);
        if (study is null || study.Subjects.All(s => s.PatientId != message.PatientId))
        {
            return (null, [new ResponsibilityMoved(message.PatientId,
                target.Lines.Where(l => l.Open.Sponsor > 0).Select(l => new ResponsibilityMove(message.SessionId, l.LineNumber, ResponsibleParty.Sponsor, ResponsibleParty.Patient, l.Open.Sponsor)).ToList(),
                "no study enrolment covers the patient", now)]);
        }

        if (study.Sessions.Any(s => s.SessionId == message.SessionId)) return (null, []);
        var charge = message.Lines.Sum(l => l.Amount);
        var amount = Math.Min(study.PerSessionAmount, charge);
        var covered = new StudySessionCovered(study.Id, message.PatientId, study.Subjects.First(s => s.PatientId == message.PatientId).SubjectId,
            message.SessionId, message.DeliveredOn, amount, now);
        if (charge <= amount) return (covered, []);
        var contract = GrantRules.Spread(message.Lines, charge - amount);
        return (covered, [new ThirdPartyAdjusted(message.PatientId, ResponsibleParty.Sponsor, $"study {study.ProtocolId} contracted rate",
            contract.Select(c => new LineAmount(message.SessionId, c.LineNumber, c.Amount)).ToList(), charge - amount, now)]);
    }
}

public record RegisterStudy(Guid StudyId, string? Sponsor, string? ProtocolId, decimal? PerSessionAmount);

public record StudyCreated(Guid Id) : CreationResponse($"/api/studies/{Id}");

public record EnrollStudyPatient(Guid PatientId, string? SubjectId);

public record RecordSponsorPayment(string? Reference, decimal? Amount, DateOnly? ReceivedOn);

public record StudyStatement(Guid StudyId, string Sponsor, string ProtocolId, string Month, decimal OpeningBalance, IReadOnlyList<CoveredStudySession> SessionsCovered,
    IReadOnlyList<SponsorPaymentReceived> Payments, decimal ClosingBalance);

public static class StudyEndpoints
{
    public static ProblemDetails Validate(RegisterStudy command)
    {
        var problems = new ValidationProblems();
        if (command.StudyId == Guid.Empty) problems.Add("studyId", "is required: a client-made id");
        problems.RequireText("sponsor", command.Sponsor, 120);
        problems.RequireText("protocolId", command.ProtocolId, 60);
        problems.RequirePositive("perSessionAmount", command.PerSessionAmount);
        return problems.ToProblemDetails();
    }

    [WolverinePost("/api/studies"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static async Task<IResult> Post(RegisterStudy command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        if (await session.LoadAsync<Study>(command.StudyId, ct) is { } existing)
        {
            return existing.ProtocolId == command.ProtocolId!.Trim() && existing.PerSessionAmount == command.PerSessionAmount
                ? Results.Ok(new StudyCreated(existing.Id))
                : Problems.Conflict($"study {command.StudyId} exists with other terms");
        }

        session.Events.StartStream<Study>(command.StudyId,
            new StudyRegistered(command.StudyId, command.Sponsor!.Trim(), command.ProtocolId!.Trim(), command.PerSessionAmount!.Value, clock.GetUtcNow()));
        return Results.Created($"/api/studies/{command.StudyId}", new StudyCreated(command.StudyId));
    }
}

public static class EnrollStudyPatientEndpoint
{
    public static ProblemDetails Validate(EnrollStudyPatient command)
    {
        var problems = new ValidationProblems();
        if (command.PatientId == Guid.Empty) problems.Add("patientId", "is required");
        problems.RequireText("subjectId", command.SubjectId, 40);
        return problems.ToProblemDetails();
    }

    [WolverinePost("/api/studies/{studyId}/enrollments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static (IResult, Events) Post(
        EnrollStudyPatient command, [WriteAggregate("studyId", OnMissing = OnMissing.ProblemDetailsWith404)] Study study, TimeProvider clock)
    {
        if (study.Subjects.FirstOrDefault(s => s.PatientId == command.PatientId) is { } existing)
        {
            return existing.SubjectId == command.SubjectId!.Trim()
                ? (Results.Ok(existing), [])
                : (Problems.Conflict($"the patient is enrolled as subject {existing.SubjectId}"), []);
        }

        var enrolled = new StudyPatientEnrolled(study.Id, command.PatientId, command.SubjectId!.Trim(), clock.GetUtcNow());
        return (Results.Created($"/api/studies/{study.Id}/enrollments/{command.PatientId}", enrolled), [enrolled]);
    }
}

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

    /// <summary>Pays the study's sessions oldest first, on each patient's account too; never more than the sponsor owes.</summary>
    [WolverinePost("/api/studies/{studyId}/payments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static async Task<IResult> Post(Guid studyId, RecordSponsorPayment command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var stream = await session.Events.FetchForWriting<Study>(studyId, ct);
        if (stream.Aggregate is not { } study) return Problems.NotFound($"study {studyId} does not exist");
        var reference = command.Reference!.Trim();
        if (study.Payments.FirstOrDefault(p => p.Reference == reference) is { } existing)
            return existing.Amount == command.Amount ? Results.Ok(existing) : Problems.Conflict($"reference {reference} was already recorded with another amount");
        if (command.Amount > study.Owed)
        {
            return Problems.Invalid("amount", $"must not exceed the {Fmt.Money(study.Owed)} the sponsor owes", StatusCodes.Status422UnprocessableEntity);
        }

        var now = clock.GetUtcNow();
        var received = new SponsorPaymentReceived(study.Id, reference, command.Amount!.Value, command.ReceivedOn!.Value, now);
        var after = Snapshot.Copy(study);
        after.Apply(received);
        stream.AppendOne(received);
        foreach (var byPatient in after.Sessions.GroupBy(s => s.PatientId))
        {
            var account = await session.Events.FetchForWriting<PatientAccount>(byPatient.Key, ct);
            var allocations = ThirdPartyShares.ToLines(account.Aggregate!,
                byPatient.Select(c => (c.SessionId, c.Paid - study.Sessions.First(s => s.SessionId == c.SessionId).Paid)), ResponsibleParty.Sponsor);
            if (allocations.Count > 0)
                account.AppendOne(new ThirdPartyPaymentApplied(byPatient.Key, ResponsibleParty.Sponsor, study.Id, reference, allocations, allocations.Sum(a => a.Amount), now));
        }

        return Results.Created($"/api/studies/{study.Id}/payments/{reference}", received);
    }
}

public static class StudyQueries
{
    /// <summary>Every study, by sponsor and protocol.</summary>
    [WolverineGet("/api/studies"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static async Task<IReadOnlyList<Study>> List(IQuerySession session, CancellationToken ct) =>
        (await session.Query<Study>().ToListAsync(ct)).OrderBy(s => s.Sponsor, StringComparer.Ordinal).ThenBy(s => s.ProtocolId, StringComparer.Ordinal).ToList();

    [WolverineGet("/api/studies/{studyId}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static async Task<IResult> Get(Guid studyId, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<Study>(studyId, ct) is { } s ? Results.Ok(s) : Problems.NotFound($"study {studyId} does not exist");

    /// <summary>One statement per study per month: sessions covered (by subject id), payments, balance owed.</summary>
    [WolverineGet("/api/studies/{studyId}/statements/{month}"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Studies")]
    public static async Task<IResult> Statement(Guid studyId, string month, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<Study>(studyId, ct) is not { } study) return Problems.NotFound($"study {studyId} does not exist");
        if (Months.Parse(month) is not var (start, end))
        {
            return Problems.Invalid("month", "must be a month as yyyy-MM", StatusCodes.Status400BadRequest);
        }

        var opening = study.Sessions.Where(s => s.DeliveredOn < start).Sum(s => s.Amount) - study.Payments.Where(p => p.ReceivedOn < start).Sum(p => p.Amount);
        var sessions = study.Sessions.Where(s => s.DeliveredOn >= start && s.DeliveredOn <= end).ToList();
        var payments = study.Payments.Where(p => p.ReceivedOn >= start && p.ReceivedOn <= end).ToList();
        return Results.Ok(new StudyStatement(study.Id, study.Sponsor, study.ProtocolId, month, opening, sessions, payments,
            opening + sessions.Sum(s => s.Amount) - payments.Sum(p => p.Amount)));
    }
}

public static class StudiesModule
{
    public static void AddStudies(this WebApplicationBuilder builder) =>
        builder.Services.ConfigureMarten(opts => opts.Projections.Snapshot<Study>(JasperFx.Events.Projections.SnapshotLifecycle.Inline));
}
