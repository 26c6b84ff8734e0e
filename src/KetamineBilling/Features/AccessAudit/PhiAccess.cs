using System.Text;
using KetamineBilling.Features.Claims;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Remittances;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Pagination;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.AccessAudit;

/// <summary>How the patient an audited read is about is found from its route.</summary>
public enum PhiSubject
{
    /// <summary>The route's <c>patientId</c>.</summary>
    Patient,

    /// <summary>The patient of the claim named by the route's <c>claimId</c>.</summary>
    Claim,

    /// <summary>The patients of the claims an 835 (the route's <c>remittanceId</c>) posted to.</summary>
    Remittance,

    /// <summary>The patient of the prior authorization named by the route's <c>authorizationId</c>.</summary>
    PriorAuthorization,

    /// <summary>The patients of the statement run named by the route's <c>runId</c>.</summary>
    StatementRun,

    /// <summary>A search: which patients it finds is known only once it ran, so the read is recorded without them (nor the terms searched).</summary>
    Search
}

/// <summary>
/// Marks an endpoint that reads a patient's protected health information: every call that passes authorization is
/// recorded (who, when, which patient, which view) before it is answered. HIPAA 164.312(b).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PhiReadAttribute(string view) : Attribute
{
    /// <summary>The view's name in the audit (ledger, statement-pdf, claim, ...).</summary>
    public string View { get; } = view;

    public PhiSubject Subject { get; init; } = PhiSubject.Patient;
}

/// <summary>One read of PHI. Insert-only: nothing in the application updates or deletes one.</summary>
public sealed class PhiAccess
{
    public Guid Id { get; set; }
    public DateTimeOffset At { get; set; }
    public string UserId { get; set; } = "";
    public string? UserEmail { get; set; }

    /// <summary>The patients the read is about (one for an account's views, those of its claims for an 835).</summary>
    public Guid[] PatientIds { get; set; } = [];

    public string View { get; set; } = "";
    public string Method { get; set; } = "";

    /// <summary>The request path (ids only; the query string is not kept).</summary>
    public string Path { get; set; } = "";

    public string? CorrelationId { get; set; }
    public string? ClientAddress { get; set; }
}

public sealed record PhiAccessPage(IReadOnlyList<PhiAccess> Items, long TotalCount, int Page, int PageSize);

/// <summary>Writes the audit row of a PHI read, in its own session, before the read is answered.</summary>
public sealed class PhiAccessLog(IDocumentStore store, TimeProvider clock)
{
    /// <summary>Attempts at recording one read when the database drops a connection (a restart, a failover) under it.</summary>
    public const int Attempts = 3;

