using KetamineBilling.Features.Clearinghouse;
using System.Text;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Claims;

/// <summary>The claim's status was asked of the payer (a 276): its 277 answer echoes the trace.</summary>
public record ClaimStatusRequested(Guid ClaimId, Guid RequestId, string Trace, DateTimeOffset RequestedAt);

/// <summary>One exported 276 file. Its id (a database sequence) is the interchange control number.</summary>
public sealed class ClaimStatusRequestBatch
{
    public int Id { get; set; }

    /// <summary>The client's id of the request: the same id again answers the same file.</summary>
    public Guid RequestId { get; set; }

    public List<Guid> ClaimIds { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public string File { get; set; } = "";

    /// <summary>When the file was queued for the clinic's clearinghouse (null: none is set up; it is downloaded by hand).</summary>
    public DateTimeOffset? ClearinghouseQueuedAt { get; set; }

    /// <summary>When the clearinghouse exchange put it in the outbox.</summary>
    public DateTimeOffset? ClearinghouseSentAt { get; set; }
}

/// <param name="RequestId">Made by the client: the idempotency key (the same id again answers the same 276).</param>
/// <param name="OlderThanDays">Ask about every claim still awaiting the payer this many days after filing (default 30).</param>
/// <param name="ClaimIds">Or ask about these claims (each must await the payer).</param>
public record RequestClaimStatus(Guid RequestId, int? OlderThanDays = null, IReadOnlyList<Guid>? ClaimIds = null);

public static class RequestClaimStatusEndpoint
{
    public const int DefaultDays = 30;
    public const int MaxClaims = 500;

    public static ProblemDetails Validate(RequestClaimStatus command)
    {
        var problems = new ValidationProblems();
        if (command.RequestId == Guid.Empty) problems.Add("requestId", "is required: a client-made id (the same id again answers the same file)");
        if (command.OlderThanDays is < 0 or > 3650) problems.Add("olderThanDays", "must be from 0 to 3650");
        if (command.ClaimIds is { } ids)
        {
            if (command.OlderThanDays is not null) problems.Add("claimIds", "is given either with olderThanDays or alone, not both");
            if (ids.Count is 0 or > MaxClaims) problems.Add("claimIds", $"must name 1 to {MaxClaims} claims");
            else if (ids.Distinct().Count() != ids.Count) problems.Add("claimIds", "must not repeat a claim");
        }

        return problems.ToProblemDetails();
    }

    /// <summary>The trace (TRN02) of a claim's status request: the request's and the claim's place in it.</summary>
    public static string Trace(Guid requestId, int position) => $"{requestId.ToString("N")[..12].ToUpperInvariant()}-{position}";

    /// <summary>
    /// The request's decision: the one made before under this id answers again; else every named claim must await the payer
    /// (filed or acknowledged), or, by age, every claim awaiting it longer than the days given; each gets a trace.
    /// </summary>
    /// <param name="candidates">The named claims, or the claims awaiting the payer filed before the cut-off.</param>
    public static Outcome Decide(ClaimStatusRequestBatch? existing, RequestClaimStatus command, IReadOnlyList<Claim> candidates, string createdBy, DateTimeOffset now)
    {
        if (existing is not null)
        {
            return command.ClaimIds is null || existing.ClaimIds.SequenceEqual(command.ClaimIds)
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"status request {command.RequestId} was already made ({existing.Id:D9}) with other claims");
        }

        var problems = new ValidationProblems();
        if (command.ClaimIds is { } ids)
        {
            for (var i = 0; i < ids.Count; i++)
            {
                var claim = candidates.FirstOrDefault(c => c.Id == ids[i]);
                if (claim is null) problems.Add($"claimIds[{i}]", "is not a claim");
                else if (claim.Status is not (ClaimStatus.Filed or ClaimStatus.Acknowledged))
                    problems.Add($"claimIds[{i}]", $"is {ApiEnum.Name(claim.Status)}: only a claim awaiting the payer's answer is asked about");
            }
        }
        else if (candidates.Count == 0)
        {
            problems.Add("olderThanDays", $"no claim has awaited the payer more than {command.OlderThanDays ?? DefaultDays} days");
        }

