using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Ui;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Claims;

/// <param name="ClaimId">Made by the client: the idempotency key.</param>
/// <param name="PayerId">The payer's id in this system.</param>
public record FileClaim(Guid ClaimId, Guid PatientId, Guid PayerId, IReadOnlyList<Guid>? SessionIds);

public static class FileClaimEndpoint
{
    /// <summary>An 837P claim carries at most 50 service lines and 12 diagnosis codes.</summary>
    public const int MaxLines = 50;

    public static ProblemDetails Validate(FileClaim command)
    {
        var problems = new ValidationProblems();
        if (command.ClaimId == Guid.Empty) problems.Add("claimId", "is required: a client-made id");
        if (command.PatientId == Guid.Empty) problems.Add("patientId", "is required");
        if (command.PayerId == Guid.Empty) problems.Add("payerId", "is required");
        if (command.SessionIds is not { Count: > 0 }) problems.Add("sessionIds", "must name at least one session");
        else if (command.SessionIds.Distinct().Count() != command.SessionIds.Count) problems.Add("sessionIds", "must not repeat a session");
        return problems.ToProblemDetails();
    }

    /// <summary>The patient control number (CLM01): 20 characters payers accept and echo, unique per claim.</summary>
    public static string ControlNumber(Guid claimId) => "KB" + claimId.ToString("N")[^18..].ToUpperInvariant();

    /// <summary>
    /// Files the sessions on a claim to the payer (a new claim stream) and puts them on it on the account; the same claim
    /// id again with the same content answers the claim as filed.
    /// </summary>
    public static Outcome Decide(PatientAccount account, FileClaim command, Payer? payer, Claim? existing, ClinicProfile clinic, DateTimeOffset now)
    {
        if (existing is not null)
        {
            var same = existing.PatientId == command.PatientId && existing.PayerId == command.PayerId
                       && existing.Lines.Select(l => l.SessionId).Distinct().Order().SequenceEqual(command.SessionIds!.Order());
            return same ? Outcome.Replay(ClaimView.From(existing)) : Outcome.Conflict($"claim {command.ClaimId} was already filed with other content");
        }

        if (payer is null) return Outcome.Reject("payerId", "is not a payer");

        var problems = new ValidationProblems();
        var sessions = new List<AccountSession>();
        for (var i = 0; i < command.SessionIds!.Count; i++)
        {
            var session = account.Session(command.SessionIds[i]);
            var field = $"sessionIds[{i}]";
            if (session is null) problems.Add(field, "is not a session of this patient");
            else if (session.Voided) problems.Add(field, "is a voided session");
            else if (!session.Funding.Contains(FundingSource.Insurance)) problems.Add(field, "has no insurance in its funding plan");
            else if (session.Claims.Any(c => c.PayerId == payer.Id))
                return Outcome.Conflict($"session {session.SessionId} is already on an open claim to this payer");
            else sessions.Add(session);
        }

        var coverage = account.Coverages
            .Where(c => c.PayerId == payer.Id)
            .FirstOrDefault(c => sessions.All(s => c.ActiveOn(s.DeliveredOn)));
        if (coverage is null) problems.Add("payerId", "the patient has no coverage with this payer active on every date of service");
        var diagnoses = sessions.SelectMany(s => s.DiagnosisCodes).Distinct().ToList();
        if (diagnoses.Count > 12) problems.Add("sessionIds", "the sessions carry more than the 12 diagnosis codes one claim can hold");
        var lines = sessions.OrderBy(s => s.DeliveredOn).SelectMany(s => s.Lines.Select(l => (Session: s, Line: l))).ToList();
        if (lines.Count > MaxLines) problems.Add("sessionIds", $"the sessions have {lines.Count} lines; a claim holds at most {MaxLines}");
        if (problems.Any) return Outcome.Reject(problems);

        // An authorization counts for the payer that granted it only; older checks (no payer recorded) are trusted.
        bool ForThisPayer(AccountSession s) => s.AuthorizationPayerId is null || s.AuthorizationPayerId == payer.Id;
        var claimLines = lines.Select((x, i) => new ClaimLine(i + 1, x.Session.SessionId, x.Line.LineNumber, x.Line.Code, x.Line.Modifiers, x.Line.Units,
            x.Line.Charge, x.Session.DeliveredOn, x.Line.Drug?.Ndc ?? clinic.Ndcs.GetValueOrDefault(x.Line.Code), x.Line.Description,
            x.Session.PlaceOfService ?? Claim.OfficePlaceOfService, x.Line.Drug, ForThisPayer(x.Session) ? x.Session.AuthorizationNumber : null)).ToList();
        var warnings = sessions
            .Where(s => s.AuthorizationFlag is { } flag && flag != AuthorizationFlag.None)
            .Select(s => $"{Fmt.Date(s.DeliveredOn)}: {ApiEnum.Name(s.AuthorizationFlag!.Value)} (expect CARC {(s.AuthorizationFlag == AuthorizationFlag.NoAuthorization ? "197" : "198")})")
            .Concat(sessions.Where(s => s.AuthorizationNumber is not null && !ForThisPayer(s))
                .Select(s => $"{Fmt.Date(s.DeliveredOn)}: its authorization is from another payer (expect CARC 197)"))
            .ToList();
        if (account.Address is null) warnings.Add("the patient has no address on file: the payer may reject the claim (2010BA N3/N4)");
        warnings.AddRange(claimLines.Where(l => l.Ndc is null && LineCoding.NeedsNdc(l.Code))
            .Select(l => $"line {l.LineNumber} ({l.Code}, {Fmt.Date(l.DateOfService)}): no NDC: most payers deny this drug code without one (2410 LIN)"));
        // Spravato's coding rules for this payer and benefit path: flagged on the claim as filed, the lines left as recorded.
        warnings.AddRange(sessions.SelectMany(s => SpravatoCoding.Check(account, s, payer.Kind, coverage!.DrugBenefit)
            .Select(f => $"{Fmt.Date(s.DeliveredOn)}: Spravato coding: {f.Detail} (source: {f.Source})")));
        var filed = new ClaimFiled(command.ClaimId, account.Id, payer.Id, coverage!.CoverageId, ControlNumber(command.ClaimId), claimLines, diagnoses,
            MostLines(claimLines, l => l.AuthorizationNumber), sessions.Select(s => s.ProviderId).FirstOrDefault(p => p is not null),
            warnings, claimLines.Sum(l => l.Charge), now, MostLines(claimLines, l => l.PlaceOfService));
        // What the patient still owes on these lines becomes the payer's to answer for until it adjudicates.
        var moves = lines.Where(x => x.Line.Open.Patient > 0)
            .Select(x => new ResponsibilityMove(x.Session.SessionId, x.Line.LineNumber, ResponsibleParty.Patient, ResponsibleParty.Insurance, x.Line.Open.Patient))
            .ToList();
        var claimed = InsuranceOnAccount.Claimed(account, command.ClaimId, payer.Id, sessions.Select(s => s.SessionId).ToList(), moves, now);
        return Outcome.Created($"/api/claims/{command.ClaimId}", ClaimView.From(Claim.Create(filed)))
            .Start<Claim>(filed.ClaimId, filed)
            .Append(account.Id, claimed);
    }

