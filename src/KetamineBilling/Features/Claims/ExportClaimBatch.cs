using System.Text;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;

namespace KetamineBilling.Features.Claims;

/// <summary>One exported 837 file. Its id (a database sequence) is the interchange control number.</summary>
public sealed class ClaimBatch
{
    public int Id { get; set; }
    public List<Guid> ClaimIds { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    public int Segments { get; set; }
}

public record ExportClaimBatch(IReadOnlyList<Guid>? ClaimIds);

public static class ExportClaimBatchEndpoint
{
    public const int MaxClaims = 500;

    public static ProblemDetails Validate(ExportClaimBatch command)
    {
        var problems = new ValidationProblems();
        if (command.ClaimIds is not { Count: > 0 }) problems.Add("claimIds", "must name at least one claim");
        else if (command.ClaimIds.Count > MaxClaims) problems.Add("claimIds", $"must name at most {MaxClaims} claims");
        else if (command.ClaimIds.Distinct().Count() != command.ClaimIds.Count) problems.Add("claimIds", "must not repeat a claim");
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// The 837P for the claims, as text/plain. Every claim must exist and still await the payer (filed,
    /// acknowledged or appealed); the file is recorded as a batch whose id is its interchange control number.
    /// </summary>
    [WolverinePost("/api/claim-batches"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Post(
        ExportClaimBatch command, IDocumentSession session, ClinicProfile clinic, IConfiguration configuration, HttpContext http, TimeProvider clock,
        CancellationToken ct)
    {
        var ids = command.ClaimIds!.ToArray();
        var claims = (await session.LoadManyAsync<Claim>(ct, ids)).ToDictionary(c => c.Id);
        var problems = new ValidationProblems();
        for (var i = 0; i < ids.Length; i++)
        {
            if (!claims.TryGetValue(ids[i], out var claim)) problems.Add($"claimIds[{i}]", "is not a claim");
            else if (claim.Status is not (ClaimStatus.Filed or ClaimStatus.Acknowledged or ClaimStatus.Appealed))
                problems.Add($"claimIds[{i}]", $"is {ApiEnum.Name(claim.Status)}: only claims awaiting the payer are sent");
        }

        if (problems.Any) return problems.ToResult(StatusCodes.Status422UnprocessableEntity);

        var patients = (await session.LoadManyAsync<PatientAccount>(ct, claims.Values.Select(c => c.PatientId).Distinct().ToArray())).ToDictionary(p => p.Id);
        var payers = (await session.LoadManyAsync<Payer>(ct, claims.Values.Select(c => c.PayerId).Distinct().ToArray())).ToDictionary(p => p.Id);
        var providerIds = claims.Values.Select(c => c.RenderingProviderId).OfType<string>().Distinct().ToArray();
        var providers = (await session.LoadManyAsync<Provider>(ct, providerIds)).ToDictionary(p => p.Id);
        var items = ids.Select(id => claims[id]).Select(c => new Claim837(
            c, patients[c.PatientId], patients[c.PatientId].Coverages.First(v => v.CoverageId == c.CoverageId), payers[c.PayerId],
            c.RenderingProviderId is { } p ? providers.GetValueOrDefault(p) : null)).ToList();

        var batch = new ClaimBatch { ClaimIds = [.. ids], CreatedAt = clock.GetUtcNow(), CreatedBy = http.User.FindFirst(UserClaims.UserId)?.Value ?? "" };
        session.Store(batch);
        await session.SaveChangesAsync(ct);

        var writer = new Claim837Writer(clinic, configuration["Clinic:ClearinghouseId"] ?? "CLEARINGHOUSE", configuration.GetValue("Clinic:X12Production", false),
            configuration["Clinic:ClearinghouseName"] ?? "CLEARINGHOUSE");
        var file = writer.Write(items, batch.Id, TimeZoneInfo.ConvertTime(clock.GetUtcNow(), TimeZoneInfo.FindSystemTimeZoneById(configuration["Clinic:TimeZone"] ?? "America/Chicago")));
        return Results.Text(file, "text/plain", Encoding.ASCII);
    }
}
