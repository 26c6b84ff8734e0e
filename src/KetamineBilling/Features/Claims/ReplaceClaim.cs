using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Ledger;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Claims;

/// <summary>A correction to one line of the claim being replaced: each part given replaces the line's.</summary>
/// <param name="Modifiers">The line's modifiers (an empty list removes them).</param>
/// <param name="PlaceOfService">The line's CMS place of service code.</param>
/// <param name="Drug">The drug given: its NDC, and the quantity in the NDC's unit.</param>
public record LineCorrection(int LineNumber, IReadOnlyList<string>? Modifiers = null, string? PlaceOfService = null, DrugInput? Drug = null);

/// <param name="ReplacementId">Made by the client: the replacement claim's id, the idempotency key.</param>
/// <param name="PayerClaimNumber">The payer's claim number (REF*F8); needed only when no 835 gave it (a paper EOB did).</param>
/// <param name="DiagnosisCodes">The corrected diagnoses; left out, the claim's.</param>
public record ReplaceClaim(
    Guid ReplacementId, string? Reason, string? PayerClaimNumber = null, IReadOnlyList<string>? DiagnosisCodes = null, IReadOnlyList<LineCorrection>? Lines = null);

public static class ReplaceClaimEndpoint
{
    public static ProblemDetails Validate(ReplaceClaim command)
    {
        var problems = new ValidationProblems();
        if (command.ReplacementId == Guid.Empty) problems.Add("replacementId", "is required: a client-made id for the replacement claim");
        problems.RequireText("reason", command.Reason, 500);
        ClaimDecisions.CheckPayerClaimNumber(problems, command.PayerClaimNumber);

        if (command.DiagnosisCodes is { } diagnoses)
        {
            if (diagnoses.Count is 0 or > 12) problems.Add("diagnosisCodes", "must hold 1 to 12 ICD-10-CM codes");
            for (var i = 0; i < diagnoses.Count; i++)
            {
                if (!DeliverSessionEndpoint.IsIcd10(diagnoses[i])) problems.Add($"diagnosisCodes[{i}]", "must be an ICD-10-CM code such as F33.2");
            }
        }

        var lines = command.Lines ?? [];
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            if (line is null)
            {
                problems.Add($"lines[{i}]", "is required: {lineNumber, modifiers?, placeOfService?, drug?}");
                continue;
            }

            if (line.LineNumber < 1) problems.Add($"lines[{i}].lineNumber", "must be a line number of the claim (1 or more)");
            else if (lines.Take(i).Any(l => l?.LineNumber == line.LineNumber)) problems.Add($"lines[{i}].lineNumber", "corrects a line already corrected above");
            LineCoding.Modifiers(line.Modifiers, $"lines[{i}].modifiers", problems);
            if (line.PlaceOfService is { } pos && !Locations.PlaceOfService.Codes.ContainsKey(pos.Trim()))
                problems.Add($"lines[{i}].placeOfService", $"must be a place of service code: {string.Join(", ", Locations.PlaceOfService.Codes.Keys)}");
            if (line.Drug is { } drug) LineCoding.Drug(drug.Ndc, drug.Quantity, drug.Unit, $"lines[{i}].drug", problems);
        }

