using System.Globalization;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Providers;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Infrastructure.Pdf;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Wolverine.Http;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// The Good Faith Estimate as the patient receives it (No Surprises Act, 45 CFR 149.610(c)): the patient, the primary service
/// and its dates, the provider and facility with NPI, tax id and location, each expected item with its code and expected
/// charge, the diagnosis codes, and the disclaimers: other items scheduled separately, only an estimate, the right to dispute
/// a bill $400 or more above it (45 CFR 149.620), and not a contract. docs/estimates.md.
/// </summary>
public static class GoodFaithEstimatePdf
{
    [PhiRead("good-faith-estimate")]
    [WolverineGet("/api/patients/{patientId}/good-faith-estimates/{estimateId}/gfe.pdf"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(Guid patientId, Guid estimateId, IQuerySession session, ClinicProfiles profiles, CancellationToken ct)
    {
        if (await session.LoadAsync<PatientAccount>(patientId, ct) is not { } account) return Problems.NotFound($"patient {patientId} does not exist");
        if (account.Estimates.FirstOrDefault(e => e.EstimateId == estimateId) is not { } estimate)
            return Problems.NotFound($"estimate {estimateId} was not issued to this patient");
        var provider = estimate.ProviderId is { } id ? await session.LoadAsync<Provider>(id, ct) : null;
        var clinic = await profiles.CurrentAsync(session, ct);
        return Results.File(PdfRenderer.Render(Document(account, estimate, provider, clinic)), "application/pdf", $"good-faith-estimate-{estimate.IssuedOn:yyyyMMdd}.pdf");
    }

    public static PdfDocumentModel Document(PatientAccount account, GoodFaithEstimateIssued estimate, Provider? provider, ClinicProfile clinic)
    {
        var location = clinic.AddressLines.Count > 0 ? string.Join(", ", clinic.AddressLines) : clinic.Name;
        var dates = estimate.ServiceFrom is { } from
            ? estimate.ServiceTo is { } to && to != from ? $"{Fmt.Date(from)} to {Fmt.Date(to)}" : Fmt.Date(from)
            : "to be scheduled";
        var furnishedBy = provider is null
            ? $"{clinic.Name}, NPI {clinic.Npi}, tax ID {clinic.TaxId}"
            : $"{provider.Name}{(provider.Credentials is null ? "" : ", " + provider.Credentials)}, NPI {provider.Npi}, at {clinic.Name} (NPI {clinic.Npi}, tax ID {clinic.TaxId})";
        return new PdfDocumentModel(
            "Good Faith Estimate",
            $"Issued {Fmt.Date(estimate.IssuedOn)} · estimate {estimate.EstimateId.ToString()[..8]}",
            clinic.IssuerLines(),
            [
                ("Patient", account.Name),
                ("Date of birth", Fmt.Date(account.DateOfBirth)),
                ("Primary service", estimate.Description ?? "Treatment series"),
                ("Expected dates of service", dates),
                ("Diagnosis codes (ICD-10-CM)", estimate.DiagnosisCodes is { Count: > 0 } codes ? string.Join(", ", codes) : "none known when issued"),
                ("Provider", furnishedBy),
                ("Facility and location", $"{clinic.Name}, {location} (NPI {clinic.Npi}, tax ID {clinic.TaxId})")
            ],
            [
                new PdfSection($"Items and services expected: {provider?.Name ?? clinic.Name}",
                    Table: new PdfTable(
                        [
                            new PdfColumn("Service code", 1.0), new PdfColumn("Description", 3.2), new PdfColumn("Quantity", 0.9, PdfAlign.Right),
                            new PdfColumn("Price each", 1.1, PdfAlign.Right), new PdfColumn("Expected charge", 1.3, PdfAlign.Right)
                        ],
                        estimate.Lines.Select(l => (IReadOnlyList<string>)
                            [l.Code, l.Description, l.Units.ToString(CultureInfo.InvariantCulture), Statements.Usd(l.UnitPrice), Statements.Usd(l.Amount)]).ToList(),
                        ["", "Total expected charges", "", "", Statements.Usd(estimate.Total)])),
                new PdfSection("Disclaimers",
                [
                    "Items or services scheduled separately (for example a psychiatric evaluation before the series, or follow-up visits after it) are not " +
                    "in this estimate. A separate Good Faith Estimate is given when they are scheduled, or on request: ask the clinic's billing office.",
                    "There may be additional items or services the clinic recommends as part of your care that must be scheduled or requested " +
                    "separately and are not reflected in this Good Faith Estimate.",
                    "This Good Faith Estimate shows the costs of items and services that are reasonably expected for your health care needs at the time it " +
                    "is issued. It is only an estimate: actual items, services or charges may differ. It does not include unknown or unexpected costs " +
                    "that may arise during treatment.",
                    "You have the right to dispute the bill. If you are billed $400 or more above this Good Faith Estimate by this provider or facility, you " +
                    "may start the patient-provider dispute resolution process with the U.S. Department of Health and Human Services within 120 calendar " +
                    "days of the date on the original bill (a $25 fee applies). Starting a dispute does not affect the quality of the care you receive. " +
                    "For information and to start a dispute, visit www.cms.gov/nosurprises or call 1-800-985-3059.",
                    "This Good Faith Estimate is not a contract and does not require you to obtain the items or services from any of the providers or " +
                    "facilities named in it."
                ])
            ],
            "Keep a copy or a picture of this Good Faith Estimate: you will need it if you dispute a bill. Issued under 45 CFR 149.610.");
    }
}