    /// <summary>
    /// Records the read. Everything it takes from the request is read before its first wait, so the endpoint may run
    /// meanwhile (<see cref="PhiAccessAudit"/>).
    /// </summary>
    public async Task RecordAsync(HttpContext context, PhiReadAttribute read)
    {
        // The record is the clinic's own, like the data read. Without a clinic the read is refused (400) before any of it.
        if (context.User.FindFirst(UserClaims.Clinic)?.Value is not { Length: > 0 } clinic) return;
        var routes = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in context.Request.RouteValues) routes[key] = value?.ToString();
        var aborted = context.RequestAborted;
        var record = new PhiAccess
        {
            Id = Guid.CreateVersion7(),
            At = clock.GetUtcNow(),
            UserId = context.User.FindFirst(UserClaims.UserId)?.Value ?? "",
            UserEmail = context.User.FindFirst(UserClaims.Email)?.Value,
            View = read.View,
            Method = context.Request.Method,
            Path = context.Request.Path.Value ?? "",
            CorrelationId = context.Request.Headers[Logging.CorrelationHeader].ToString() is { Length: > 0 } c ? c : null,
            ClientAddress = context.Connection.RemoteIpAddress?.ToString()
        };
        // A pooled connection that a database restart broke fails its first use: the record is tried again on a fresh one
        // before the read is refused (503). The same id each time: a commit whose answer was lost is found, not doubled.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                record.PatientIds = await PatientsAsync(routes, clinic, read.Subject, aborted);
                await using var session = store.LightweightSession(clinic);
                session.Insert(record);
                // Not the request's token: a read whose client has gone must still be recorded if any of it was sent.
                await session.SaveChangesAsync(CancellationToken.None);
                return;
            }
            catch (Exception e) when (attempt < Attempts && ProblemExceptionHandler.DatabaseWentAway(e))
            {
                await Task.Delay(100 * attempt, CancellationToken.None);
            }
            catch (Exception e) when (attempt > 1 && DecideAgainMiddleware.LostRace(e))
            {
                return;
            }
        }
    }

    private async Task<Guid[]> PatientsAsync(Dictionary<string, string?> routes, string clinic, PhiSubject subject, CancellationToken ct)
    {
        Guid? Route(string name) => Guid.TryParse(routes.GetValueOrDefault(name), out var id) ? id : null;
        await using var query = store.QuerySession(clinic);
        switch (subject)
        {
            case PhiSubject.Patient:
                return Route("patientId") is { } patient ? [patient] : [];
            case PhiSubject.Claim:
                return Route("claimId") is { } claimId
                    ? (await query.Query<Claim>().Where(c => c.Id == claimId).Select(c => c.PatientId).ToListAsync(ct)).ToArray()
                    : [];
            case PhiSubject.Search:
                return [];
            case PhiSubject.StatementRun:
                return Route("runId") is { } runId && await query.LoadAsync<PatientBilling.StatementRun>(runId, ct) is { } run
                    ? run.Statements.Select(s => s.PatientId).Distinct().ToArray()
                    : [];
            case PhiSubject.PriorAuthorization:
                return Route("authorizationId") is { } authorizationId
                    ? (await query.Query<PriorAuthorization>().Where(a => a.Id == authorizationId).Select(a => a.PatientId).ToListAsync(ct)).ToArray()
                    : [];
            default:
                if (Route("remittanceId") is not { } remittanceId || await query.LoadAsync<Remittance>(remittanceId, ct) is not { } remittance) return [];
                var claimIds = remittance.Posted.Select(p => p.ClaimId).Distinct().ToArray();
                return claimIds.Length == 0
                    ? []
                    : (await query.Query<Claim>().Where(c => claimIds.Contains(c.Id)).Select(c => c.PatientId).ToListAsync(ct)).Distinct().ToArray();
        }
    }
}

