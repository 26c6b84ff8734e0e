using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// The patient's details as they should now read: every field, like the registration (a field left out is cleared;
/// <c>sex</c> left out is U, unknown; <c>address</c> left out removes the address).
/// </summary>
/// <param name="ChangeId">Made by the client: the idempotency key (the same correction again changes nothing and
/// answers 200; other details under it are a 409).</param>
public record CorrectPatientDetails(
    Guid ChangeId, string? FirstName, string? LastName, DateOnly? DateOfBirth, string? Sex = null, string? Email = null, string? Phone = null,
    PostalAddress? Address = null);

public static class CorrectPatientDetailsEndpoint
{
    public static ProblemDetails Validate(CorrectPatientDetails command, TimeProvider clock)
    {
        var problems = new ValidationProblems();
        if (command.ChangeId == Guid.Empty) problems.Add("changeId", "is required: a client-made id that makes the correction idempotent");
        PatientDetailsRules.Check(problems, command.FirstName, command.LastName, command.DateOfBirth, command.Email, command.Phone, command.Sex,
            command.Address, clock);
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// A <see cref="PatientDetailsCorrected"/> when a name, the date of birth, sex, email or phone differ from the account, a
    /// <see cref="PatientAddressChanged"/> when the address differs; nothing when nothing differs.
    /// </summary>
    public static Outcome Decide(PatientAccount account, CorrectPatientDetails command, DateTimeOffset now)
    {
        var fingerprint = Fingerprint.Of(command);
        if (account.DetailChanges.TryGetValue(command.ChangeId, out var recorded))
        {
            return recorded == fingerprint
                ? Outcome.Replay(View(account))
                : Outcome.Conflict($"change {command.ChangeId} was already recorded with other details: a new correction needs a new changeId");
        }

        var dateOfBirth = command.DateOfBirth!.Value;
        var firstService = account.Sessions.Where(s => !s.Voided).Select(s => (DateOnly?)s.DeliveredOn).Min();
        if (dateOfBirth > firstService)
        {
            return Outcome.Reject("dateOfBirth", $"must not be after the patient's first date of service, {Ui.Fmt.Date(firstService.Value)}");
        }

        var events = new List<object>();
        var corrected = new PatientDetailsCorrected(account.Id, command.ChangeId, command.FirstName!.Trim(), command.LastName!.Trim(), dateOfBirth,
            command.Sex ?? "U", Blank(command.Email), Blank(command.Phone), now, fingerprint);
        if (corrected.FirstName != account.FirstName || corrected.LastName != account.LastName || corrected.DateOfBirth != account.DateOfBirth
            || corrected.Sex != account.Sex || corrected.Email != account.Email || corrected.Phone != account.Phone)
        {
            events.Add(corrected);
        }

        var address = PatientDetailsRules.Normalize(command.Address);
        if (address != account.Address) events.Add(new PatientAddressChanged(account.Id, command.ChangeId, address, now, fingerprint));

        var view = new PatientDetails(account.Id, corrected.FirstName, corrected.LastName, dateOfBirth, corrected.Sex, corrected.Email, corrected.Phone, address);
        return Outcome.Ok(view).Append(account.Id, events);
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static PatientDetails View(PatientAccount a) => new(a.Id, a.FirstName, a.LastName, a.DateOfBirth, a.Sex, a.Email, a.Phone, a.Address);

    [WolverinePost("/api/patients/{patientId}/details"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patients")]
    public static (IResult, Events) Post(
        CorrectPatientDetails command, [WriteAggregate("patientId", OnMissing = OnMissing.ProblemDetailsWith404)] PatientAccount account, TimeProvider clock)
    {
        var outcome = Decide(account, command, clock.GetUtcNow());
        return (outcome.ToResult(), [.. outcome.EventsFor(account.Id)]);
    }
}

/// <summary>The patient's details after a correction.</summary>
public sealed record PatientDetails(
    Guid Id, string FirstName, string LastName, DateOnly DateOfBirth, string Sex, string? Email, string? Phone, PostalAddress? Address);
