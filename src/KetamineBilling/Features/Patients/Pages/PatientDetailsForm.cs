using KetamineBilling.Features.Ui;

namespace KetamineBilling.Features.Patients.Pages;

/// <summary>What the register and edit-details dialogs hold: the patient's details as typed (issue 21).</summary>
public sealed class PatientDetailsForm
{
    public string? FirstName { get; set; }
    public string? LastName { get; set; }
    public DateTime? DateOfBirth { get; set; }
    public string Sex { get; set; } = "U";
    public string? Email { get; set; }
    public string? Phone { get; set; }
    public string? Line1 { get; set; }
    public string? Line2 { get; set; }
    public string? City { get; set; }
    public string? State { get; set; }
    public string? PostalCode { get; set; }

    public DateOnly? Born => DateOfBirth is { } d ? DateOnly.FromDateTime(d) : null;

    /// <summary>No address when every address field is blank; else the address as typed (the API names what is missing).</summary>
    public PostalAddress? Address =>
        new[] { Line1, Line2, City, State, PostalCode }.All(string.IsNullOrWhiteSpace)
            ? null
            : new PostalAddress((Line1 ?? "").Trim(), string.IsNullOrWhiteSpace(Line2) ? null : Line2.Trim(), (City ?? "").Trim(), (State ?? "").Trim(),
                (PostalCode ?? "").Trim());

    public static PatientDetailsForm From(PatientView p) => new()
    {
        FirstName = p.FirstName, LastName = p.LastName, DateOfBirth = p.DateOfBirth.ToDateTime(TimeOnly.MinValue), Sex = p.Sex, Email = p.Email,
        Phone = p.Phone, Line1 = p.Address?.Line1, Line2 = p.Address?.Line2, City = p.Address?.City, State = p.Address?.State,
        PostalCode = p.Address?.PostalCode
    };

    /// <summary>The API's field names and the labels these dialogs show.</summary>
    public static FormErrors Errors() => new(
        ("firstName", "First name"), ("lastName", "Last name"), ("dateOfBirth", "Date of birth"), ("sex", "Sex"), ("email", "Email"), ("phone", "Phone"),
        ("address.line1", "Street address"), ("address.line2", "Address line 2"), ("address.city", "City"), ("address.state", "State"),
        ("address.postalCode", "ZIP code"));
}