    /// <summary>
    /// The claim-level value of a line attribute: the one most lines carry, the first of them on a tie. A line whose value
    /// differs carries its own on the line (837P: line-level REF*G1 and SV105 only where they differ from the claim's).
    /// </summary>
    public static string? MostLines(IReadOnlyList<ClaimLine> lines, Func<ClaimLine, string?> value) =>
        lines.Select(value).Where(v => v is not null).GroupBy(v => v).OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault();

    public static async Task<(Payer?, Claim?)> LoadAsync(FileClaim command, IQuerySession session, CancellationToken ct) =>
        (await session.LoadAsync<Payer>(command.PayerId, ct), await session.LoadAsync<Claim>(command.ClaimId, ct));

    [WolverinePost("/api/claims"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Post(
        FileClaim command, Payer? payer, Claim? existing, IDocumentSession session, ClinicProfiles profiles, TimeProvider clock, CancellationToken ct)
    {
        var clinic = await profiles.CurrentAsync(session, ct);
        // The patient stream is fetched for writing: its version check stops two claims taking one session at once.
        var account = await session.Events.FetchForWriting<PatientAccount>(command.PatientId, ct);
        if (account.Aggregate is null) return Outcome.NotFound($"patient {command.PatientId} does not exist").ToResult();
        var outcome = Decide(account.Aggregate, command, payer, existing, clinic, clock.GetUtcNow());
        outcome.AppendTo(session, account.Writing());
        return outcome.ToResult();
    }
}
