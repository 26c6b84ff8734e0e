using System.Text;
using KetamineBilling.Features.Clearinghouse;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Eligibility.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Eligibility;

/// <summary>
/// A 270 eligibility inquiry file: its number is the interchange control number (ISA13); each member asked about is an
/// <see cref="EligibilityInquiry"/> under its trace.
/// </summary>
public sealed class EligibilityInquiryBatch
{
    public int Id { get; set; }

    /// <summary>The client's id of the request: the same id again answers the same file.</summary>
    public Guid RequestId { get; set; }

    /// <summary>The patient asked about on demand (null: a batch for the visits of the next days).</summary>
    public Guid? PatientId { get; set; }

    /// <summary>The days ahead a batch covered (null: one patient on demand).</summary>
    public int? Days { get; set; }

    public List<string> Traces { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public string File { get; set; } = "";

    /// <summary>When the file was queued for the clinic's clearinghouse (null: none is set up; it is downloaded by hand).</summary>
    public DateTimeOffset? ClearinghouseQueuedAt { get; set; }

    /// <summary>When the clearinghouse exchange put it in the outbox.</summary>
    public DateTimeOffset? ClearinghouseSentAt { get; set; }
}

/// <summary>One member asked about in a 270, under the trace (TRN*1) the payer's 271 echoes (TRN*2): how its answer finds the coverage.</summary>
/// <param name="Id">The trace.</param>
/// <param name="VisitId">The visit it was asked for (a batch), if any.</param>
public sealed record EligibilityInquiry(string Id, int BatchId, Guid PatientId, Guid CoverageId, Guid PayerId, DateOnly ServiceDate, Guid? VisitId);

/// <param name="RequestId">Made by the client: the idempotency key (the same id again answers the same 270).</param>
/// <param name="PatientId">Ask about one patient now: their coverage (<paramref name="CoverageId"/>, else the primary active on the day).</param>
/// <param name="ServiceDate">The day asked about (default today).</param>
/// <param name="Days">Or ask about the insured visits of the next this many days (1 to 14) that have no current answer.</param>
public record RequestEligibility(Guid RequestId, Guid? PatientId = null, Guid? CoverageId = null, DateOnly? ServiceDate = null, int? Days = null);

/// <summary>A member to ask about: the account, its coverage, the coverage's payer, the day, and the visit it is for.</summary>
public sealed record EligibilityCandidate(PatientAccount Account, CoverageRecorded Coverage, Payer? Payer, DateOnly ServiceDate, Guid? VisitId);

public static class RequestEligibilityEndpoint
{
    public const int MaxDays = 14;
    public const int MaxMembers = 500;

    /// <summary>
    /// The service types asked about: the plan (30), which obliges the payer to answer its baseline types, mental health among
    /// them, and mental health (MH) itself (docs/x12.md, "Eligibility: 270 and 271").
    /// </summary>
    public static readonly IReadOnlyList<string> ServiceTypes = ["30", "MH"];

    public static ProblemDetails Validate(RequestEligibility command)
    {
        var problems = new ValidationProblems();
        if (command.RequestId == Guid.Empty) problems.Add("requestId", "is required: a client-made id (the same id again answers the same file)");
        if (command.PatientId is null && command.Days is null) problems.Add("patientId", "or days is required: one patient now, or the visits of the next days");
        if (command.PatientId is not null && command.Days is not null) problems.Add("days", "is given either with patientId or alone, not both");
        if (command.Days is { } days && days is < 1 or > MaxDays) problems.Add("days", $"must be from 1 to {MaxDays}");
        if (command.PatientId is null && (command.CoverageId is not null || command.ServiceDate is not null))
            problems.Add("coverageId", "and serviceDate are given only with patientId");
        return problems.ToProblemDetails();
    }

    /// <summary>The trace (TRN02) of one member's inquiry: the request's and the member's place in it.</summary>
    public static string Trace(Guid requestId, int position) => $"{requestId.ToString("N")[..12].ToUpperInvariant()}-{position}";

