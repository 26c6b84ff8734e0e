using KetamineBilling.Features.Clearinghouse;
using KetamineBilling.Features.Clinic;
using System.Text;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using Marten;
using Marten.Linq.MatchesSql;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Claims;

/// <summary>One exported 837 file. Its id (a database sequence) is the interchange control number.</summary>
public sealed class ClaimBatch
{
    public int Id { get; set; }

    /// <summary>The client's id of the export: the same id again answers the same file.</summary>
    public Guid BatchId { get; set; }

    public List<Guid> ClaimIds { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public int Segments { get; set; }

    /// <summary>The 837 as it was sent, returned byte for byte when the export is replayed.</summary>
    public string File { get; set; } = "";

    /// <summary>Set when the batch sends claims an earlier batch sent: why, and which claims went in which batch before.</summary>
    public string? ResubmissionReason { get; set; }

    public List<ResentClaim> Resent { get; set; } = [];

    /// <summary>The claims this batch sent as voids (frequency 8): voided claims, each sent as a void once unless resubmitted.</summary>
    public List<Guid> Voids { get; set; } = [];

    /// <summary>When the file was queued for the clinic's clearinghouse (null: none is set up; it is downloaded by hand).</summary>
    public DateTimeOffset? ClearinghouseQueuedAt { get; set; }

    /// <summary>When the clearinghouse exchange put it in the outbox.</summary>
    public DateTimeOffset? ClearinghouseSentAt { get; set; }
}

/// <param name="EarlierBatch">The interchange control number (ISA13) of the batch that sent the claim before.</param>
public sealed record ResentClaim(Guid ClaimId, int EarlierBatch, Guid EarlierBatchId);

/// <param name="BatchId">Made by the client: the idempotency key of the export (the same id again answers the same 837).</param>
/// <param name="Resubmission">True to send again claims an earlier batch sent; it needs <paramref name="ResubmissionReason"/>.</param>
public record ExportClaimBatch(IReadOnlyList<Guid>? ClaimIds, Guid? BatchId = null, bool Resubmission = false, string? ResubmissionReason = null);

public static class ExportClaimBatchEndpoint
{
    public const int MaxClaims = 500;

    /// <summary>The PostgreSQL advisory lock key that serialises batch exports ("KB837B").</summary>
    private const long ExportLock = 0x4B42_3833_3742;

