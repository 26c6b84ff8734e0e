using KetamineBilling.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;

namespace KetamineBilling.Features.Patients;

public record RegisterPatient(
    string FirstName, string LastName, DateOnly? DateOfBirth, string? Email, string? Phone, PostalAddress? Address = null, string? Sex = null);

public record PatientCreated(Guid Id) : CreationResponse($"/api/patients/{Id}");

public static class RegisterPatientEndpoint
{
    public static ProblemDetails Validate(RegisterPatient command, TimeProvider clock)
    {
        var problems = new ValidationProblems();
        problems.RequireText("firstName", command.FirstName, 100);
        problems.RequireText("lastName", command.LastName, 100);
        if (command.DateOfBirth is not { } dob)
        {
            problems.Add("dateOfBirth", "is required (yyyy-MM-dd)");
        }
        else if (dob > DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime) || dob.Year < 1900)
        {
            problems.Add("dateOfBirth", "must be a past date after 1900-01-01");
        }

        if (command.Email is { Length: > 0 } email && (email.Length > 254 || !email.Contains('@')))
        {
            problems.Add("email", "must be an email address");
        }

        if (command.Phone is { Length: > 40 })
        {
            problems.Add("phone", "must be at most 40 characters");
        }

        if (command.Sex is not null && command.Sex is not ("F" or "M" or "U"))
        {
            problems.Add("sex", "must be F, M or U");
        }

        if (command.Address is { } a)
        {
            problems.RequireText("address.line1", a.Line1, 55);
            problems.RequireText("address.city", a.City, 30);
            if (a.State is null || a.State.Length != 2) problems.Add("address.state", "must be a two-letter state code");
            if (a.PostalCode is null || !System.Text.RegularExpressions.Regex.IsMatch(a.PostalCode, "^[0-9]{5}([0-9]{4})?$"))
                problems.Add("address.postalCode", "must be a 5 or 9 digit ZIP code");
        }

        return problems.ToProblemDetails();
    }

    public static PatientRegistered Decide(RegisterPatient command, Guid patientId, DateTimeOffset now) =>
        new(patientId, command.FirstName.Trim(), command.LastName.Trim(), command.DateOfBirth!.Value,
            string.IsNullOrWhiteSpace(command.Email) ? null : command.Email.Trim(),
            string.IsNullOrWhiteSpace(command.Phone) ? null : command.Phone.Trim(),
            now,
            command.Address,
            command.Sex);

    [WolverinePost("/api/patients"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patients")]
    public static (PatientCreated, IStartStream) Post(RegisterPatient command, TimeProvider clock)
    {
        var registered = Decide(command, Guid.CreateVersion7(), clock.GetUtcNow());
        return (new PatientCreated(registered.PatientId), MartenOps.StartStream<PatientAccount>(registered.PatientId, registered));
    }
}