    /// <summary>
    /// The members a batch asks about: each insured visit of the days after <paramref name="today"/> up to <paramref name="days"/>
    /// ahead, not cancelled, whose primary coverage has no current answer; a coverage once (its earliest visit).
    /// </summary>
    public static IReadOnlyList<EligibilityCandidate> ForVisits(IEnumerable<(PatientAccount Account, ScheduledVisit Visit)> visits, Func<Guid, Payer?> payerOf, DateOnly today, int days) =>
        visits.Where(x => !x.Visit.Cancelled && x.Visit.On > today && x.Visit.On <= today.AddDays(days))
            .OrderBy(x => x.Visit.On).ThenBy(x => x.Visit.Time)
            .Select(x => (x.Account, x.Visit, Eligibility: EligibilityOnAccount.ForVisit(x.Account, x.Visit)))
            .Where(x => x.Eligibility.Coverage is not null && x.Eligibility.Status != "current")
            .DistinctBy(x => x.Eligibility.Coverage!.CoverageId)
            .Select(x => new EligibilityCandidate(x.Account, x.Eligibility.Coverage!, payerOf(x.Eligibility.Coverage!.PayerId), x.Visit.On, x.Visit.VisitId))
            .Take(MaxMembers).ToList();

    /// <summary>
    /// The request's decision: the one made before under this id answers again (another patient or span under it: 409);
    /// else one patient's coverage (the one named, else the primary active on the day), or the batch's members; each
    /// member's payer must have its X12 payer id. Answered with the batch (its file is written once it has its number).
    /// </summary>
    public static Outcome Decide(
        EligibilityInquiryBatch? existing, RequestEligibility command, PatientAccount? account, IReadOnlyList<EligibilityCandidate> batch,
        Func<Guid, Payer?> payerOf, DateOnly today, string createdBy, DateTimeOffset now)
    {
        if (existing is not null)
        {
            return existing.PatientId == command.PatientId && existing.Days == command.Days
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"eligibility request {command.RequestId} was already made ({existing.Id:D9}) for other members");
        }

        IReadOnlyList<EligibilityCandidate> members;
        if (command.PatientId is not null)
        {
            if (account is null) return Outcome.NotFound($"patient {command.PatientId} does not exist");
            var day = command.ServiceDate ?? today;
            CoverageRecorded? coverage;
            if (command.CoverageId is { } coverageId)
            {
                coverage = account.Coverages.FirstOrDefault(c => c.CoverageId == coverageId);
                if (coverage is null) return Outcome.Reject("coverageId", $"{coverageId} is not one of the patient's insurance coverages");
            }
            else
            {
                coverage = account.InsuranceOn(day).FirstOrDefault();
                if (coverage is null) return Outcome.Reject("patientId", $"has no insurance coverage active on {day:yyyy-MM-dd}: record the coverage first");
            }

            members = [new EligibilityCandidate(account, coverage, payerOf(coverage.PayerId), day, null)];
        }
        else
        {
            if (batch.Count == 0) return Outcome.Reject("days", $"no insured visit in the next {command.Days} day(s) is without a current eligibility answer");
            members = batch;
        }

        var problems = new ValidationProblems();
        foreach (var m in members)
        {
            if (m.Payer is null) problems.Add(command.PatientId is null ? "days" : "coverageId", $"the coverage of {m.Account.Name} names a payer that does not exist");
            else if (string.IsNullOrWhiteSpace(m.Payer.PayerId))
                problems.Add(command.PatientId is null ? "days" : "coverageId", $"{m.Payer.Name} has no X12 payer id: add it on the payer before asking it");
        }

        if (problems.Any) return Outcome.Reject(problems);
        var file = new EligibilityInquiryBatch
        {
            RequestId = command.RequestId, PatientId = command.PatientId, Days = command.Days, CreatedAt = now, CreatedBy = createdBy,
            Traces = members.Select((_, i) => Trace(command.RequestId, i + 1)).ToList()
        };
        return Outcome.Ok(file);
    }