        return problems.ToProblemDetails();
    }

    /// <summary>
    /// Replaces a claim the payer has adjudicated with a corrected one (frequency 7, naming the payer's claim number): the same
    /// sessions and charges, the corrected coding. The original is marked replaced and its sessions move to the replacement,
    /// which the payer's next answer posts to. The same replacement id again answers the replacement as filed.
    /// </summary>
    public static Outcome Decide(Claim original, Claim? existing, PatientAccount account, ReplaceClaim command, DateTimeOffset now)
    {
        var corrections = command.Lines ?? [];
        if (existing is not null)
        {
            var lines = Corrected(original, corrections, new ValidationProblems());
            var same = existing.ReplacesClaimId == original.Id && existing.Lines.Count == lines.Count
                       && existing.Lines.Zip(lines).All(x => SameCoding(x.First, x.Second))
                       && existing.DiagnosisCodes.SequenceEqual(Diagnoses(original, command));
            return same ? Outcome.Replay(ClaimView.From(existing)) : Outcome.Conflict($"claim {command.ReplacementId} was already filed with other content");
        }

        if (ClaimDecisions.Illegal(original, "replaced", ClaimDecisions.Correctable) is { } conflict) return conflict;
        var (payerClaimNumber, problem) = ClaimDecisions.PayerClaimNumber(original, command.PayerClaimNumber);
        if (problem is not null) return problem;

        var problems = new ValidationProblems();
        var corrected = Corrected(original, corrections, problems);
        foreach (var sessionId in original.Lines.Select(l => l.SessionId).Distinct())
        {
            if (account.Session(sessionId) is not { Voided: false }) problems.Add("claimId", $"session {sessionId} of the claim is voided: void the claim instead");
        }

        if (problems.Any) return Outcome.Reject(problems);

        var reason = command.Reason!.Trim();
        var controlNumber = FileClaimEndpoint.ControlNumber(command.ReplacementId);
        var filed = new ClaimFiled(command.ReplacementId, original.PatientId, original.PayerId, original.CoverageId, controlNumber, corrected,
            Diagnoses(original, command), FileClaimEndpoint.MostLines(corrected, l => l.AuthorizationNumber), original.RenderingProviderId, [],
            corrected.Sum(l => l.Charge), now, FileClaimEndpoint.MostLines(corrected, l => l.PlaceOfService), original.Id, payerClaimNumber, reason);
        var replaced = new ClaimReplaced(original.Id, command.ReplacementId, controlNumber, reason, now);
        var sessions = original.Lines.Select(l => l.SessionId).Distinct().ToList();
        return Outcome.Created($"/api/claims/{command.ReplacementId}", ClaimView.From(Claim.Create(filed)))
            .Start<Claim>(command.ReplacementId, filed)
            .Append(original.Id, replaced)
            .Append(original.PatientId,
                InsuranceOnAccount.Released(original.PatientId, original.Id, sessions, $"claim {original.ControlNumber} replaced by {controlNumber}: {reason}", now),
                InsuranceOnAccount.Claimed(account, command.ReplacementId, original.PayerId, sessions, [], now));
    }

    private static List<string> Diagnoses(Claim original, ReplaceClaim command) =>
        command.DiagnosisCodes is { } given ? given.Select(d => d.Trim().ToUpperInvariant()).Distinct().ToList() : [.. original.DiagnosisCodes];

    private static bool SameCoding(ClaimLine a, ClaimLine b) =>
        a.LineNumber == b.LineNumber && a.Modifiers.SequenceEqual(b.Modifiers) && a.PlaceOfService == b.PlaceOfService && a.Drug == b.Drug && a.Ndc == b.Ndc;

    /// <summary>The original's lines with the corrections applied (a correction naming no line of the claim is a 422).</summary>
    private static List<ClaimLine> Corrected(Claim original, IReadOnlyList<LineCorrection> corrections, ValidationProblems problems)
    {
        var lines = original.Lines.ToList();
        for (var i = 0; i < corrections.Count; i++)
        {
            var c = corrections[i];
            var at = lines.FindIndex(l => l.LineNumber == c.LineNumber);
            if (at < 0)
            {
                problems.Add($"lines[{i}].lineNumber", $"is not a line of claim {original.ControlNumber} (it has {original.Lines.Count})");
                continue;
            }

            var line = lines[at];
            if (c.Modifiers is not null) line = line with { Modifiers = LineCoding.Modifiers(c.Modifiers, $"lines[{i}].modifiers", problems) };
            if (c.PlaceOfService is { } pos) line = line with { PlaceOfService = pos.Trim() };
            if (c.Drug is { } d && LineCoding.Drug(d.Ndc, d.Quantity, d.Unit, $"lines[{i}].drug", problems) is { } drug) line = line with { Drug = drug, Ndc = drug.Ndc };
            lines[at] = line;
        }

        return lines;
    }

    [WolverinePost("/api/claims/{claimId}/replacement"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Post(Guid claimId, ReplaceClaim command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var original = await session.Events.FetchForWriting<Claim>(claimId, ct);
        if (original.Aggregate is null) return Outcome.NotFound($"claim {claimId} does not exist").ToResult();
        var existing = await session.LoadAsync<Claim>(command.ReplacementId, ct);
        // The patient stream is fetched for writing too: its version check holds against a concurrent change to the account.
        var account = await session.Events.FetchForWriting<PatientAccount>(original.Aggregate.PatientId, ct);
        var outcome = Decide(original.Aggregate, existing, account.Aggregate!, command, clock.GetUtcNow());
        outcome.AppendTo(session, original.Writing(), account.Writing());
        return outcome.ToResult();
    }
}
