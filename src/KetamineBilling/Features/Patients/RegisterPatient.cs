using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;

namespace KetamineBilling.Features.Patients;

/// <param name="PatientId">Made by the client: the idempotency key (the same registration again answers 200 with the
/// same id; other details under it are a 409). Left out, the server makes one (and a resend registers again).</param>
public record RegisterPatient(
    string FirstName, string LastName, DateOnly? DateOfBirth, string? Email, string? Phone, PostalAddress? Address = null, string? Sex = null,
    Guid? PatientId = null);

public record PatientCreated(Guid Id) : CreationResponse($"/api/patients/{Id}");

/// <summary>The rules a patient's details follow, at registration and at every correction.</summary>
public static class PatientDetailsRules
{
    public static void Check(
        ValidationProblems problems, string? firstName, string? lastName, DateOnly? dateOfBirth, string? email, string? phone, string? sex,
        PostalAddress? address, TimeProvider clock)
    {
        problems.RequireText("firstName", firstName, 100);
        problems.RequireText("lastName", lastName, 100);
        problems.Check("firstName", firstName);
        problems.Check("lastName", lastName);
        if (dateOfBirth is not { } dob)
        {
            problems.Add("dateOfBirth", "is required (yyyy-MM-dd)");
        }
        else if (dob > DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime) || dob.Year < 1900)
        {
            problems.Add("dateOfBirth", "must be a past date after 1900-01-01");
        }

        if (email is { Length: > 0 } && (email.Length > 254 || !email.Contains('@')))
        {
            problems.Add("email", "must be an email address");
        }

        if (phone is { Length: > 40 })
        {
            problems.Add("phone", "must be at most 40 characters");
        }

        if (sex is not null && sex is not ("F" or "M" or "U"))
        {
            problems.Add("sex", "must be F, M or U");
        }

        if (address is { } a)
        {
            problems.RequireText("address.line1", a.Line1, 55);
            problems.RequireText("address.city", a.City, 30);
            if (a.Line2 is { Length: > 55 }) problems.Add("address.line2", "must be at most 55 characters");
            problems.Check("address.line1", a.Line1);
            problems.Check("address.line2", a.Line2);
            problems.Check("address.city", a.City);
            if (a.State is null || !System.Text.RegularExpressions.Regex.IsMatch(a.State, "^[A-Za-z]{2}$")) problems.Add("address.state", "must be a two-letter state code");
            if (a.PostalCode is null || !System.Text.RegularExpressions.Regex.IsMatch(a.PostalCode, "^[0-9]{5}([0-9]{4})?$"))
                problems.Add("address.postalCode", "must be a 5 or 9 digit ZIP code");
        }
    }

    /// <summary>The address as stored: trimmed, the state upper-case, an empty second line left out.</summary>
    public static PostalAddress? Normalize(PostalAddress? a) => a is null
        ? null
        : new PostalAddress(a.Line1.Trim(), string.IsNullOrWhiteSpace(a.Line2) ? null : a.Line2.Trim(), a.City.Trim(), a.State.Trim().ToUpperInvariant(),
            a.PostalCode.Trim());
}

public static class RegisterPatientEndpoint
{
    public static ProblemDetails Validate(RegisterPatient command, TimeProvider clock)
    {
        var problems = new ValidationProblems();
        PatientDetailsRules.Check(problems, command.FirstName, command.LastName, command.DateOfBirth, command.Email, command.Phone, command.Sex,
            command.Address, clock);
        return problems.ToProblemDetails();
    }

    /// <summary>
    /// A new account, started with its registration; under a client-made id already registered, the same details are a
    /// replay and other details a conflict. <paramref name="existing"/>: that id's registration, when there is one.
    /// </summary>
    public static Outcome Decide(PatientRegistered? existing, RegisterPatient command, Guid patientId, DateTimeOffset now)
    {
        if (patientId == Guid.Empty) return Outcome.Reject("patientId", "must not be the empty id", StatusCodes.Status400BadRequest);
        if (existing is not null)
        {
            return Registration(command, patientId, existing.RegisteredAt) == existing
                ? Outcome.Replay(new PatientCreated(patientId))
                : Outcome.Conflict($"patient {patientId} is registered with other details: a new registration needs a new patientId");
        }

        var registered = Registration(command, patientId, now);
        return Outcome.Created($"/api/patients/{patientId}", new PatientCreated(patientId)).Start<PatientAccount>(patientId, registered);
    }

    private static PatientRegistered Registration(RegisterPatient command, Guid patientId, DateTimeOffset now) =>
        new(patientId, command.FirstName.Trim(), command.LastName.Trim(), command.DateOfBirth!.Value,
            string.IsNullOrWhiteSpace(command.Email) ? null : command.Email.Trim(),
            string.IsNullOrWhiteSpace(command.Phone) ? null : command.Phone.Trim(),
            now,
            command.Address,
            command.Sex);

    [WolverinePost("/api/patients"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patients")]
    public static async Task<IResult> Post(RegisterPatient command, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var existing = command.PatientId is { } given && given != Guid.Empty
            ? (await session.Events.FetchStreamAsync(given, version: 1, token: ct)).FirstOrDefault()?.Data as PatientRegistered
            : null;
        var outcome = Decide(existing, command, command.PatientId ?? Guid.CreateVersion7(), clock.GetUtcNow());
        // A race on the same client id: the second start of the stream is a 409 (the client retries and gets the 200).
        outcome.AppendTo(session);
        return outcome.ToResult();
    }
}