/// <summary>
/// Records every PHI read (an endpoint marked <see cref="PhiReadAttribute"/>) that passed authorization before any of
/// its answer is sent: a read that cannot be recorded is not answered (the database error is the request's 503).
/// The record is written while the endpoint runs; the answer's first byte (or its headers) waits for the record to
/// commit (<see cref="RecordedFirst"/>), so a read costs the longer of the two, not their sum (ADR 0017).
/// Keyed on endpoint metadata, not on generated handler code, so stale pre-generated code cannot skip it.
/// </summary>
public static class PhiAccessAudit
{
    public static IApplicationBuilder UsePhiAccessAudit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<PhiReadAttribute>() is not { } read || context.User.Identity?.IsAuthenticated != true)
        {
            await next(context);
            return;
        }

        var recorded = context.RequestServices.GetRequiredService<PhiAccessLog>().RecordAsync(context, read);
        var body = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()!;
        var gate = new RecordedFirst(recorded, body);
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>(gate);
        try
        {
            await next(context);
            // An answer with no body: still not finished before the record; what the endpoint left in the writer goes out.
            await recorded;
            await gate.FlushWriterAsync();
        }
        catch when (!recorded.IsCompleted)
        {
            // The endpoint failed first: the record is still made (the read was asked for) before the error is answered.
            await recorded;
            throw;
        }
        finally
        {
            context.Features.Set(body);
        }
    });

    /// <summary>
    /// The response body, held until the audit record is committed: its first write, flush or start waits for the record,
    /// and fails with it (nothing was sent, so the error handler still answers 503).
    /// </summary>
    private sealed class RecordedFirst : Stream, Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature
    {
        private readonly Task _recorded;
        private readonly Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature _inner;
        private System.IO.Pipelines.PipeWriter? _writer;

        public RecordedFirst(Task recorded, Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature inner) => (_recorded, _inner) = (recorded, inner);

        public Stream Stream => this;
        public System.IO.Pipelines.PipeWriter Writer => _writer ??= System.IO.Pipelines.PipeWriter.Create(this, new System.IO.Pipelines.StreamPipeWriterOptions(leaveOpen: true));
        public void DisableBuffering() => _inner.DisableBuffering();

        public async Task StartAsync(CancellationToken cancellationToken = default)
        {
            await _recorded;
            await _inner.StartAsync(cancellationToken);
        }

        public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
        {
            await _recorded;
            await _inner.SendFileAsync(path, offset, count, cancellationToken);
        }

        public async Task CompleteAsync()
        {
            await FlushWriterAsync();
            await _inner.CompleteAsync();
        }

        /// <summary>Sends what is left in the pipe writer (after the record) and gives its buffers back.</summary>
        public async Task FlushWriterAsync()
        {
            await _recorded;
            if (_writer is null) return;
            await _writer.FlushAsync();
            await _writer.CompleteAsync();
            _writer = null;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await _recorded;
            await _inner.Stream.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            await _recorded;
            await _inner.Stream.FlushAsync(cancellationToken);
        }

        // Synchronous writes are refused by ASP.NET Core unless allowed; if allowed, they wait the same way.
        public override void Write(byte[] buffer, int offset, int count)
        {
            _recorded.GetAwaiter().GetResult();
            _inner.Stream.Write(buffer, offset, count);
        }

        public override void Flush()
        {
            _recorded.GetAwaiter().GetResult();
            _inner.Stream.Flush();
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

/// <summary>Puts each endpoint method's <see cref="PhiReadAttribute"/> on its ASP.NET endpoint, where the audit middleware finds it.</summary>
public sealed class PhiReadPolicy : IHttpPolicy
{
    public void Apply(IReadOnlyList<HttpChain> chains, JasperFx.CodeGeneration.GenerationRules rules, JasperFx.IServiceContainer container)
    {
        foreach (var chain in chains)
        {
            if (chain.Method.Method.GetCustomAttributes(typeof(PhiReadAttribute), false).FirstOrDefault() is PhiReadAttribute read)
            {
                chain.Metadata.WithMetadata(read);
            }
        }
    }
}

public sealed record PhiAccessQuery(string? User, Guid? Patient, DateTimeOffset? From, DateTimeOffset? To, string? View);

public static class PhiAccessEndpoints
{
    public const int MaxCsvRows = 100_000;

    /// <summary>Who read which patient's PHI, newest first. Administrator only.</summary>
    /// <param name="user">The reader's user id or email (exact, case-insensitive for the email).</param>
    /// <param name="patient">The patient's id.</param>
    /// <param name="from">From this instant (ISO 8601) or day (yyyy-MM-dd, UTC), inclusive.</param>
    /// <param name="to">Until this instant, exclusive; a day (yyyy-MM-dd) includes that whole day (UTC).</param>
    /// <param name="view">The view's name (ledger, claim, ...).</param>
    [WolverineGet("/api/audit/phi-access"), Authorize(Policy = Policies.Administrator)]
    [Tags("Audit")]
    public static async Task<IResult> List(
        string? user, string? patient, string? from, string? to, string? view, int? page, int? pageSize, IQuerySession session, CancellationToken ct)
    {
        if (Parse(user, patient, from, to, view) is not { } filter) return Problem(patient, from, to);
        if (page is < 1) return Problems.Invalid("page", "must be 1 or more", StatusCodes.Status400BadRequest);
        if (pageSize is < 1 or > 500) return Problems.Invalid("pageSize", "must be between 1 and 500", StatusCodes.Status400BadRequest);
        var number = page ?? 1;
        var size = pageSize ?? 50;
        var (items, total) = await Filtered(session, filter).PageAsync(number, size, ct);
        return Results.Ok(new PhiAccessPage(items, total, number, size));
    }

    /// <summary>The same rows as CSV (UTF-8 with a byte-order mark), at most 100,000, newest first.</summary>
    [WolverineGet("/api/audit/phi-access.csv"), Authorize(Policy = Policies.Administrator)]
    [Tags("Audit")]
    public static async Task<IResult> Csv(string? user, string? patient, string? from, string? to, string? view, IQuerySession session, CancellationToken ct)
    {
        if (Parse(user, patient, from, to, view) is not { } filter) return Problem(patient, from, to);
        var rows = await Filtered(session, filter).Take(MaxCsvRows).ToListAsync(ct);
        var text = new StringBuilder("at,user_id,user_email,patient_ids,view,method,path,correlation_id,client_address\n");
        foreach (var r in rows)
        {
            text.Append(string.Join(',', r.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
                CsvText.Field(r.UserId), CsvText.Field(r.UserEmail), string.Join(' ', r.PatientIds), CsvText.Field(r.View), r.Method,
                CsvText.Field(r.Path), CsvText.Field(r.CorrelationId), CsvText.Field(r.ClientAddress))).Append('\n');
        }

        return CsvText.Download(text.ToString(), "phi-access.csv");
    }

    private static IQueryable<PhiAccess> Filtered(IQuerySession session, PhiAccessQuery filter)
    {
        IQueryable<PhiAccess> query = session.Query<PhiAccess>();
        if (filter.User is { } user)
        {
            var email = user.ToLowerInvariant();
            query = query.Where(a => a.UserId == user || a.UserEmail == email);
        }

        if (filter.Patient is { } patient) query = query.Where(a => a.PatientIds.Contains(patient));
        if (filter.From is { } from) query = query.Where(a => a.At >= from);
        if (filter.To is { } to) query = query.Where(a => a.At < to);
        if (filter.View is { } view) query = query.Where(a => a.View == view);
        return query.OrderByDescending(a => a.At).ThenByDescending(a => a.Id);
    }

    private static PhiAccessQuery? Parse(string? user, string? patient, string? from, string? to, string? view)
    {
        Guid? patientId = null;
        if (!string.IsNullOrWhiteSpace(patient))
        {
            if (!Guid.TryParse(patient, out var id)) return null;
            patientId = id;
        }

        if (Instant(from, false, out var start) is false || Instant(to, true, out var end) is false) return null;
        return new PhiAccessQuery(string.IsNullOrWhiteSpace(user) ? null : user.Trim(), patientId, start, end, string.IsNullOrWhiteSpace(view) ? null : view.Trim());
    }

    private static bool Instant(string? text, bool endOfDay, out DateTimeOffset? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", invariant, System.Globalization.DateTimeStyles.None, out var day))
        {
            value = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(endOfDay ? 1 : 0);
            return true;
        }

        if (DateTimeOffset.TryParse(text, invariant, System.Globalization.DateTimeStyles.AssumeUniversal, out var instant))
        {
            value = instant;
            return true;
        }

        return false;
    }

    private static IResult Problem(string? patient, string? from, string? to)
    {
        var problems = new ValidationProblems();
        if (!string.IsNullOrWhiteSpace(patient) && !Guid.TryParse(patient, out _)) problems.Add("patient", "must be a patient id (a GUID)");
        if (!Instant(from, false, out _)) problems.Add("from", "must be a date (yyyy-MM-dd) or an ISO 8601 instant");
        if (!Instant(to, true, out _)) problems.Add("to", "must be a date (yyyy-MM-dd) or an ISO 8601 instant");
        return problems.ToResult(StatusCodes.Status400BadRequest);
    }
}