    /// <summary>
    /// A 270 eligibility inquiry (005010X279A1) as text/plain: for one patient's coverage now, or for the insured visits of the
    /// next days without a current answer. Queued for the clinic's clearinghouse when one is set up; the payer's 271 comes
    /// back through POST /api/eligibility-answers or the clearinghouse's inbox.
    /// </summary>
    [WolverinePost("/api/eligibility-inquiries"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Eligibility")]
    public static async Task<IResult> Post(
        RequestEligibility command, IDocumentSession session, ClinicProfiles profiles, IConfiguration configuration, HttpContext http, TimeProvider clock,
        ClinicCalendar calendar, IClearinghouse clearinghouse, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var today = calendar.Today();
        var existing = await session.Query<EligibilityInquiryBatch>().FirstOrDefaultAsync(b => b.RequestId == command.RequestId, ct);
        if (existing is not null && existing.PatientId == command.PatientId && existing.Days == command.Days)
            return Results.Text(existing.File, "text/plain", Encoding.ASCII);

        var payers = (await session.Query<Payer>().ToListAsync(ct)).ToDictionary(p => p.Id);
        PatientAccount? account = null;
        IReadOnlyList<EligibilityCandidate> batch = [];
        if (existing is null && command.PatientId is { } patientId) account = await session.LoadAsync<PatientAccount>(patientId, ct);
        else if (existing is null && command.Days is { } days)
        {
            var visitDays = await session.Query<VisitDay>().Where(v => v.On > today && v.On <= today.AddDays(days)).ToListAsync(ct);
            var accounts = (await session.LoadManyAsync<PatientAccount>(ct, visitDays.Select(v => v.PatientId).Distinct().ToArray())).ToDictionary(a => a.Id);
            batch = ForVisits(visitDays.Where(v => accounts.ContainsKey(v.PatientId)).Select(v => (accounts[v.PatientId], accounts[v.PatientId].Visits.First(x => x.VisitId == v.Id))),
                payers.GetValueOrDefault, today, days);
        }

        var outcome = Decide(existing, command, account, batch, payers.GetValueOrDefault, today, http.User.FindFirst(UserClaims.UserId)?.Value ?? "", now);
        if (outcome is not Outcome.Accepted { Answer: EligibilityInquiryBatch file }) return outcome.ToResult();

        var members = account is not null
            ? [new EligibilityCandidate(account, account.CoverageFor(command.CoverageId ?? Guid.Empty) ?? account.InsuranceOn(command.ServiceDate ?? today).First(),
                null, command.ServiceDate ?? today, null)]
            : batch;
        // Queued in the same transaction: the exchange sends it whatever happens to this node after the answer.
        file.ClearinghouseQueuedAt = clearinghouse.Enabled ? now : null;
        // Storing assigns the file its number (the interchange control number) before it is written.
        session.Store(file);
        var clinic = await profiles.CurrentAsync(session, ct);
        var inquiries = members.Select((m, i) => new Eligibility270(m.Account, m.Coverage, payers[m.Coverage.PayerId], m.ServiceDate, file.Traces[i], ServiceTypes)).ToList();
        file.File = new Eligibility270Writer(clinic, configuration["Clinic:ClearinghouseId"] ?? "CLEARINGHOUSE", configuration.GetValue("Clinic:X12Production", false))
            .Write(inquiries, file.Id, TimeZoneInfo.ConvertTime(now, calendar.Zone));
        for (var i = 0; i < members.Count; i++)
        {
            var m = members[i];
            session.Insert(new EligibilityInquiry(file.Traces[i], file.Id, m.Account.Id, m.Coverage.CoverageId, m.Coverage.PayerId, m.ServiceDate, m.VisitId));
        }

        await session.SaveChangesAsync(ct);
        return Results.Text(file.File, "text/plain", Encoding.ASCII);
    }
}