    public static ProblemDetails Validate(ExportClaimBatch command)
    {
        var problems = new ValidationProblems();
        if (command.BatchId is null || command.BatchId == Guid.Empty) problems.Add("batchId", "is required: a client-made id (the same id again answers the same file)");
        if (command.ClaimIds is not { Count: > 0 }) problems.Add("claimIds", "must name at least one claim");
        else if (command.ClaimIds.Count > MaxClaims) problems.Add("claimIds", $"must name at most {MaxClaims} claims");
        else if (command.ClaimIds.Distinct().Count() != command.ClaimIds.Count) problems.Add("claimIds", "must not repeat a claim");
        if (command.Resubmission) problems.RequireText("resubmissionReason", command.ResubmissionReason, 500);
        else if (command.ResubmissionReason is not null) problems.Add("resubmissionReason", "is only given with resubmission: true");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// The 837P for the claims, as text/plain. Every claim must exist and still await the payer (filed,
    /// acknowledged or appealed); the file is recorded as a batch whose id is its interchange control number.
    /// The same batch id again answers the same bytes (other claims under it: 409). A claim an earlier batch sent goes
    /// into another only with <c>resubmission: true</c> and a reason, recorded on the batch; else 409 naming both.
    /// </summary>
    [WolverinePost("/api/claim-batches"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Post(
        ExportClaimBatch command, IDocumentSession session, ClinicProfiles profiles, IConfiguration configuration, HttpContext http, TimeProvider clock,
        ClinicCalendar calendar, IClearinghouse clearinghouse, CancellationToken ct)
    {
        var clinic = await profiles.CurrentAsync(session, ct);
        var ids = command.ClaimIds!.ToArray();
        // One export at a time, on every node: two batches made at once must not both send a claim neither saw sent.
        // The lock is the transaction's, released when it commits or the session goes.
        await session.BeginTransactionAsync(ct);
        await session.QueryAsync<int>("select 1 from pg_advisory_xact_lock(?)", ct, ExportLock);
        var now = clock.GetUtcNow();
        var createdBy = http.User.FindFirst(UserClaims.UserId)?.Value ?? "";
        if (await ExistingAsync(session, command, ct) is { } existing) return Answer(Decide(existing, command, new Dictionary<Guid, Claim>(), [], createdBy, now));

        var claims = (await session.LoadManyAsync<Claim>(ct, ids)).ToDictionary(c => c.Id);
        // The batches that sent any of these claims before (ClaimIds is a JSON array of ids: ?| finds any of them).
        var earlier = await session.Query<ClaimBatch>()
            .Where(b => b.MatchesSql('^', "d.data -> 'ClaimIds' ?| ^", new object[] { ids.Select(id => id.ToString()).ToArray() }))
            .OrderBy(b => b.Id).ToListAsync(ct);
        var outcome = Decide(null, command, claims, earlier, createdBy, now);
        if (outcome is not Outcome.Accepted { Answer: ClaimBatch batch }) return Answer(outcome);

        var items = await ItemsAsync(session, ids.Select(id => claims[id]).ToList(), batch.Voids.Contains, ct);

        // Queued in the same transaction: the exchange sends it whatever happens to this node after the answer.
        batch.ClearinghouseQueuedAt = clearinghouse.Enabled ? now : null;
        // Storing assigns the batch its number (the interchange control number) before the file is written.
        session.Store(batch);
        var writer = new Claim837Writer(clinic, configuration["Clinic:ClearinghouseId"] ?? "CLEARINGHOUSE", configuration.GetValue("Clinic:X12Production", false),
            configuration["Clinic:ClearinghouseName"] ?? "CLEARINGHOUSE");
        batch.File = writer.Write(items, batch.Id, TimeZoneInfo.ConvertTime(now, calendar.Zone));
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (Exception e) when (ProblemExceptionHandler.Classify(e).Status == StatusCodes.Status409Conflict)
        {
            // The same batch id saved a moment ago by another request (the unique index on BatchId): answer as a replay.
            await using var again = session.DocumentStore.QuerySession(session.TenantId);
            if (await ExistingAsync(again, command, CancellationToken.None) is { } other) return Answer(Decide(other, command, claims, earlier, createdBy, now));
            throw;
        }

        return File(batch);
    }

    /// <summary>
    /// The export's decision: the batch made before under this id answers again (its same bytes; 409 when it sent other
    /// claims); else every claim must exist and await the payer, and a claim an earlier batch sent goes again only as a
    /// resubmission. Accepted, the answer is the batch to record (its number and file are the store's and the writer's).
    /// </summary>
    /// <param name="existing">The batch already made under the command's batch id, if any.</param>
    /// <param name="earlier">The batches that sent any of the claims before, oldest first.</param>
    public static Outcome Decide(
        ClaimBatch? existing, ExportClaimBatch command, IReadOnlyDictionary<Guid, Claim> claims, IReadOnlyList<ClaimBatch> earlier, string createdBy,
        DateTimeOffset now)
    {
        if (existing is not null)
        {
            var same = existing.ClaimIds.SequenceEqual(command.ClaimIds!) && (existing.ResubmissionReason is not null) == command.Resubmission
                       && existing.ResubmissionReason == command.ResubmissionReason?.Trim();
            return same ? Outcome.Replay(existing) : Outcome.Conflict($"batch {command.BatchId} was already made ({existing.Id:D9}) with other claims or another resubmission");
        }

        var ids = command.ClaimIds!.ToArray();
        var problems = new ValidationProblems();
        for (var i = 0; i < ids.Length; i++)
        {
            if (!claims.TryGetValue(ids[i], out var claim)) problems.Add($"claimIds[{i}]", "is not a claim");
            else if (claim.Status is not (ClaimStatus.Filed or ClaimStatus.Acknowledged or ClaimStatus.Appealed or ClaimStatus.Voided))
                problems.Add($"claimIds[{i}]", $"is {ApiEnum.Name(claim.Status)}: only claims awaiting the payer, and voided claims (as voids), are sent");
        }

        if (problems.Any) return Outcome.Reject(problems);

        // A voided claim goes as its void: only an earlier void of it is a sending before.
        var voids = ids.Where(id => claims[id].Status == ClaimStatus.Voided).ToList();
        var resent = ids.SelectMany(id => earlier.Where(b => b.ClaimIds.Contains(id) && b.Voids.Contains(id) == voids.Contains(id)).Take(1)
            .Select(b => new ResentClaim(id, b.Id, b.BatchId))).ToList();
        if (resent.Count > 0 && !command.Resubmission)
        {
            var first = resent[0];
            return Outcome.Conflict($"claim {claims[first.ClaimId].ControlNumber} ({first.ClaimId}) was already sent in batch {first.EarlierBatch:D9} " +
                                    $"(batchId {first.EarlierBatchId})" + (resent.Count > 1 ? $", and {resent.Count - 1} more of these claims in earlier batches" : "") +
                                    ": to send it again, set resubmission: true with a resubmissionReason");
        }

        return Outcome.Ok(new ClaimBatch
        {
            BatchId = command.BatchId!.Value, ClaimIds = [.. ids], CreatedAt = now, CreatedBy = createdBy,
            ResubmissionReason = command.Resubmission ? command.ResubmissionReason!.Trim() : null, Resent = command.Resubmission ? resent : [], Voids = voids
        });
    }

    /// <summary>Each claim with what its file needs: its patient and coverage, its payer, its rendering provider.</summary>
    public static async Task<List<Claim837>> ItemsAsync(IQuerySession session, IReadOnlyList<Claim> claims, Func<Guid, bool> asVoid, CancellationToken ct)
    {
        var patients = (await session.LoadManyAsync<PatientAccount>(ct, claims.Select(c => c.PatientId).Distinct().ToArray())).ToDictionary(p => p.Id);
        var payers = (await session.LoadManyAsync<Payer>(ct, claims.Select(c => c.PayerId).Concat(claims.Select(c => c.PriorPayer?.PayerId).OfType<Guid>())
            .Distinct().ToArray())).ToDictionary(p => p.Id);
        var providerIds = claims.Select(c => c.RenderingProviderId).OfType<string>().Distinct().ToArray();
        var providers = (await session.LoadManyAsync<Provider>(ct, providerIds)).ToDictionary(p => p.Id);
        return claims.Select(c => new Claim837(
            c, patients[c.PatientId], patients[c.PatientId].CoverageFor(c.CoverageId)!, payers[c.PayerId],
            c.RenderingProviderId is { } p ? providers.GetValueOrDefault(p) : null, asVoid(c.Id),
            c.PriorPayer is { } prior ? payers.GetValueOrDefault(prior.PayerId) : null,
            c.PriorPayer is { } before ? patients[c.PatientId].CoverageFor(before.CoverageId) : null)).ToList();
    }

    /// <summary>The batch already made under the command's batch id.</summary>
    private static Task<ClaimBatch?> ExistingAsync(IQuerySession session, ExportClaimBatch command, CancellationToken ct)
    {
        var id = command.BatchId!.Value;
        return session.Query<ClaimBatch>().FirstOrDefaultAsync(b => b.BatchId == id, ct);
    }

    /// <summary>The answer is the 837 itself (text/plain), not JSON: a replay answers the batch's same bytes.</summary>
    private static IResult Answer(Outcome outcome) => outcome is Outcome.Replayed { Answer: ClaimBatch batch } ? File(batch) : outcome.ToResult();

    private static IResult File(ClaimBatch batch) => Results.Text(batch.File, "text/plain", Encoding.ASCII);
}
