using KetamineBilling.Features.Ui;
using System.Security.Cryptography;
using System.Text;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Http.Features;
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

    /// <summary>
    /// The most segments one upload may carry (setting <c>Remittances:MaxSegments</c>): a 20 MB 835 of real claim payments
    /// has about 600,000; a file of tiny segments is refused before it makes more.
    /// </summary>
    public const int DefaultMaxSegments = 1_000_000;

    public static int MaxSegments(IConfiguration configuration) => configuration.GetValue("Remittances:MaxSegments", DefaultMaxSegments);

    /// <summary>
    /// Reads the 835s of the body (text, or a multipart file) as a stream: segments are read one at a time from a bounded
    /// buffer, never the whole file as one string. At most <see cref="MaxBytes"/> bytes and <paramref name="maxSegments"/>
    /// segments (413 beyond); a file that is not a valid 835 is a 400 naming <c>file</c>, an amount that breaks a rule a
    /// 400 naming its element.
    /// </summary>
    public static async Task<(IReadOnlyList<Remittance835>? Remittances, IResult? Problem)> ReadAsync(HttpRequest request, int maxSegments, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes) return (null, TooLarge());
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            // The file plus a multipart envelope's headers and boundaries.
            limit.MaxRequestBodySize = MaxBytes + 64 * 1024;
        }

        try
        {
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

            // A body without Content-Length is still bounded: reading past the limit stops the upload.
            using var text = new StreamReader(new BoundedStream(body, MaxBytes), Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 16 * 1024);
            return (await Remittance835Reader.ReadAsync(text, maxSegments, ct), null);
        }
        catch (BodyTooLargeException)
        {
            return (null, TooLarge());
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }
        catch (InvalidDataException e) when (e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase))
        {
            return (null, TooLarge());
        }
        catch (X12TooManySegmentsException e)
        {
            return (null, Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The file has too many segments",
                detail: $"file: {e.Message} (setting Remittances:MaxSegments); split it by check (TRN)."));
        }
        catch (X12ElementException e)
        {
            return (null, Invalid(e.Element, e.Rule));
        }
        catch (X12FormatException e)
        {
            return (null, Invalid("file", $"is not a valid X12 835: {e.Message}"));
        }
    }

    private sealed class BodyTooLargeException : Exception;

    /// <summary>Reads at most <c>max</c> bytes of the inner stream; one byte more is <see cref="BodyTooLargeException"/>.</summary>
    private sealed class BoundedStream(Stream inner, long max) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Count(await inner.ReadAsync(buffer, ct));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > max ? throw new BodyTooLargeException() : read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static IResult TooLarge() => Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The file is too large",
        detail: $"An 835 may be at most {MaxBytes / (1024 * 1024)} MB; split it by check (TRN).");

    private static IResult Invalid(string field, string rule)
    {
        return Problems.Invalid(field, rule, StatusCodes.Status400BadRequest);
    }

    /// <summary>The same remittance in any envelope: the transaction set's segments without its own control numbers.</summary>
    public static string ContentHash(Remittance835 remittance)
    {
        // The UTF-8 JSON of the remittance, hashed as it is written (the same bytes as hashing the serialized string).
        using var hashing = new HashingStream();
        System.Text.Json.JsonSerializer.Serialize(hashing, remittance);
        return Convert.ToHexString(hashing.Hash());
    }

    private sealed class HashingStream : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Hash() => _hash.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count) => _hash.AppendData(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => _hash.AppendData(buffer);
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }

    public static Guid RemittanceId(Remittance835 r) => RemittanceId(r.PayerIdentifier ?? r.OriginatorId ?? r.PayerName, r.TraceNumber);

    /// <summary>One stream per payer and trace number (TRN02): the same payment advice always lands on the same stream.</summary>
    public static Guid RemittanceId(string payer, string traceNumber) => DeterministicGuid.From(Guid.Empty, $"835:{payer.ToUpperInvariant()}:{traceNumber}");

    /// <summary>The sum of the claim payments (CLP04) and of the provider adjustments (PLB amounts) of one 835.</summary>
    public static (decimal ClaimPayments, decimal ProviderAdjustments) Totals(Remittance835 remittance) =>
        (remittance.Claims.Sum(c => c.Paid), remittance.ProviderAdjustments.Sum(p => p.Amount));

    /// <summary>
    /// 005010X221A1 transaction balancing (docs/x12.md): BPR02 = the sum of CLP04 less the sum of the PLB amounts, and
    /// BPR02 is never negative (a net negative is carried forward with PLB*FB). Null when it balances, else why not.
    /// </summary>
    public static string? Imbalance(decimal paymentAmount, decimal claimPayments, decimal providerAdjustments) =>
        paymentAmount < 0 ? $"the payment (BPR02) {paymentAmount:0.00} is negative; a net negative is carried forward with PLB*FB"
        : claimPayments - providerAdjustments != paymentAmount
            ? $"the payment (BPR02) is {paymentAmount:0.00}; the claim payments (sum of CLP04) {claimPayments:0.00} less the provider adjustments (sum of PLB amounts) {providerAdjustments:0.00} make {claimPayments - providerAdjustments:0.00}"
            : null;

    /// <summary>The same rule over a recorded remittance: its claim payments (posted and unmatched) and provider adjustments.</summary>
    public static string? Imbalance(RemittanceReceived remittance) =>
        Imbalance(remittance.PaymentAmount, remittance.Posted.Sum(p => p.Paid) + remittance.Unmatched.Sum(u => u.Paid), remittance.ProviderAdjustments.Sum(p => p.Amount));

    /// <summary>Claim payments posted per transaction (ADR 0012).</summary>
    public const int ClaimsPerTransaction = 500;

    /// <summary>
    /// Parses the 835, then for each trace: claims the trace (<see cref="RemittancePostingStarted"/>, its content hash),
    /// posts each claim payment to its claim and the claim's patient in transactions of <see cref="ClaimsPerTransaction"/>,
    /// and records the result (<see cref="RemittanceReceived"/>). A trace already posted answers with its original result
    /// and changes nothing; other content under a trace is 409. A file cut short (a crash, a lost connection, a failure)
    /// is finished by sending it again: each claim payment posts once (its source is the trace and its place in the file).
    /// </summary>
    [WolverinePost("/api/remittances"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<IResult> Post(
        HttpRequest request, IDocumentSession session, IDocumentStore store, TimeProvider clock, ILogger<RemittanceUpload> logger, CancellationToken ct)
    {
        // Query: acceptUnbalanced=true posts a file whose BPR02 does not balance, recorded on the remittance.
        var acceptUnbalanced = bool.TryParse(request.Query["acceptUnbalanced"], out var accept) && accept;
        var configuration = request.HttpContext.RequestServices.GetRequiredService<IConfiguration>();
        var (read, problem) = await ReadAsync(request, MaxSegments(configuration), ct);
        if (problem is not null) return problem;
        var remittances = read!;

        if (remittances.GroupBy(RemittanceId).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            return Invalid("file", $"holds trace {twice.First().TraceNumber} twice: send each check (TRN) once");
        }

        // Every trace is checked before anything posts: a trace claimed before with other content refuses the whole file.
        var hashes = remittances.ToDictionary(RemittanceId, ContentHash);
        var unbalanced = new Dictionary<Guid, UnbalancedAcceptance>();
        foreach (var remittance in remittances)
        {
            var existing = await session.LoadAsync<Remittance>(RemittanceId(remittance), ct);
            if (existing is not null && existing.ContentHash != hashes[RemittanceId(remittance)])
            {
                return Problems.Conflict($"trace {remittance.TraceNumber} from {remittance.PayerName} was already " +
                                         $"{(existing.Posting ? "sent" : "posted")} with other content");
            }

            // 005010X221A1 transaction balancing: BPR02 = the sum of CLP04 less the sum of the PLB amounts. A trace already
            // recorded with this content was checked (or accepted) when it was first sent.
            var (claimPayments, providerAdjustments) = Totals(remittance);
            if (existing is null && Imbalance(remittance.PaymentAmount, claimPayments, providerAdjustments) is not null)
            {
                if (!acceptUnbalanced)
                {
                    return Invalid("BPR02", $"of trace {remittance.TraceNumber} is {Fmt.Money(remittance.PaymentAmount)}; the claim payments (sum of CLP04) " +
                                            $"{Fmt.Money(claimPayments)} less the provider adjustments (sum of PLB amounts) {Fmt.Money(providerAdjustments)} make " +
                                            $"{Fmt.Money(claimPayments - providerAdjustments)}. The file does not balance; send it with acceptUnbalanced=true " +
                                            "to post it as it is (recorded on the remittance)");
                }

                unbalanced[RemittanceId(remittance)] = new UnbalancedAcceptance(request.HttpContext.User.FindFirst(UserClaims.UserId)?.Value ?? "",
                    request.HttpContext.User.FindFirst(UserClaims.Email)?.Value, remittance.PaymentAmount, claimPayments, providerAdjustments,
                    clock.GetUtcNow());
            }
        }

        var results = new List<RemittanceResult>();
        foreach (var remittance in remittances)
        {
            var posting = new RemittancePosting(session, store, remittance, hashes[RemittanceId(remittance)], unbalanced.GetValueOrDefault(RemittanceId(remittance)),
                clock.GetUtcNow(), logger);
            try
            {
                results.Add(await posting.RunAsync(ct));
            }
            catch (TraceTakenException e)
            {
                return Problems.Conflict(results.Count == 0 ? e.Message : $"{e.Message}; the {results.Count} trace(s) before it in this file posted in full");
            }
            catch (Exception e) when (posting.Committed || results.Count > 0)
            {
                // Part of the file is posted: the answer says so, whatever went wrong, and how to finish it.
                var (status, title, _) = ProblemExceptionHandler.Classify(e);
                if (status >= 500) logger.LogError(e, "Posting trace {Trace} failed after {Posted} claim payment(s)", remittance.TraceNumber, posting.Posted);
                return Results.Problem(statusCode: status is 409 or 503 ? status : StatusCodes.Status500InternalServerError, title: title,
                    detail: $"{results.Count} trace(s) of this file posted in full; trace {remittance.TraceNumber}: {posting.Posted} of " +
                            $"{remittance.Claims.Count} claim payments posted before {(status == 409 ? "other changes to the same accounts kept conflicting" : "the failure")}. " +
                            "Send the same file again to post the rest: what is posted is never posted twice.");
            }
        }

        return Results.Ok(new RemittanceUpload(results, results.Sum(r => r.ClaimsPosted), results.Sum(r => r.LinesPosted), results.Sum(r => r.TotalPaid),
            results.Sum(r => r.Unmatched.Count), results.All(r => r.Duplicate)));
    }

    private sealed class TraceTakenException(string message) : Exception(message);

    /// <summary>
    /// One trace's posting: claimed on its stream, its claim payments in chunks (each in a session of its own, a chunk that
    /// meets a concurrent change to one of its accounts decided again), its result recorded last (ADR 0012). Once the trace
    /// is claimed the posting runs to its end even if the client goes away: it is bounded, and finishing beats half-done.
    /// </summary>
    private sealed class RemittancePosting(
        IDocumentSession request, IDocumentStore store, Remittance835 remittance, string hash, UnbalancedAcceptance? unbalanced, DateTimeOffset now,
        ILogger logger)
    {
        private readonly Guid _id = RemittanceId(remittance);
        private readonly List<PostedClaim> _posted = [];
        private readonly List<UnmatchedItem> _unmatched = [];

        /// <summary>Whether anything of this trace has been saved.</summary>
        public bool Committed { get; private set; }

        /// <summary>Claim payments of this trace saved so far.</summary>
        public int Posted => _posted.Count;

        public async Task<RemittanceResult> RunAsync(CancellationToken ct)
        {
            var existing = await request.LoadAsync<Remittance>(_id, ct);
            if (existing is { Posting: false }) return Duplicate(existing);
            if (existing is null && !await StartAsync(ct))
            {
                // Another upload claimed the trace a moment ago: of the same file, this one posts along (each claim once).
                existing = await request.LoadAsync<Remittance>(_id, CancellationToken.None);
                if (existing!.ContentHash != hash) throw new TraceTakenException($"trace {remittance.TraceNumber} from {remittance.PayerName} was sent a moment ago with other content");
                if (existing is { Posting: false }) return Duplicate(existing);
            }

            Committed = true;
            var claimIds = await ClaimIdsAsync();
            foreach (var chunk in Enumerable.Range(0, remittance.Claims.Count).Chunk(ClaimsPerTransaction))
            {
                for (var attempt = 1; ; attempt++)
                {
                    await using var session = AuditMiddleware.OpenLike(store, request);
                    var (posted, unmatched) = await PostChunkAsync(session, chunk, claimIds);
                    try
                    {
                        await session.SaveChangesAsync(CancellationToken.None);
                        _posted.AddRange(posted);
                        _unmatched.AddRange(unmatched);
                        break;
                    }
                    catch (JasperFx.ConcurrencyException) when (attempt < 5)
                    {
                        logger.LogInformation("Trace {Trace}: the claim payments from {First} met a concurrent change to their accounts; deciding them again (attempt {Attempt})",
                            remittance.TraceNumber, chunk[0], attempt + 1);
                        await Task.Delay(Random.Shared.Next(20, 60) * attempt, CancellationToken.None);
                    }
                }
            }

            return await FinishAsync();
        }

        /// <summary>Decides the claim payments at <paramref name="indexes"/> against their claims and accounts, read afresh.</summary>
        private async Task<(List<PostedClaim> Posted, List<UnmatchedItem> Unmatched)> PostChunkAsync(
            IDocumentSession session, int[] indexes, Dictionary<string, Guid> claimIds)
        {
            var workspace = new PostingWorkspace(session);
            var posted = new List<PostedClaim>();
            var unmatched = new List<UnmatchedItem>();
            foreach (var i in indexes)
            {
                var payment = remittance.Claims[i];
                UnmatchedItem Unmatched(string reason) =>
                    new(DeterministicGuid.From(_id, $"item-{i}"), payment.ControlNumber, payment.Status, payment.Charge, payment.Paid, reason, payment);

                if (!claimIds.TryGetValue(payment.ControlNumber, out var claimId))
                {
                    unmatched.Add(Unmatched($"no claim has the patient control number {payment.ControlNumber}"));
                    continue;
                }

                var outcome = await PostOneAsync(workspace, claimId, payment, $"835:{_id:N}:{i}", _id, now, CancellationToken.None);
                if (outcome.Problem is not null)
                {
                    unmatched.Add(Unmatched(outcome.Problem));
                    continue;
                }

                posted.Add(new PostedClaim(claimId, payment.ControlNumber, payment.Status, outcome.Paid, outcome.Lines));
            }

            return (posted, unmatched);
        }

        private RemittanceResult Duplicate(Remittance r) =>
            new(r.Id, r.TraceNumber, r.PayerName, r.Posted.Count, r.Posted.Sum(p => p.Lines), r.Posted.Sum(p => p.Paid), r.Unmatched, Duplicate: true);

        /// <summary>Claims the trace for this content; false when another upload claimed it first.</summary>
        private async Task<bool> StartAsync(CancellationToken ct)
        {
            var payer = remittance.PayerIdentifier is { } x12 ? await request.Query<Payer>().FirstOrDefaultAsync(p => p.PayerId == x12, ct) : null;
            await using var session = AuditMiddleware.OpenLike(store, request);
            session.Events.StartStream<Remittance>(_id, new RemittancePostingStarted(_id, remittance.PayerName, remittance.PayerIdentifier, payer?.Id,
                remittance.TraceNumber, remittance.PaymentMethod, remittance.PaymentAmount, remittance.PaymentDate, hash, remittance.Claims.Count, now, unbalanced));
            try
            {
                await session.SaveChangesAsync(ct);
                return true;
            }
            catch (Exception e) when (ProblemExceptionHandler.Classify(e).Status == StatusCodes.Status409Conflict)
            {
                return false;
            }
        }

        private async Task<Dictionary<string, Guid>> ClaimIdsAsync()
        {
            var numbers = remittance.Claims.Select(c => c.ControlNumber).Distinct().ToArray();
            return (await request.Query<Claim>().Where(c => numbers.Contains(c.ControlNumber)).Select(c => new { c.Id, c.ControlNumber }).ToListAsync())
                .ToDictionary(c => c.ControlNumber, c => c.Id);
        }

        /// <summary>Records the result on the trace's stream, unless another upload of the same file did a moment ago.</summary>
        private async Task<RemittanceResult> FinishAsync()
        {
            await using var session = AuditMiddleware.OpenLike(store, request);
            var stream = await session.Events.FetchForWriting<Remittance>(_id);
            if (stream.Aggregate is { Posting: false } done) return Duplicate(done);
            var started = stream.Aggregate!;
            stream.AppendOne(new RemittanceReceived(_id, remittance.PayerName, remittance.PayerIdentifier, started.PayerId, remittance.TraceNumber,
                remittance.PaymentMethod, remittance.PaymentAmount, remittance.PaymentDate, hash, _posted, _unmatched, remittance.ProviderAdjustments, now,
                started.AcceptedUnbalanced));
            try
            {
                await session.SaveChangesAsync(CancellationToken.None);
            }
            catch (JasperFx.ConcurrencyException)
            {
                await using var again = store.QuerySession();
                if (await again.LoadAsync<Remittance>(_id) is { Posting: false } other) return Duplicate(other);
                throw;
            }

            return new RemittanceResult(_id, remittance.TraceNumber, remittance.PayerName, _posted.Count, _posted.Sum(p => p.Lines), _posted.Sum(p => p.Paid),
                _unmatched, Duplicate: false);
        }
    }

    /// <summary>Posts one claim payment to one claim (also used when billing matches an unmatched item by hand).</summary>
    public static async Task<PostingOutcome> PostOneAsync(
        PostingWorkspace workspace, Guid claimId, ClaimPayment835 payment, string source, Guid remittanceId, DateTimeOffset now, CancellationToken ct)
    {
        if (await workspace.LoadAsync(claimId, ct) is not var (claim, account)) return PostingOutcome.Refused("the claim does not exist");
        if (claim.PostedSources.Contains(source))
        {
            // Posted by an earlier attempt at this file that was cut short (or the same item matched twice): the figures
            // are what that posting recorded, found before any rule that the claim's later state could now refuse.
            var before = claim.Adjudications.LastOrDefault(a => a.Source == source);
            return new PostingOutcome(null, [], [], AlreadyPosted: true,
                Before: before is null ? (payment.Paid, payment.Lines.Count > 0 ? payment.Lines.Count : claim.Lines.Count) : (before.Paid, before.Lines.Count));
        }

        PostingOutcome outcome;
        if (payment.IsReversal)
        {
            var last = account.InsurancePostings.LastOrDefault(p => p.ClaimId == claim.Id);
            outcome = last is not null && last.Paid != -payment.Paid
                ? PostingOutcome.Refused($"the reversal takes back {Fmt.Money(-payment.Paid)}; the last posting paid {Fmt.Money(last.Paid)}")
                : ClaimPosting.Reverse(claim, account, source, remittanceId, now);
        }
        else
        {
            var (lines, problem) = ClaimPosting.Match(claim, payment);
            outcome = problem is not null
                ? PostingOutcome.Refused(problem)
                : ClaimPosting.Post(claim, account, source, lines!, payment.PayerClaimNumber, remittanceId, now);
        }

        if (outcome.Problem is null) workspace.Append(claim, outcome);
        return outcome;
    }
}
