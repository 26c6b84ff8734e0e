using System.Security.Cryptography;
using System.Text;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Claims;

/// <summary>What one acknowledgment did to one claim (or could not: no claim has the number).</summary>
/// <param name="Effect">rejected, acknowledged, noted (history only), already-recorded, or unmatched.</param>
public sealed record AcknowledgmentResult(Guid? ClaimId, string ControlNumber, string Outcome, string Effect, string Detail);

/// <summary>
/// An imported acknowledgment file (999 or 277CA): kept so the same file again (the same sender and interchange control
/// number) answers what it did the first time, and listed with its results.
/// </summary>
public sealed class ClaimAcknowledgmentFile
{
    public Guid Id { get; set; }

    /// <summary>999 or 277CA.</summary>
    public string Kind { get; set; } = "";

    public string SenderId { get; set; } = "";
    public string InterchangeControlNumber { get; set; } = "";
    public string ContentHash { get; set; } = "";
    public DateTimeOffset ReceivedAt { get; set; }
    public string ReceivedBy { get; set; } = "";
    public List<AcknowledgmentResult> Results { get; set; } = [];

    public int Rejected => Results.Count(r => r.Effect == "rejected");
    public int Unmatched => Results.Count(r => r.Effect == "unmatched");
}

/// <param name="Duplicate">True when the same file was imported before: nothing changed.</param>
public sealed record AcknowledgmentImport(Guid Id, string Kind, string SenderId, string InterchangeControlNumber, IReadOnlyList<AcknowledgmentResult> Results,
    int Rejected, int Unmatched, DateTimeOffset ReceivedAt, bool Duplicate = false)
{
    public static AcknowledgmentImport From(ClaimAcknowledgmentFile f, bool duplicate = false) =>
        new(f.Id, f.Kind, f.SenderId, f.InterchangeControlNumber, f.Results, f.Rejected, f.Unmatched, f.ReceivedAt, duplicate);
}

/// <summary>One claim's part of an acknowledgment, as read: the claim it names (null: none has the number) and what it says.</summary>
public sealed record ClaimAnswer(Claim? Claim, string ControlNumber, string Outcome, string Detail, string? PayerClaimNumber = null);

public static class ImportAcknowledgmentEndpoint
{
    /// <summary>Acknowledgment files are small; a bigger upload is refused (413).</summary>
    public const int MaxBytes = 5 * 1024 * 1024;

    /// <summary>
    /// What one acknowledgment does to one claim. Rejected (999 IK5 R, 277CA A3/A6/A7/A8): a claim awaiting the payer is
    /// rejected with the reason and its sessions are free to correct and file again. Accepted by the payer (277CA A2/A5): a
    /// filed claim is acknowledged, keeping the payer's claim number. Anything else (999 accepted, 277CA received, an answer
    /// about a claim that has moved on) is noted in its history. The same acknowledgment again changes nothing.
    /// </summary>
    public static (IReadOnlyList<object> ClaimEvents, IReadOnlyList<object> PatientEvents, string Effect) Effect(
        Claim claim, string source, string outcome, string detail, string? payerClaimNumber, DateTimeOffset now)
    {
        if (claim.AcknowledgmentSources.Contains(source)) return ([], [], "already-recorded");
        if (outcome == AcknowledgmentReader.Rejected && claim.Status is ClaimStatus.Filed or ClaimStatus.Acknowledged)
        {
            return ([new ClaimRejected(claim.Id, detail, now, source)],
                [InsuranceOnAccount.Released(claim.PatientId, claim.Id, claim.Lines.Select(l => l.SessionId).Distinct().ToList(), $"claim rejected: {detail}", now)],
                "rejected");
        }

        if (outcome == AcknowledgmentReader.Accepted && claim.Status == ClaimStatus.Filed)
            return ([new ClaimAcknowledged(claim.Id, now, source, detail, payerClaimNumber)], [], "acknowledged");
        return ([new ClaimAcknowledgmentNoted(claim.Id, source, detail, now)], [], "noted");
    }