        if (problems.Any) return Outcome.Reject(problems);
        var claims = command.ClaimIds is { } named ? named.Select(id => candidates.First(c => c.Id == id)).ToList() : candidates.Take(MaxClaims).ToList();
        var outcome = Outcome.Ok(new ClaimStatusRequestBatch { RequestId = command.RequestId, ClaimIds = claims.Select(c => c.Id).ToList(), CreatedAt = now, CreatedBy = createdBy });
        for (var i = 0; i < claims.Count; i++)
        {
            outcome = outcome.Append(claims[i].Id, new ClaimStatusRequested(claims[i].Id, command.RequestId, Trace(command.RequestId, i + 1), now));
        }

        return outcome;
    }

    /// <summary>
    /// A 276 claim status request (005010X212) for claims unanswered after N days, or for the claims named, as text/plain;
    /// each claim's history records the request, and the payer's 277 answers are imported with the acknowledgments.
    /// </summary>
    [WolverinePost("/api/claim-status-requests"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Post(
        RequestClaimStatus command, IDocumentSession session, ClinicProfiles profiles, IConfiguration configuration, HttpContext http, TimeProvider clock,
        ClinicCalendar calendar, IClearinghouse clearinghouse, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var existing = await session.Query<ClaimStatusRequestBatch>().FirstOrDefaultAsync(b => b.RequestId == command.RequestId, ct);
        IReadOnlyList<Claim> candidates = [];
        if (existing is null)
        {
            if (command.ClaimIds is { } ids) candidates = await session.LoadManyAsync<Claim>(ct, ids.ToArray());
            else
            {
                var before = now.AddDays(-(command.OlderThanDays ?? DefaultDays));
                candidates = await session.Query<Claim>()
                    .Where(c => (c.Status == ClaimStatus.Filed || c.Status == ClaimStatus.Acknowledged) && c.FiledAt < before)
                    .OrderBy(c => c.FiledAt).Take(MaxClaims).ToListAsync(ct);
            }
        }

        var outcome = Decide(existing, command, candidates, http.User.FindFirst(UserClaims.UserId)?.Value ?? "", now);
        if (outcome is Outcome.Replayed { Answer: ClaimStatusRequestBatch replayed }) return Results.Text(replayed.File, "text/plain", Encoding.ASCII);
        if (outcome is not Outcome.Accepted { Answer: ClaimStatusRequestBatch batch } accepted) return outcome.ToResult();

        var claims = batch.ClaimIds.Select(id => candidates.First(c => c.Id == id)).ToList();
        var items = await ExportClaimBatchEndpoint.ItemsAsync(session, claims, _ => false, ct);
        // Queued in the same transaction: the exchange sends it whatever happens to this node after the answer.
        batch.ClearinghouseQueuedAt = clearinghouse.Enabled ? now : null;
        // Storing assigns the batch its number (the interchange control number) before the file is written.
        session.Store(batch);
        var clinic = await profiles.CurrentAsync(session, ct);
        batch.File = new Claim276Writer(clinic, configuration["Clinic:ClearinghouseId"] ?? "CLEARINGHOUSE", configuration.GetValue("Clinic:X12Production", false))
            .Write(items.Select((c, i) => new Claim276(c, Trace(command.RequestId, i + 1))).ToList(), batch.Id, TimeZoneInfo.ConvertTime(now, calendar.Zone));
        foreach (var claim in claims) session.Events.Append(claim.Id, claim.Version + 1, accepted.EventsFor(claim.Id));
        await session.SaveChangesAsync(ct);
        return Results.Text(batch.File, "text/plain", Encoding.ASCII);
    }
}
