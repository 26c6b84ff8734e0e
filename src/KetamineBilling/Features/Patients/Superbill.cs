using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Ui;
using KetamineBilling.Features.AccessAudit;
using System.Globalization;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using KetamineBilling.Infrastructure.Pdf;
using Marten;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Wolverine.Http;
using Wolverine.Marten;
using Wolverine.Persistence;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Patients;

/// <summary>
/// Out of network the patient pays and claims from their insurer themselves, with a superbill: an itemized
/// claim form with what the insurer needs (provider NPI and taxonomy, tax id, diagnoses, codes, charges).
/// </summary>
public static class SuperbillEndpoint
{
    [PhiRead("superbill")]
    [WolverineGet("/api/patients/{patientId}/superbill"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Patient accounts")]
    public static async Task<IResult> Get(
        Guid patientId, string? sessionIds, IQuerySession session, ClinicProfiles profiles, ClinicCalendar calendar, CancellationToken ct)
    {
        var clinic = await profiles.CurrentAsync(session, ct);
        var account = await session.LoadAsync<PatientAccount>(patientId, ct);
        if (account is null) return Problems.NotFound($"patient {patientId} does not exist");
        var ids = new List<Guid>();
        foreach (var part in (sessionIds ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Guid.TryParse(part, out var id)) return Invalid($"{part} is not a session id");
            ids.Add(id);
        }

        if (ids.Count == 0) return Invalid("must name at least one session: ?sessionIds=id1,id2");
        var sessions = ids.Select(account.Session).ToList();
        if (sessions.Any(s => s is null || s.Voided)) return Invalid("names a session that is not on this account, or a voided one");
        if (sessions.Any(s => s!.NoShow is not null)) return Invalid("names a missed-appointment fee: an insurer reimburses care given, never a no-show fee");
        var providers = (await session.LoadManyAsync<Provider>(ct, sessions.Select(s => s!.ProviderId).OfType<string>().Distinct().ToArray())).ToDictionary(p => p.Id);
        var pdf = PdfRenderer.Render(Document(account, sessions!, providers, clinic, calendar.Today()));
        return Results.File(pdf, "application/pdf", $"superbill-{calendar.Today():yyyyMMdd}.pdf");
    }

    private static IResult Invalid(string rule)
    {
        return Problems.Invalid("sessionIds", rule, StatusCodes.Status400BadRequest);
    }

    public static PdfDocumentModel Document(
        PatientAccount account, IReadOnlyList<AccountSession> sessions, IReadOnlyDictionary<string, Provider> providers, ClinicProfile clinic, DateOnly issuedOn)
    {
        var diagnoses = sessions.SelectMany(s => s.DiagnosisCodes).Distinct().ToList();
        var lines = sessions.OrderBy(s => s.DeliveredOn).SelectMany(s => s.Lines.Select(l => (Session: s, Line: l))).ToList();
        var provider = sessions.Select(s => s.ProviderId).OfType<string>().Select(providers.GetValueOrDefault).OfType<Provider>().FirstOrDefault();
        return new PdfDocumentModel(
            "Superbill",
            $"Issued {Fmt.Date(issuedOn)}",
            clinic.IssuerLines(),
            [
                ("Patient", account.Name),
                ("Date of birth", Fmt.Date(account.DateOfBirth)),
                ("Address", account.Address is { } a ? $"{a.Line1}, {a.City}, {a.State} {a.PostalCode}" : "on file"),
                ("Rendering provider", provider is null ? "" : $"{provider.Name}{(provider.Credentials is null ? "" : ", " + provider.Credentials)}, NPI {provider.Npi}"),
                ("Taxonomy", clinic.Taxonomy),
                ("Clinic NPI / tax ID", $"{clinic.Npi} / {clinic.TaxId}"),
                ("Diagnoses (ICD-10-CM)", string.Join(", ", diagnoses)),
                ("Place of service", "11 (office)")
            ],
            [
                new PdfSection("Services",
                    Table: new PdfTable(
                        [
                            new PdfColumn("Date of service", 1.5), new PdfColumn("Code", 0.9), new PdfColumn("Description", 3.0),
                            new PdfColumn("Dx", 0.8), new PdfColumn("Units", 0.7, PdfAlign.Right), new PdfColumn("Charge", 1.1, PdfAlign.Right),
                            new PdfColumn("Paid by patient", 1.5, PdfAlign.Right)
                        ],
                        lines.Select(x => (IReadOnlyList<string>)
                        [
                            Fmt.Date(x.Session.DeliveredOn), x.Line.Code, x.Line.Description,
                            string.Join(",", x.Session.DiagnosisCodes.Select(d => (diagnoses.IndexOf(d) + 1).ToString(CultureInfo.InvariantCulture))),
                            x.Line.Units.ToString(CultureInfo.InvariantCulture), Statements.Usd(x.Line.Charge), Statements.Usd(x.Line.PatientPaid)
                        ]).ToList(),
                        ["", "", "Total", "", "", Statements.Usd(lines.Sum(x => x.Line.Charge)), Statements.Usd(lines.Sum(x => x.Line.PatientPaid))]))
            ],
            "Submit this superbill to your insurer for out-of-network reimbursement. The clinic has been paid the amounts shown as paid by the patient.");
    }
}
