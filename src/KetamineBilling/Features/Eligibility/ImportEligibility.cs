using System.Security.Cryptography;
using System.Text;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Eligibility.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Eligibility;

/// <summary>What one member's answer in a 271 did: recorded on the patient's coverage, recorded before, or matched to none.</summary>
/// <param name="Position">The answer's place in the file (1 first).</param>
/// <param name="Effect">recorded, already-recorded or unmatched.</param>
public sealed record EligibilityResult(
    int Position, string? Trace, string? MemberId, string? Member, Guid? PatientId, Guid? CoverageId, string Effect, bool? Active, string Detail);

/// <summary>An imported 271: kept so the same file again (the same sender and interchange control number) answers what it did the first time.</summary>
public sealed class EligibilityAnswerFile
{
    public Guid Id { get; set; }
    public string SenderId { get; set; } = "";
    public string InterchangeControlNumber { get; set; } = "";
    public string ContentHash { get; set; } = "";
    public DateTimeOffset ReceivedAt { get; set; }
    public string ReceivedBy { get; set; } = "";
    public List<EligibilityResult> Results { get; set; } = [];
}

/// <param name="Duplicate">True when the same file was imported before: nothing changed.</param>
public sealed record EligibilityImport(
    Guid Id, string SenderId, string InterchangeControlNumber, IReadOnlyList<EligibilityResult> Results, int Recorded, int Unmatched, DateTimeOffset ReceivedAt,
    bool Duplicate = false)
{
    public static EligibilityImport From(EligibilityAnswerFile f, bool duplicate = false) =>
        new(f.Id, f.SenderId, f.InterchangeControlNumber, f.Results, f.Results.Count(r => r.Effect == "recorded"), f.Results.Count(r => r.Effect == "unmatched"),
            f.ReceivedAt, duplicate);
}

/// <summary>One member's answer with what it was matched to: the inquiry its trace names, else the one coverage with its member id.</summary>
public sealed record EligibilityMatch(int Position, Eligibility271 Answer, PatientAccount? Account, CoverageRecorded? Coverage, EligibilityInquiry? Inquiry);

public static class ImportEligibilityEndpoint
{
    public const int MaxBytes = ImportAcknowledgmentEndpoint.MaxBytes;

    public static Guid FileId(X12Interchange interchange) =>
        DeterministicGuid.From(Guid.Parse("8f7d0c1e-2b3a-4c5d-9e6f-71829a3b4c5d"), $"271:{interchange.SenderId.Trim()}:{interchange.ControlNumber}");

    /// <summary>
    /// The import's decision: the same file again answers its first result (other content under the same sender and control
    /// number: 409); else each matched answer is recorded on its patient's coverage (once: an answer recorded before is not
    /// again), and an answer matched to no coverage is listed as unmatched.
    /// </summary>
    public static Outcome Decide(
        EligibilityAnswerFile? existing, Guid id, X12Interchange interchange, string hash, IReadOnlyList<EligibilityMatch> matches, DateOnly today, string receivedBy,
        DateTimeOffset now)
    {
        if (existing is not null)
        {
            return existing.ContentHash == hash
                ? Outcome.Replay(EligibilityImport.From(existing, duplicate: true))
                : Outcome.Conflict($"interchange {interchange.ControlNumber} from {interchange.SenderId.Trim()} was already imported with other content");
        }

        var file = new EligibilityAnswerFile
        {
            Id = id, SenderId = interchange.SenderId.Trim(), InterchangeControlNumber = interchange.ControlNumber, ContentHash = hash, ReceivedAt = now, ReceivedBy = receivedBy
        };
        var source = $"271 {file.SenderId}/{file.InterchangeControlNumber}";
        Outcome.Accepted outcome = Outcome.Ok(file);
        var accounts = new Dictionary<Guid, PatientAccount>();
        foreach (var m in matches)
        {
            var answer = m.Answer;
            var summary = EligibilitySummary.From(answer);
            var member = string.Join(' ', new[] { answer.FirstName, answer.LastName }.Where(n => !string.IsNullOrEmpty(n)));
            if (m.Account is null || m.Coverage is null)
            {
                var why = answer.Trace is null && answer.MemberId is null
                    ? "the payer answered no member"
                    : $"no inquiry has the trace {answer.Trace ?? "(none)"} and no one coverage at {answer.PayerName} has the member id {answer.MemberId ?? "(none)"} for {member}";
                file.Results.Add(new EligibilityResult(m.Position, answer.Trace, answer.MemberId, member, null, null, "unmatched", summary.Active,
                    summary.Rejections.Count > 0 ? $"{why}; {string.Join("; ", summary.Rejections)}" : why));
                continue;
            }

            // A patient answered twice in one file is decided on as the first answer left the account.
            var account = accounts.GetValueOrDefault(m.Account.Id) ?? Snapshot.Copy(m.Account);
            accounts[account.Id] = account;
            var check = EligibilityOnAccount.Checked(account, m.Coverage.CoverageId, DeterministicGuid.From(id, $"answer:{m.Position}"), answer.AnsweredOn ?? today,
                m.Inquiry?.ServiceDate, source, answer.Trace, summary, answer.PlanBegin, answer.PlanEnd, now);
            if (check is not null)
            {
                account.Apply(check);
                outcome = outcome.Append(account.Id, check);
            }

            file.Results.Add(new EligibilityResult(m.Position, answer.Trace, answer.MemberId, member, account.Id, m.Coverage.CoverageId,
                check is null ? "already-recorded" : "recorded", summary.Active, Describe(summary)));
        }

        return outcome;
    }