    /// <summary>
    /// The import's decision: the same file again answers its first result (other content under the same sender and
    /// interchange control number: 409); else each claim's answer applied.
    /// </summary>
    public static Outcome Decide(
        ClaimAcknowledgmentFile? existing, Guid id, string kind, X12Interchange interchange, string hash, IReadOnlyList<(string Source, ClaimAnswer Answer)> answers,
        string receivedBy, DateTimeOffset now)
    {
        if (existing is not null)
        {
            return existing.ContentHash == hash
                ? Outcome.Replay(AcknowledgmentImport.From(existing, duplicate: true))
                : Outcome.Conflict($"interchange {interchange.ControlNumber} from {interchange.SenderId} was already imported with other content");
        }

        var file = new ClaimAcknowledgmentFile
        {
            Id = id, Kind = kind, SenderId = interchange.SenderId, InterchangeControlNumber = interchange.ControlNumber, ContentHash = hash, ReceivedAt = now,
            ReceivedBy = receivedBy
        };
        Outcome.Accepted outcome = Outcome.Ok(file);
        var claims = new Dictionary<Guid, Claim>();
        foreach (var (source, answer) in answers)
        {
            if (answer.Claim is null)
            {
                file.Results.Add(new AcknowledgmentResult(null, answer.ControlNumber, answer.Outcome, "unmatched", answer.Detail));
                continue;
            }

            // A claim named twice in one file (two sets, two statuses) is decided on as the first left it.
            var claim = claims.GetValueOrDefault(answer.Claim.Id) ?? Snapshot.Copy(answer.Claim);
            claims[claim.Id] = claim;
            var (claimEvents, patientEvents, effect) = Effect(claim, source, answer.Outcome, answer.Detail, answer.PayerClaimNumber, now);
            foreach (var e in claimEvents) claim.Fold(e);
            outcome = outcome.Append(claim.Id, claimEvents);
            if (patientEvents.Count > 0) outcome = outcome.Append(claim.PatientId, patientEvents);
            file.Results.Add(new AcknowledgmentResult(claim.Id, answer.ControlNumber, answer.Outcome, effect, answer.Detail));
        }

        return outcome;
    }

    public static Guid FileId(X12Interchange interchange) =>
        DeterministicGuid.From(Guid.Parse("5e0c7a2d-91b4-4d7e-9a53-0f1c2b3d4e5f"), $"ack:{interchange.SenderId.Trim()}:{interchange.ControlNumber}");

