using KetamineBilling.Features.Ui;
using System.Text;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.Eligibility;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using Marten;

namespace KetamineBilling.Features.Clearinghouse;

/// <summary>One file that went to the clearinghouse or came from it, as the exchange left it (listed on the acknowledgments page).</summary>
public sealed class ClearinghouseFile
{
    /// <summary><c>out:{name}</c>, or <c>in:{name}:{arrival}</c>: a file sent again under its name is one record.</summary>
    public string Id { get; set; } = "";

    /// <summary>outbound or inbound.</summary>
    public string Direction { get; set; } = "";

    public string Name { get; set; } = "";

    /// <summary>837P, 276, 270, 835, 999, 277CA, 277, 271, or unknown.</summary>
    public string Kind { get; set; } = "";

    public DateTimeOffset At { get; set; }

    /// <summary>sent, imported, duplicate (imported before: nothing changed), or failed.</summary>
    public string Status { get; set; } = "";

    /// <summary>What it did (claims sent, claims answered, payments posted), or why it failed.</summary>
    public string Detail { get; set; } = "";
}

/// <summary>What one exchange with the clearinghouse did for a clinic.</summary>
public sealed record ExchangeResult(int Sent, int Imported, int Failed, int Waiting);

/// <summary>
/// Moves a clinic's files through its clearinghouse: the 837 batches and 276 requests made since the last exchange go out,
/// and the 999, 277CA, 277 and 835 files waiting come in through the same imports as an upload. A file that cannot be
/// imported as it is (not X12, an 835 that does not balance, a trace posted before with other content) is put aside with its
/// reason; one that failed for the moment (the database gone, another request posting the same trace) waits for the next
/// exchange. Every node exchanges now and then (<c>Clearinghouse:CheckSeconds</c>, a minute by default); a clinic is
/// exchanged by one node at a time (an advisory lock per clinic in the master database).
/// </summary>
public sealed class ClearinghouseExchange(
    IDocumentStore store, IGlobalStore global, Clinics clinics, IClearinghouse clearinghouse, IConfiguration configuration, TimeProvider clock, ClinicCalendar calendar, Clinic.ClinicZones zones,
    ILogger<ClearinghouseExchange> logger) : BackgroundService
{
    public const string ReceivedBy = "clearinghouse";

    /// <summary>The name a batch goes out under: its kind and interchange control number.</summary>
    public static string FileName(string kind, int number) => $"{kind}-{number:D9}.x12";

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => clearinghouse.Enabled
        ? PeriodicCheck.RunAsync(PeriodicCheck.Every(configuration, "Clearinghouse:CheckSeconds", 60), clock, logger, "clearinghouse", AllAsync, stoppingToken)
        : Task.CompletedTask;

    private async Task AllAsync(CancellationToken ct)
    {
        foreach (var clinic in await clinics.ListAsync(ct))
        {
            try
            {
                await ExchangeAsync(clinic.Id, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // One clinic's trouble (its database, its folder) never holds up the others.
                logger.LogWarning(e, "The clearinghouse exchange for {Clinic} failed; it runs again at the next check", clinic.Id);
            }
        }
    }

    /// <summary>How often a file that fails for the moment is tried before it is put aside as failed.</summary>
    public const int MaxAttempts = 10;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);

    /// <summary>
    /// One exchange for the clinic. When another node is exchanging it now: null, or with <paramref name="wait"/> this waits
    /// for that one to finish and then runs.
    /// </summary>
    public async Task<ExchangeResult?> ExchangeAsync(string clinic, CancellationToken ct, bool wait = false)
    {
        if (!clearinghouse.Enabled) return new ExchangeResult(0, 0, 0, 0);
        await using var held = await StartupLock.TakeAsync(global, LockKey(clinic), wait, ct);
        if (held is null) return null;
        // The clinic's own calendar for what the imports date (a 271 without its own date is dated today there).
        using var zone = ClinicCalendar.Use(await zones.ZoneOfAsync(clinic, ct));
        var sent = await SendAsync(clinic, ct);
        var (imported, failed, waiting) = await ReceiveAsync(clinic, ct);
        if (sent + imported + failed > 0)
            logger.LogInformation("Clearinghouse exchange for {Clinic}: {Sent} sent, {Imported} imported, {Failed} failed, {Waiting} waiting", clinic, sent, imported, failed, waiting);
        return new ExchangeResult(sent, imported, failed, waiting);
    }

    /// <summary>"KBCH" and a hash of the clinic's code: apart from the platform's other advisory keys.</summary>
    public static long LockKey(string clinic) => 0x4B42_4348_0000_0000L | (uint)DeterministicGuid.From(Guid.Empty, $"clearinghouse:{clinic}").GetHashCode();

    /// <summary>Every batch queued for the clearinghouse and not yet sent goes to the outbox, oldest first.</summary>
    private async Task<int> SendAsync(string clinic, CancellationToken ct)
    {
        await using var session = store.LightweightSession(clinic);
        var batches = await session.Query<ClaimBatch>().Where(b => b.ClearinghouseQueuedAt != null && b.ClearinghouseSentAt == null).OrderBy(b => b.Id).ToListAsync(ct);
        foreach (var batch in batches)
        {
            await SendOneAsync(session, clinic, "837P", batch.Id, batch.File,
                $"{batch.ClaimIds.Count} claim(s){(batch.Voids.Count > 0 ? $", {batch.Voids.Count} as voids" : "")}", () => batch.ClearinghouseSentAt = clock.GetUtcNow(), batch, ct);
        }

        var requests = await session.Query<ClaimStatusRequestBatch>().Where(b => b.ClearinghouseQueuedAt != null && b.ClearinghouseSentAt == null).OrderBy(b => b.Id)
            .ToListAsync(ct);
        foreach (var request in requests)
        {
            await SendOneAsync(session, clinic, "276", request.Id, request.File, $"status of {request.ClaimIds.Count} claim(s) asked",
                () => request.ClearinghouseSentAt = clock.GetUtcNow(), request, ct);
        }

        var inquiries = await session.Query<EligibilityInquiryBatch>().Where(b => b.ClearinghouseQueuedAt != null && b.ClearinghouseSentAt == null).OrderBy(b => b.Id)
            .ToListAsync(ct);
        foreach (var inquiry in inquiries)
        {
            await SendOneAsync(session, clinic, "270", inquiry.Id, inquiry.File, $"eligibility of {inquiry.Traces.Count} member(s) asked",
                () => inquiry.ClearinghouseSentAt = clock.GetUtcNow(), inquiry, ct);
        }

        return batches.Count + requests.Count + inquiries.Count;
    }

    /// <summary>One file to the outbox, then its document marked sent and the file recorded, saved together.</summary>
    private async Task SendOneAsync<T>(IDocumentSession session, string clinic, string kind, int number, string content, string detail, Action markSent, T document,
        CancellationToken ct) where T : notnull
    {
        var name = FileName(kind, number);
        await clearinghouse.SendAsync(clinic, name, content, ct);
        markSent();
        session.Store(document);
        session.Store(Outbound(name, kind, detail));
        await session.SaveChangesAsync(ct);
    }

    private ClearinghouseFile Outbound(string name, string kind, string detail) =>
        new() { Id = $"out:{name}", Direction = "outbound", Name = name, Kind = kind, At = clock.GetUtcNow(), Status = "sent", Detail = detail };

    private async Task<(int Imported, int Failed, int Waiting)> ReceiveAsync(string clinic, CancellationToken ct)
    {
        int imported = 0, failed = 0, waiting = 0;
        foreach (var file in await clearinghouse.ReceiveAsync(clinic, ct))
        {
            var (status, kind, detail) = await ImportAsync(clinic, file, ct);
            var attemptKey = $"{clinic}/{file.Name}/{file.ArrivedAt.UtcTicks}";
            if (status is null)
            {
                if (_attempts.AddOrUpdate(attemptKey, 1, (_, n) => n + 1) < MaxAttempts)
                {
                    waiting++;
                    continue;
                }

                (status, detail) = ("failed", $"could not be imported after {MaxAttempts} tries: {detail}");
            }

            _attempts.TryRemove(attemptKey, out _);

            if (status == "failed")
            {
                await clearinghouse.FailedAsync(clinic, file, detail, ct);
                failed++;
            }
            else
            {
                await clearinghouse.DoneAsync(clinic, file, ct);
                imported++;
            }

            await using var session = store.LightweightSession(clinic);
            session.Store(new ClearinghouseFile
            {
                Id = $"in:{file.Name}:{file.ArrivedAt.UtcTicks}", Direction = "inbound", Name = file.Name, Kind = kind, At = clock.GetUtcNow(), Status = status, Detail = detail
            });
            await session.SaveChangesAsync(ct);
        }

        return (imported, failed, waiting);
    }

    /// <summary>The file's import: status null when it is to be tried again at the next exchange.</summary>
    private async Task<(string? Status, string Kind, string Detail)> ImportAsync(string clinic, InboundFile file, CancellationToken ct)
    {
        if (file.Length > RemittanceBody.MaxBytes) return ("failed", "unknown", $"the file is {file.Length:N0} bytes; an inbound file is at most {RemittanceBody.MaxBytes / 1024 / 1024} MB");
        string text;
        await using (var stream = await clearinghouse.OpenAsync(file, ct))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
        {
            text = await reader.ReadToEndAsync(ct);
        }

        var kind = KindOf(text);
        try
        {
            await using var session = store.LightweightSession(clinic);
            session.CorrelationId = Guid.NewGuid().ToString();
            session.LastModifiedBy = ReceivedBy;
            session.SetHeader(AuditMiddleware.UserIdHeader, ReceivedBy);
            if (kind == "835")
            {
                var (read, problem) = await RemittanceBody.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(text)), RemittanceBody.MaxSegments(configuration), ct);
                if (problem is not null) return ("failed", kind, Reason(problem));
                var (outcome, tryAgain) = await ImportRemittanceEndpoint.ImportAsync(session, store, read!, false, ReceivedBy, null, clock, logger, ct);
                return outcome switch
                {
                    Outcome.Accepted { Answer: RemittanceUpload upload } => (upload.Duplicate ? "duplicate" : "imported", kind,
                        $"{upload.Remittances.Count} check(s): {upload.ClaimsPosted} claim payment(s) posted, {Fmt.Money(upload.TotalPaid)} paid, {upload.UnmatchedItems} unmatched"),
                    Outcome.Rejected rejected when tryAgain => Wait(file, Reason(rejected)),
                    Outcome.Rejected rejected => ("failed", kind, Reason(rejected)),
                    _ => ("imported", kind, "")
                };
            }

            if (kind == "271")
            {
                var eligibility = await ImportEligibilityEndpoint.ImportAsync(session, text, ReceivedBy, calendar.Today(), clock.GetUtcNow(), ct);
                return eligibility switch
                {
                    Outcome.Accepted { Answer: EligibilityImport i } => ("imported", kind, Summary(i)),
                    Outcome.Replayed { Answer: EligibilityImport i } => ("duplicate", kind, Summary(i)),
                    Outcome.Rejected rejected => ("failed", kind, Reason(rejected)),
                    _ => ("imported", kind, "")
                };
            }

            var ack = await ImportAcknowledgmentEndpoint.ImportAsync(session, text, ReceivedBy, clock.GetUtcNow(), ct);
            return ack switch
            {
                Outcome.Accepted { Answer: AcknowledgmentImport i } => ("imported", i.Kind, Summary(i)),
                Outcome.Replayed { Answer: AcknowledgmentImport i } => ("duplicate", i.Kind, Summary(i)),
                Outcome.Rejected rejected => ("failed", kind, Reason(rejected)),
                _ => ("imported", kind, "")
            };
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // The database gone, a claim changed while its answer was read: the same file next time does the rest.
            return Wait(file, e.GetType().Name);
        }
    }

    private (string? Status, string Kind, string Detail) Wait(InboundFile file, string reason)
    {
        logger.LogWarning("The clearinghouse file {File} is tried again at the next exchange: {Reason}", file.Name, reason);
        return (null, "", reason);
    }

    private static string Summary(EligibilityImport i) => $"{i.Results.Count} eligibility answer(s): {i.Recorded} recorded, {i.Unmatched} unmatched";

    private static string Summary(AcknowledgmentImport i) =>
        $"{i.Results.Count} claim answer(s): {i.Rejected} rejected, {i.Results.Count(r => r.Effect == "acknowledged")} acknowledged, {i.Unmatched} unmatched";

    /// <summary>The 835, 999, 277CA, 277 or 271 an interchange holds, by its first transaction set's code (its own separator).</summary>
    public static string KindOf(string text)
    {
        var start = text.IndexOf("ISA", StringComparison.Ordinal);
        if (start < 0 || text.Length < start + 106) return "unknown";
        // ISA is fixed width: its 4th character is the element separator, its 106th the segment terminator.
        var (separator, terminator) = (text[start + 3], text[start + 105]);
        var st = text[start..].Split(terminator).Select(segment => segment.Trim()).FirstOrDefault(segment => segment.StartsWith($"ST{separator}", StringComparison.Ordinal));
        if (st is null || st.Length < 6) return "unknown";
        var code = st.Substring(3, 3);
        return code switch
        {
            "835" or "999" or "271" => code,
            "277" => text.Contains("X214", StringComparison.Ordinal) ? "277CA" : "277",
            _ => "unknown"
        };
    }

    private static string Reason(Outcome.Rejected rejected) =>
        string.Join("; ", new[] { rejected.Detail }.Concat(rejected.Errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")).Where(s => !string.IsNullOrEmpty(s)));
}
