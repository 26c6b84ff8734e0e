using System.Security.Cryptography;
using System.Text;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Remittances;

public sealed record RemittanceResult(
    Guid RemittanceId, string TraceNumber, string Payer, int ClaimsPosted, int LinesPosted, decimal TotalPaid, IReadOnlyList<UnmatchedItem> Unmatched,
    bool Duplicate);

public sealed record RemittanceUpload(
    IReadOnlyList<RemittanceResult> Remittances, int ClaimsPosted, int LinesPosted, decimal TotalPaid, int UnmatchedItems, bool Duplicate);

public static class ImportRemittanceEndpoint
{
    /// <summary>An 835 of 10,000 claim payments is about 3 MB; 20 MB leaves room and stops a runaway upload.</summary>
    public const long MaxBytes = 20 * 1024 * 1024;

    public static async Task<(string? Text, IResult? Problem)> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes) return (null, TooLarge());
        Stream body;
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(ct);
            var file = form.Files.FirstOrDefault();
            if (file is null) return (null, Invalid("file", "a multipart upload must carry the 835 as a file"));
            if (file.Length > MaxBytes) return (null, TooLarge());
            body = file.OpenReadStream();
        }
        else
        {
            body = request.Body;
        }

        // Read at most the limit plus one byte: a body without Content-Length is still bounded.
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBytes) return (null, TooLarge());
        }

        var text = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        return string.IsNullOrWhiteSpace(text) ? (null, Invalid("file", "the body is empty: send the 835 as text or as a multipart file")) : (text, null);
    }

    private static IResult TooLarge() => Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The file is too large",
        detail: $"An 835 may be at most {MaxBytes / (1024 * 1024)} MB; split it by check (TRN).");

    private static IResult Invalid(string field, string rule)
    {
        return Problems.Invalid(field, rule, StatusCodes.Status400BadRequest);
    }

    /// <summary>The same remittance in any envelope: the transaction set's segments without its own control numbers.</summary>
    public static string ContentHash(Remittance835 remittance) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(remittance))));

    public static Guid RemittanceId(Remittance835 r) => RemittanceId(r.PayerIdentifier ?? r.OriginatorId ?? r.PayerName, r.TraceNumber);

    /// <summary>One stream per payer and trace number (TRN02): the same payment advice always lands on the same stream.</summary>
    public static Guid RemittanceId(string payer, string traceNumber) => DeterministicGuid.From(Guid.Empty, $"835:{payer.ToUpperInvariant()}:{traceNumber}");

    /// <summary>Claim payments posted per transaction (ADR 0012).</summary>
    public const int ClaimsPerTransaction = 500;

    /// <summary>
    /// Parses the 835, then posts each claim payment to its claim and the claim's patient, in transactions of
    /// <see cref="ClaimsPerTransaction"/> claims, and records the remittance last. A trace already posted answers with
    /// its original result and changes nothing; a file cut short (a crash, a conflict that outlasted its retries) is
    /// finished by sending it again: each claim payment posts once (its source is the trace and its place in the file).
    /// </summary>
    [WolverinePost("/api/remittances"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<IResult> Post(HttpRequest request, IDocumentSession session, IDocumentStore store, TimeProvider clock, CancellationToken ct)
    {
        var (text, problem) = await ReadBodyAsync(request, ct);
        if (problem is not null) return problem;

        IReadOnlyList<Remittance835> remittances;
        try
        {
            remittances = Remittance835Reader.Read(X12Reader.Read(text!));
        }
        catch (X12FormatException ex)
        {
            return Invalid("file", $"is not a valid X12 835: {ex.Message}");
        }

        if (remittances.GroupBy(RemittanceId).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            return Invalid("file", $"holds trace {twice.First().TraceNumber} twice: send each check (TRN) once");
        }

        var now = clock.GetUtcNow();
        // Every trace is checked before anything posts: a trace posted before with other content refuses the whole file.
        var earlier = new Dictionary<Guid, Remittance>();
        foreach (var remittance in remittances)
        {
            var id = RemittanceId(remittance);
            if (await session.LoadAsync<Remittance>(id, ct) is not { } existing) continue;
            if (existing.ContentHash != ContentHash(remittance))
            {
                return Problems.Conflict($"trace {remittance.TraceNumber} from {remittance.PayerName} was already posted with other content");
            }

            earlier[id] = existing;
        }

        var results = new List<RemittanceResult>();
        foreach (var remittance in remittances)
        {
            var id = RemittanceId(remittance);
            if (earlier.TryGetValue(id, out var existing))
            {
                results.Add(new RemittanceResult(id, existing.TraceNumber, existing.PayerName, existing.Posted.Count, existing.Posted.Sum(p => p.Lines),
                    existing.Posted.Sum(p => p.Paid), existing.Unmatched, Duplicate: true));
                continue;
            }

            var (result, cutShort) = await PostAsync(session, store, id, ContentHash(remittance), remittance, now, ct);
            if (cutShort is not null) return cutShort;
            results.Add(result!);
        }

        return Results.Ok(new RemittanceUpload(results, results.Sum(r => r.ClaimsPosted), results.Sum(r => r.LinesPosted), results.Sum(r => r.TotalPaid),
            results.Sum(r => r.Unmatched.Count), results.All(r => r.Duplicate)));
    }

    private static async Task<(RemittanceResult? Result, IResult? CutShort)> PostAsync(
        IDocumentSession session, IDocumentStore store, Guid id, string hash, Remittance835 remittance, DateTimeOffset now, CancellationToken ct)
    {
        var numbers = remittance.Claims.Select(c => c.ControlNumber).Distinct().ToArray();
        var claimIds = (await session.Query<Claim>().Where(c => numbers.Contains(c.ControlNumber)).Select(c => new { c.Id, c.ControlNumber }).ToListAsync(ct))
            .ToDictionary(c => c.ControlNumber, c => c.Id);
        var payer = remittance.PayerIdentifier is { } x12 ? await session.Query<Payer>().FirstOrDefaultAsync(p => p.PayerId == x12, ct) : null;

        var posted = new List<PostedClaim>();
        var unmatched = new List<UnmatchedItem>();
        // One transaction per chunk of claims, each in a session of its own: a large file neither holds thousands of
        // accounts for its whole posting nor builds one batch of every document it changes (ADR 0012). A chunk that
        // meets a concurrent change to one of its accounts is read again and decided again, in a new session.
        foreach (var chunk in Enumerable.Range(0, remittance.Claims.Count).Chunk(ClaimsPerTransaction))
        {
            for (var attempt = 1; ; attempt++)
            {
                await using var chunkSession = AuditMiddleware.OpenLike(store, session);
                var (chunkPosted, chunkUnmatched) = await PostChunkAsync(chunkSession, id, remittance, chunk, claimIds, now, ct);
                try
                {
                    await chunkSession.SaveChangesAsync(ct);
                    posted.AddRange(chunkPosted);
                    unmatched.AddRange(chunkUnmatched);
                    break;
                }
                catch (Exception e) when (ProblemExceptionHandler.Classify(e).Status == StatusCodes.Status409Conflict)
                {
                    if (attempt < 5)
                    {
                        await Task.Delay(Random.Shared.Next(20, 60) * attempt, ct);
                        continue;
                    }

                    return (null, Problems.Conflict(
                        $"trace {remittance.TraceNumber}: {posted.Count} of {remittance.Claims.Count} claim payments were posted before other changes to the same " +
                        "accounts kept conflicting. Send the same file again to post the rest: what is posted is never posted twice."));
                }
            }
        }

        session.Events.StartStream<Remittance>(id, new RemittanceReceived(id, remittance.PayerName, remittance.PayerIdentifier, payer?.Id, remittance.TraceNumber,
            remittance.PaymentMethod, remittance.PaymentAmount, remittance.PaymentDate, hash, posted, unmatched, remittance.ProviderAdjustments, now));
        return (new RemittanceResult(id, remittance.TraceNumber, remittance.PayerName, posted.Count, posted.Sum(p => p.Lines), posted.Sum(p => p.Paid), unmatched,
            Duplicate: false), null);
    }

    /// <summary>Decides the claim payments at <paramref name="indexes"/> against their claims and accounts, read afresh.</summary>
    private static async Task<(List<PostedClaim> Posted, List<UnmatchedItem> Unmatched)> PostChunkAsync(
        IDocumentSession session, Guid id, Remittance835 remittance, int[] indexes, Dictionary<string, Guid> claimIds, DateTimeOffset now, CancellationToken ct)
    {
        var workspace = new PostingWorkspace(session);
        var posted = new List<PostedClaim>();
        var unmatched = new List<UnmatchedItem>();
        foreach (var i in indexes)
        {
            var payment = remittance.Claims[i];
            UnmatchedItem Unmatched(string reason) =>
                new(DeterministicGuid.From(id, $"item-{i}"), payment.ControlNumber, payment.Status, payment.Charge, payment.Paid, reason, payment);

            if (!claimIds.TryGetValue(payment.ControlNumber, out var claimId))
            {
                unmatched.Add(Unmatched($"no claim has the patient control number {payment.ControlNumber}"));
                continue;
            }

            var outcome = await PostOneAsync(workspace, claimId, payment, $"835:{id:N}:{i}", id, now, ct);
            if (outcome.Problem is not null)
            {
                unmatched.Add(Unmatched(outcome.Problem));
                continue;
            }

            posted.Add(new PostedClaim(claimId, payment.ControlNumber, payment.Status, outcome.Paid, outcome.Lines));
        }

        return (posted, unmatched);
    }

    /// <summary>Posts one claim payment to one claim (also used when billing matches an unmatched item by hand).</summary>
    public static async Task<PostingOutcome> PostOneAsync(
        PostingWorkspace workspace, Guid claimId, ClaimPayment835 payment, string source, Guid remittanceId, DateTimeOffset now, CancellationToken ct)
    {
        if (await workspace.LoadAsync(claimId, ct) is not var (claim, account)) return PostingOutcome.Refused("the claim does not exist");
        PostingOutcome outcome;
        if (payment.IsReversal)
        {
            var last = account.InsurancePostings.LastOrDefault(p => p.ClaimId == claim.Id);
            outcome = last is not null && last.Paid != -payment.Paid
                ? PostingOutcome.Refused($"the reversal takes back {-payment.Paid:0.00}; the last posting paid {last.Paid:0.00}")
                : ClaimPosting.Reverse(claim, account, source, remittanceId, now);
        }
        else
        {
            var (lines, problem) = ClaimPosting.Match(claim, payment);
            outcome = problem is not null
                ? PostingOutcome.Refused(problem)
                : ClaimPosting.Post(claim, account, source, lines!, payment.PayerClaimNumber, remittanceId, now);
        }

        if (outcome.AlreadyPosted)
        {
            // Posted by an earlier attempt at this file that was cut short: the figures are what that posting recorded.
            var before = claim.Adjudications.LastOrDefault(a => a.Source == source);
            return outcome with { Before = before is null ? (payment.Paid, payment.Lines.Count) : (before.Paid, before.Lines.Count) };
        }

        if (outcome.Problem is null) workspace.Append(claim, outcome);
        return outcome;
    }
}
