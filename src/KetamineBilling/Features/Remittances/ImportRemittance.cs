using KetamineBilling.Features.Ui;
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

/// <summary>One 835 (transaction set) of an uploaded file as read: its stream id and its content hash.</summary>
public sealed record ReadRemittance(Guid RemittanceId, Remittance835 Remittance, string ContentHash);

/// <param name="Remittances">The file's 835s, in file order.</param>
/// <param name="AcceptUnbalanced">Query acceptUnbalanced=true: post a file whose BPR02 does not balance, recorded on the remittance.</param>
/// <param name="AcceptedBy">The user who sent it (recorded when a file that does not balance is accepted).</param>
public sealed record ImportRemittance(IReadOnlyList<ReadRemittance> Remittances, bool AcceptUnbalanced, string AcceptedBy, string? AcceptedByEmail);

/// <summary>What an accepted import posts: each trace, with billing's acceptance when its file does not balance.</summary>
public sealed record RemittanceImportPlan(IReadOnlyList<ReadRemittance> Remittances, IReadOnlyDictionary<Guid, UnbalancedAcceptance> Unbalanced);

public static class ImportRemittanceEndpoint
{
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

    /// <summary>
    /// Whether the file posts. Every trace is checked before anything posts: a trace sent twice in the file, or claimed
    /// before with other content, refuses the whole file; so does a trace that does not balance (005010X221A1: BPR02 = the
    /// sum of CLP04 less the sum of the PLB amounts) unless billing accepts it. A trace already recorded with this content
    /// was checked (or accepted) when it was first sent. Accepted, the answer is the plan to post.
    /// </summary>
    /// <param name="recorded">The traces' streams as they are, by remittance id (absent: never sent).</param>
    public static Outcome Decide(IReadOnlyDictionary<Guid, Remittance> recorded, ImportRemittance command, DateTimeOffset now)
    {
        if (command.Remittances.GroupBy(r => r.RemittanceId).FirstOrDefault(g => g.Count() > 1) is { } twice)
            return Outcome.Reject("file", $"holds trace {twice.First().Remittance.TraceNumber} twice: send each check (TRN) once", StatusCodes.Status400BadRequest);

        var unbalanced = new Dictionary<Guid, UnbalancedAcceptance>();
        foreach (var (id, remittance, hash) in command.Remittances)
        {
            var existing = recorded.GetValueOrDefault(id);
            if (existing is not null && existing.ContentHash != hash)
                return Outcome.Conflict($"trace {remittance.TraceNumber} from {remittance.PayerName} was already {(existing.Posting ? "sent" : "posted")} with other content");

            var (claimPayments, providerAdjustments) = Totals(remittance);
            if (existing is null && Imbalance(remittance.PaymentAmount, claimPayments, providerAdjustments) is not null)
            {
                if (!command.AcceptUnbalanced)
                {
                    return Outcome.Reject("BPR02", $"of trace {remittance.TraceNumber} is {Fmt.Money(remittance.PaymentAmount)}; the claim payments (sum of CLP04) " +
                                                   $"{Fmt.Money(claimPayments)} less the provider adjustments (sum of PLB amounts) {Fmt.Money(providerAdjustments)} make " +
                                                   $"{Fmt.Money(claimPayments - providerAdjustments)}. The file does not balance; send it with acceptUnbalanced=true " +
                                                   "to post it as it is (recorded on the remittance)", StatusCodes.Status400BadRequest);
                }

                unbalanced[id] = new UnbalancedAcceptance(command.AcceptedBy, command.AcceptedByEmail, remittance.PaymentAmount, claimPayments, providerAdjustments, now);
            }
        }

        return Outcome.Ok(new RemittanceImportPlan(command.Remittances, unbalanced));
    }