    /// <summary>The answer in a line: active or not, the plan, what remains of the deductible, the copay and coinsurance, or why it was refused.</summary>
    public static string Describe(EligibilitySummary s)
    {
        if (s.Active is null && s.Rejections.Count > 0) return $"not answered: {string.Join("; ", s.Rejections)}";
        var parts = new List<string> { s.Active switch { true => "active", false => "inactive", null => "status not given" } };
        if (s.Plan is { } plan) parts.Add(plan);
        if (s.Deductible?.Remaining is { } deductible) parts.Add($"deductible left {Fmt.Money(deductible)}");
        if (s.Copay is { } copay) parts.Add($"copay {Fmt.Money(copay)}");
        if (s.Coinsurance is { } coinsurance) parts.Add($"coinsurance {coinsurance:0.##}%");
        if (s.AuthorizationRequired == true) parts.Add("authorization required");
        return string.Join(", ", parts);
    }

    /// <summary>
    /// Imports one 271 file's text, from an upload or the clearinghouse's inbox: each member's answer is matched by the trace
    /// it echoes to the 270 that asked, else by its member id to the one coverage that has it, and recorded there. The same
    /// file again is replayed; a file that is not a 271 is a 400 naming <c>file</c>.
    /// </summary>
    public static async Task<Outcome> ImportAsync(IDocumentSession session, string text, string receivedBy, DateOnly today, DateTimeOffset now, CancellationToken ct)
    {
        X12Interchange interchange;
        try
        {
            interchange = X12Reader.Read(text);
        }
        catch (X12FormatException e)
        {
            return Outcome.Reject("file", $"is not a readable X12 interchange: {e.Message}", StatusCodes.Status400BadRequest);
        }

        if (!interchange.Transactions.Any(t => t.Code == "271"))
            return Outcome.Reject("file", "holds no 271 eligibility answer (005010X279A1)", StatusCodes.Status400BadRequest);

        var id = FileId(interchange);
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var existing = await session.LoadAsync<EligibilityAnswerFile>(id, ct);
        var matches = existing is null ? await MatchAsync(session, Eligibility271Reader.Read(interchange), today, ct) : [];
        var outcome = Decide(existing, id, interchange, hash, matches, today, receivedBy, now);
        if (outcome is not Outcome.Accepted { Answer: EligibilityAnswerFile file } accepted) return outcome;

        // Each account is appended at the version it was read at (the inline account document must fold every event): an
        // account that changed meanwhile loses the race, and the request is decided again (an upload) or the file tried again
        // at the next exchange. The file's own record, inserted, never replaced, makes the same file imported twice record once.
        var read = matches.Where(m => m.Account is not null).GroupBy(m => m.Account!.Id).ToDictionary(g => g.Key, g => g.First().Account!.Version);
        foreach (var change in accepted.Streams.GroupBy(s => (Guid)s.StreamId))
        {
            var events = change.SelectMany(s => s.Events).ToList();
            session.Events.Append(change.Key, read[change.Key] + events.Count, events);
        }

        session.Insert(file);
        await session.SaveChangesAsync(ct);
        return Outcome.Ok(EligibilityImport.From(file));
    }

