using KetamineBilling.Features.Ui;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <param name="LetterId">Made by the client: the idempotency key.</param>
public record RecordLetterOfMedicalNecessity(
    Guid LetterId, string? Condition, string? Treatment, string? Frequency, DateOnly? ValidFrom, DateOnly? ValidTo, string? ProviderId);

public static class RecordLetterEndpoint
{
    public static ProblemDetails Validate(RecordLetterOfMedicalNecessity command)
    {
        var problems = new ValidationProblems();
        if (command.LetterId == Guid.Empty) problems.Add("letterId", "is required: a client-made id");
        problems.RequireText("condition", command.Condition, 300);
        problems.RequireText("treatment", command.Treatment, 300);
        problems.RequireText("frequency", command.Frequency, 200);
        problems.RequireText("providerId", command.ProviderId, 40);
        if (command.ValidFrom is null) problems.Add("validFrom", "is required (yyyy-MM-dd)");
        if (command.ValidTo is null) problems.Add("validTo", "is required (yyyy-MM-dd)");
        else if (command.ValidFrom is { } from && command.ValidTo < from) problems.Add("validTo", "must be on or after validFrom");
        return problems.ToProblemDetails();
    }

    public static Task<Provider?> LoadAsync(RecordLetterOfMedicalNecessity command, IQuerySession session, CancellationToken ct) =>
        session.LoadAsync<Provider>(command.ProviderId!.Trim(), ct);

    /// <summary>A letter signed by a provider of the clinic; the same letter again is a replay, other content under its id a conflict.</summary>
    public static Outcome Decide(PatientAccount account, RecordLetterOfMedicalNecessity command, Provider? provider, DateTimeOffset now)
    {
        if (provider is null)
        {
            return Outcome.Reject("providerId", $"{command.ProviderId} is not a provider of the clinic");
        }

        var letter = new LetterOfMedicalNecessityRecorded(account.Id, command.LetterId, command.Condition!.Trim(), command.Treatment!.Trim(),
            command.Frequency!.Trim(), command.ValidFrom!.Value, command.ValidTo!.Value, provider.Id, now);
        if (account.Letters.FirstOrDefault(l => l.LetterId == command.LetterId) is { } existing)
        {
            return existing with { RecordedAt = letter.RecordedAt } == letter
                ? Outcome.Replay(existing)
                : Outcome.Conflict($"letter {command.LetterId} was already recorded with other content");
        }

        return Outcome.Created($"/api/patients/{account.Id}/medical-necessity-letters/{command.LetterId}", letter).Append(account.Id, letter);
    }

    [WolverinePost("/api/patients/{patientId}/medical-necessity-letters"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static (IResult, Events) Post(
        RecordLetterOfMedicalNecessity command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account,
        Provider? provider, TimeProvider clock)
    {
        var outcome = Decide(account, command, provider, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}