    /// <summary>
    /// Reads the 835, then for each trace: claims the trace (<see cref="RemittancePostingStarted"/>, its content hash),
    /// posts each claim payment to its claim and the claim's patient in transactions of
    /// <see cref="ChunkedRemittancePosting.ClaimsPerTransaction"/>, and records the result (<see cref="RemittanceReceived"/>).
    /// A trace already posted answers with its original result and changes nothing; other content under a trace is 409. A
    /// file cut short (a crash, a lost connection, a failure) is finished by sending it again: each claim payment posts once
    /// (its source is the trace and its place in the file).
    /// </summary>
    [WolverinePost("/api/remittances"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Remittances")]
    public static async Task<IResult> Post(
        HttpRequest request, IDocumentSession session, IDocumentStore store, TimeProvider clock, ILogger<RemittanceUpload> logger, CancellationToken ct)
    {
        var configuration = request.HttpContext.RequestServices.GetRequiredService<IConfiguration>();
        var (read, problem) = await RemittanceBody.ReadAsync(request, RemittanceBody.MaxSegments(configuration), ct);
        if (problem is not null) return problem.ToResult();

        var user = request.HttpContext.User;
        var (outcome, _) = await ImportAsync(session, store, read!, bool.TryParse(request.Query["acceptUnbalanced"], out var accept) && accept,
            user.FindFirst(UserClaims.UserId)?.Value ?? "", user.FindFirst(UserClaims.Email)?.Value, clock, logger, ct);
        return outcome.ToResult();
    }

    /// <summary>
    /// Posts the 835s read from one file, from an upload or from the clearinghouse's inbox. Accepted, the answer is the
    /// <see cref="RemittanceUpload"/>. <c>TryAgain</c> is true when the refusal is of the moment (another request posting the
    /// same trace, changes that kept conflicting, a failure part-way): the same file again finishes it. A refusal of the
    /// file itself (it does not balance, a trace posted before with other content) is not.
    /// </summary>
    public static async Task<(Outcome Outcome, bool TryAgain)> ImportAsync(
        IDocumentSession session, IDocumentStore store, IReadOnlyList<Remittance835> read, bool acceptUnbalanced, string acceptedBy, string? acceptedByEmail,
        TimeProvider clock, ILogger logger, CancellationToken ct)
    {
        var command = new ImportRemittance(read.Select(r => new ReadRemittance(RemittanceId(r), r, RemittanceContentHash.Of(r))).ToList(),
            acceptUnbalanced, acceptedBy, acceptedByEmail);
        var recorded = (await session.LoadManyAsync<Remittance>(ct, command.Remittances.Select(r => r.RemittanceId).Distinct()))
            .ToDictionary(r => r.Id);

        var outcome = Decide(recorded, command, clock.GetUtcNow());
        if (outcome is not Outcome.Accepted { Answer: RemittanceImportPlan plan }) return (outcome, false);

        var results = new List<RemittanceResult>();
        foreach (var (id, remittance, hash) in plan.Remittances)
        {
            var posting = new ChunkedRemittancePosting(session, store, remittance, hash, plan.Unbalanced.GetValueOrDefault(id), clock.GetUtcNow(), logger);
            try
            {
                results.Add(await posting.RunAsync(ct));
            }
            catch (TraceTakenException e)
            {
                return (Outcome.Conflict(results.Count == 0 ? e.Message : $"{e.Message}; the {results.Count} trace(s) before it in this file posted in full"), true);
            }
            catch (Exception e) when (posting.Committed || results.Count > 0)
            {
                // Part of the file is posted: the answer says so, whatever went wrong, and how to finish it.
                var (status, title, _) = ProblemExceptionHandler.Classify(e);
                if (status >= 500) logger.LogError(e, "Posting trace {Trace} failed after {Posted} claim payment(s)", remittance.TraceNumber, posting.Posted);
                return (Outcome.Problem(status is 409 or 503 ? status : StatusCodes.Status500InternalServerError, title,
                    $"{results.Count} trace(s) of this file posted in full; trace {remittance.TraceNumber}: {posting.Posted} of " +
                    $"{remittance.Claims.Count} claim payments posted before {(status == 409 ? "other changes to the same accounts kept conflicting" : "the failure")}. " +
                    "Send the same file again to post the rest: what is posted is never posted twice."), true);
            }
        }

        return (Outcome.Ok(new RemittanceUpload(results, results.Sum(r => r.ClaimsPosted), results.Sum(r => r.LinesPosted), results.Sum(r => r.TotalPaid),
            results.Sum(r => r.Unmatched.Count), results.All(r => r.Duplicate))), false);
    }
}