    /// <summary>
    /// Imports a 999, a 277CA or a 277 (the text body, or a multipart form's <c>file</c>): claims rejected or acknowledged by it, each
    /// with the reason in its history, rejected sessions free to correct and file again. The same file again answers the
    /// same result (<c>duplicate: true</c>) and changes nothing.
    /// </summary>
    [WolverinePost("/api/claim-acknowledgments"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Post(HttpRequest request, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var (text, tooBig) = await BodyAsync(request, ct);
        if (tooBig) return TooLarge().ToResult();
        return (await ImportAsync(session, text ?? "", request.HttpContext.User.FindFirst(UserClaims.UserId)?.Value ?? "", clock.GetUtcNow(), ct)).ToResult();
    }

    public static Outcome.Rejected TooLarge() =>
        Outcome.Problem(StatusCodes.Status413PayloadTooLarge, "The file is too large", $"an acknowledgment file is at most {MaxBytes / 1024 / 1024} MB");

    /// <summary>The kind of acknowledgment an interchange holds (999, 277CA or 277), or null when it holds none.</summary>
    public static string? KindOf(X12Interchange interchange) =>
        interchange.Transactions.Any(t => t.Code == "999") ? "999"
        : interchange.Transactions.Any(t => t.Code == "277" && t.Version.Contains("X214", StringComparison.Ordinal)) ? "277CA"
        : interchange.Transactions.Any(t => t.Code == "277" && t.Version.Contains("X212", StringComparison.Ordinal)) ? "277" : null;

    /// <summary>
    /// Imports one acknowledgment file's text, from an upload or from the clearinghouse's inbox: accepted, the answer is the
    /// <see cref="AcknowledgmentImport"/> (saved); the same file again is replayed; a file that is not one is a 400 naming <c>file</c>.
    /// </summary>
    public static async Task<Outcome> ImportAsync(IDocumentSession session, string text, string receivedBy, DateTimeOffset now, CancellationToken ct)
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

        if (KindOf(interchange) is not { } kind)
            return Outcome.Reject("file", "holds no 999 (005010X231A1), 277CA (005010X214) or 277 (005010X212) transaction set", StatusCodes.Status400BadRequest);

        var id = FileId(interchange);
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        var existing = await session.LoadAsync<ClaimAcknowledgmentFile>(id, ct);
        var source = $"{kind} {interchange.SenderId.Trim()}/{interchange.ControlNumber}";
        var answers = existing is not null ? []
            : kind == "999" ? await Answers999Async(session, interchange, source, ct)
            : kind == "277CA" ? await Answers277Async(session, interchange, source, ct)
            : await AnswersStatusAsync(session, interchange, source, ct);

        var outcome = Decide(existing, id, kind, interchange, hash, answers, receivedBy, now);
        if (outcome is not Outcome.Accepted { Answer: ClaimAcknowledgmentFile file } accepted) return outcome;

        // Each claim stream is appended at the version it was read at: a claim that changed meanwhile makes this a 409, and the
        // same file sent again then does the rest (what was recorded is recorded once).
        var read = answers.Select(a => a.Item2.Claim).OfType<Claim>().GroupBy(c => c.Id).ToDictionary(g => g.Key, g => g.First().Version);
        foreach (var change in accepted.Streams.GroupBy(s => (Guid)s.StreamId))
        {
            var events = change.SelectMany(s => s.Events).ToList();
            if (read.TryGetValue(change.Key, out var version)) session.Events.Append(change.Key, version + events.Count, events);
            else session.Events.Append(change.Key, events);
        }

        session.Insert(file);
        await session.SaveChangesAsync(ct);
        return Outcome.Ok(AcknowledgmentImport.From(file));
    }

    public static async Task<(string? Text, bool TooBig)> BodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes) return (null, true);
        Stream body = request.Body;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            if (form.Files.GetFile("file") is not { } file) return ("", false);
            if (file.Length > MaxBytes) return (null, true);
            body = file.OpenReadStream();
        }

        using var reader = new StreamReader(body, Encoding.UTF8);
        var buffer = new char[MaxBytes + 1];
        var read = await reader.ReadBlockAsync(buffer, ct);
        return read > MaxBytes ? (null, true) : (new string(buffer, 0, read), false);
    }

    /// <summary>
    /// A 999 names transaction sets of an 837 batch (AK1-02 is the batch's GS06, its number; AK2-02 a set's ST02): every claim of
    /// a set shares its answer. The claims of each set are read back from the batch's own file.
    /// </summary>
    private static async Task<List<(string, ClaimAnswer)>> Answers999Async(IQuerySession session, X12Interchange interchange, string source, CancellationToken ct)
    {
        var acknowledgments = AcknowledgmentReader.Read999(interchange);
        var answers = new List<(string, ClaimAnswer)>();
        var batches = new Dictionary<string, ClaimBatch?>();
        foreach (var ack in acknowledgments)
        {
            if (!batches.TryGetValue(ack.GroupControlNumber, out var batch))
            {
                batch = int.TryParse(ack.GroupControlNumber, out var number) ? await session.LoadAsync<ClaimBatch>(number, ct) : null;
                batches[ack.GroupControlNumber] = batch;
            }

            var controls = batch is null ? [] : X12Reader.Read(batch.File).Transactions.Where(t => t.ControlNumber == ack.SetControlNumber)
                .SelectMany(t => t.Segments.Where(s => s.Id == "CLM").Select(s => s[1])).ToList();
            if (controls.Count == 0)
            {
                answers.Add((source, new ClaimAnswer(null, $"{ack.GroupControlNumber}/{ack.SetControlNumber}",
                    ack.Accepted ? AcknowledgmentReader.Accepted : AcknowledgmentReader.Rejected, $"no 837 batch {ack.GroupControlNumber} set {ack.SetControlNumber} was sent: {ack.Detail}")));
                continue;
            }

            var claims = await session.Query<Claim>().Where(c => controls.Contains(c.ControlNumber)).ToListAsync(ct);
            foreach (var control in controls)
            {
                // Syntax accepted is not the payer's acceptance: it is noted, and the 277CA says the rest.
                answers.Add(($"{source} set {ack.SetControlNumber}", new ClaimAnswer(claims.FirstOrDefault(c => c.ControlNumber == control), control,
                    ack.Accepted ? AcknowledgmentReader.Received : AcknowledgmentReader.Rejected,
                    ack.NamedClaims.Count > 0 && !ack.NamedClaims.Contains(control) ? $"{ack.Detail} (the error is in claim {string.Join(", ", ack.NamedClaims)} of the same set)" : ack.Detail)));
            }
        }

        return answers;
    }

    /// <summary>A 277 answers the 276 whose trace it echoes (TRN02), else names the claim by REF*EJ: its answer is noted in the claim's history.</summary>
    private static async Task<List<(string, ClaimAnswer)>> AnswersStatusAsync(IQuerySession session, X12Interchange interchange, string source, CancellationToken ct)
    {
        var answers = new List<(string, ClaimAnswer)>();
        foreach (var a in AcknowledgmentReader.Read277(interchange))
        {
            var trace = a.Trace!;
            var claim = await session.Query<Claim>().FirstOrDefaultAsync(c => c.StatusTraces.Contains(trace), ct)
                        ?? (a.ControlNumber.Length > 0 ? await session.Query<Claim>().FirstOrDefaultAsync(c => c.ControlNumber == a.ControlNumber, ct) : null);
            answers.Add(($"{source} trace {trace}", new ClaimAnswer(claim, claim?.ControlNumber ?? (a.ControlNumber.Length > 0 ? a.ControlNumber : trace), a.Outcome, a.Detail,
                a.PayerClaimNumber)));
        }

        return answers;
    }

    private static async Task<List<(string, ClaimAnswer)>> Answers277Async(IQuerySession session, X12Interchange interchange, string source, CancellationToken ct)
    {
        var acknowledgments = AcknowledgmentReader.Read277Ca(interchange);
        var controls = acknowledgments.Select(a => a.ControlNumber).Distinct().ToArray();
        var claims = (await session.Query<Claim>().Where(c => controls.Contains(c.ControlNumber)).ToListAsync(ct)).ToDictionary(c => c.ControlNumber);
        return acknowledgments.Select(a => (source, new ClaimAnswer(claims.GetValueOrDefault(a.ControlNumber), a.ControlNumber, a.Outcome, a.Detail, a.PayerClaimNumber)))
            .ToList();
    }
}