    /// <summary>
    /// Each answer's inquiry (by its trace) and coverage; else the one coverage, of any patient, with its member id at the payer
    /// that answered (its NM1*PR id), the patient's or subscriber's last name the answer's (active on the day first).
    /// </summary>
    private static async Task<IReadOnlyList<EligibilityMatch>> MatchAsync(IQuerySession session, IReadOnlyList<Eligibility271> answers, DateOnly today, CancellationToken ct)
    {
        var payers = (await session.Query<Payers.Payer>().ToListAsync(ct)).ToDictionary(p => p.Id);
        bool SamePayer(CoverageRecorded c, Eligibility271 answer) =>
            answer.PayerId is null || (payers.TryGetValue(c.PayerId, out var payer) && string.Equals(payer.PayerId, answer.PayerId.Trim(), StringComparison.OrdinalIgnoreCase));
        static bool Named(string? expected, string? actual) => expected is null || string.Equals(expected.Trim(), actual?.Trim(), StringComparison.OrdinalIgnoreCase);
        var traces = answers.Select(a => a.Trace).OfType<string>().Distinct().ToArray();
        var inquiries = traces.Length == 0 ? new Dictionary<string, EligibilityInquiry>()
            : (await session.LoadManyAsync<EligibilityInquiry>(ct, traces)).ToDictionary(i => i.Id);
        var byTrace = inquiries.Values.Select(i => i.PatientId).Distinct().ToArray();
        var accounts = byTrace.Length == 0 ? [] : (await session.LoadManyAsync<PatientAccount>(ct, byTrace)).ToDictionary(a => a.Id);
        var matches = new List<EligibilityMatch>();
        for (var i = 0; i < answers.Count; i++)
        {
            var answer = answers[i];
            if (answer.Trace is { } trace && inquiries.TryGetValue(trace, out var inquiry) && accounts.TryGetValue(inquiry.PatientId, out var asked)
                && asked.Coverages.FirstOrDefault(c => c.CoverageId == inquiry.CoverageId) is { } coverage)
            {
                matches.Add(new EligibilityMatch(i + 1, answer, asked, coverage, inquiry));
                continue;
            }

            PatientAccount? account = null;
            CoverageRecorded? byMember = null;
            if (answer.MemberId is { Length: > 0 } memberId)
            {
                var holders = (await session.Query<PatientAccount>().Where(a => a.Coverages.Any(c => c.MemberId == memberId)).Take(20).ToListAsync(ct))
                    .Select(h => (Account: h, Coverages: h.Coverages.Where(c => c.MemberId == memberId && SamePayer(c, answer)).ToList()))
                    .Where(h => h.Coverages.Count > 0)
                    // The subscriber is the patient or the coverage's subscriber; a dependent (who shares the member id) is the patient.
                    .Where(h => answer.Dependent
                        ? Named(answer.LastName, h.Account.LastName) && Named(answer.FirstName, h.Account.FirstName)
                        : h.Coverages.Any(c => Named(answer.LastName, c.Subscriber?.LastName ?? h.Account.LastName)))
                    .ToList();
                if (holders.Count == 1)
                {
                    account = holders[0].Account;
                    var candidates = holders[0].Coverages;
                    byMember = candidates.FirstOrDefault(c => c.ActiveOn(today)) ?? candidates.OrderBy(c => c.ActiveFrom).LastOrDefault();
                }
            }

            matches.Add(new EligibilityMatch(i + 1, answer, byMember is null ? null : account, byMember, null));
        }

        return matches;
    }

    /// <summary>
    /// Imports a 271 eligibility answer (the text body, or a multipart form's <c>file</c>): each member's answer recorded on the
    /// patient's coverage. The same file again answers the same result (<c>duplicate: true</c>) and changes nothing.
    /// </summary>
    [WolverinePost("/api/eligibility-answers"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Eligibility")]
    public static async Task<IResult> Post(HttpRequest request, IDocumentSession session, ClinicCalendar calendar, TimeProvider clock, CancellationToken ct)
    {
        var (text, tooBig) = await ImportAcknowledgmentEndpoint.BodyAsync(request, ct);
        if (tooBig) return Outcome.Problem(StatusCodes.Status413PayloadTooLarge, "The file is too large", $"a 271 file is at most {MaxBytes / 1024 / 1024} MB").ToResult();
        return (await ImportAsync(session, text ?? "", request.HttpContext.User.FindFirst(UserClaims.UserId)?.Value ?? "", calendar.Today(), clock.GetUtcNow(), ct))
            .ToResult();
    }
}
