using System.Globalization;
using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;
using KetamineBilling.Infrastructure.Pdf;
using Marten;
using Microsoft.AspNetCore.Authorization;
using PdfSharp.Drawing;
using PdfSharp.Pdf;
using Wolverine.Http;

namespace KetamineBilling.Features.Claims;

/// <summary>
/// The claim printed for payers that take paper: the CMS-1500 (02/12) data, each box's content at the place the form puts
/// it, for printing on the red pre-printed form. The form is laid on a pica grid (10 characters an inch, 6 lines an inch);
/// a box is a (line, column) of that grid, from the NUCC layout as OpenEMR's Hcfa1500 maps it, with its default margins
/// (left 24 pt, top 20 pt). Six service lines a page; a claim with more continues on further pages, the total on the last.
/// </summary>
public static class Cms1500
{
    public const double LeftMargin = 24, TopMargin = 20, Column = 7.2, Line = 12;

    /// <summary>The point (from the page's top left) where a box's text starts: x of its column, y of its line's baseline.</summary>
    public static (double X, double Y) At(int line, int column) => (LeftMargin + Column * (column - 1), TopMargin + Line * line);

    public static byte[] Render(Claim837 item, ClinicProfile clinic, DateOnly signedOn)
    {
        EmbeddedFontResolver.EnsureInstalled();
        using var document = new PdfDocument();
        document.Info.Title = $"CMS-1500 claim {item.Claim.ControlNumber}";
        var font = new XFont(EmbeddedFontResolver.FamilyName, 9.5, XFontStyleEx.Regular);
        // Box 26 holds about 14 characters at the form's pitch; the patient control number has 20.
        var narrow = new XFont(EmbeddedFontResolver.FamilyName, 7, XFontStyleEx.Regular);
        var pages = item.Claim.Lines.Chunk(6).ToList();
        for (var p = 0; p < pages.Count; p++)
        {
            var page = document.AddPage();
            page.Width = XUnit.FromPoint(612);
            page.Height = XUnit.FromPoint(792);
            using var gfx = XGraphics.FromPdfPage(page);
            void Put(int line, int column, string? text) => Draw(line, column, text, font);

            void Draw(int line, int column, string? text, XFont face)
            {
                if (string.IsNullOrEmpty(text)) return;
                var (x, y) = At(line, column);
                gfx.DrawString(X12Text.Clean(text), face, XBrushes.Black, x, y, XStringFormats.BaseLineLeft);
            }

            // Right-aligned so that the cents sit in their own part of the box (dollars end before the cents' column).
            void Money(int line, int centsColumn, decimal amount)
            {
                var dollars = Math.Truncate(amount).ToString("0", CultureInfo.InvariantCulture);
                var (x, y) = At(line, centsColumn);
                var width = gfx.MeasureString(dollars, font).Width;
                gfx.DrawString(dollars, font, XBrushes.Black, x - Column / 2 - width, y, XStringFormats.BaseLineLeft);
                gfx.DrawString(((int)((amount - Math.Truncate(amount)) * 100)).ToString("00", CultureInfo.InvariantCulture), font, XBrushes.Black, x, y, XStringFormats.BaseLineLeft);
            }

            Header(item, clinic, Put, signedOn);
            // 26, the patient's account number (CLM01).
            Draw(56, 23, item.Claim.ControlNumber, narrow);
            for (var i = 0; i < pages[p].Length; i++) ServiceLine(item, pages[p][i], 42 + 2 * (i + 1), Put, Money);
            if (p == pages.Count - 1)
            {
                Money(56, 58, item.Claim.TotalCharge);
                Money(56, 68, item.Claim.Paid);
            }
            else
            {
                Put(56, 52, "CONTINUED");
            }
        }

        using var stream = new MemoryStream();
        document.Save(stream);
        return stream.ToArray();
    }

    private static void Header(Claim837 item, ClinicProfile clinic, Action<int, int, string?> put, DateOnly signedOn)
    {
        var (claim, patient, coverage, payer) = (item.Claim, item.Patient, item.Coverage, item.Payer);
        // Carrier block: the payer, top right.
        put(2, 41, payer.Name);
        // 1 insurance type, 1a insured's id.
        put(8, payer.Kind switch { PayerKind.Medicare => 1, PayerKind.Medicaid => 8, PayerKind.TricareVa => 15, PayerKind.Commercial => 31, _ => 45 }, "X");
        put(8, 50, coverage.MemberId);
        // 2 patient's name, 3 birth date and sex, 4 insured's name.
        put(10, 1, $"{patient.LastName}, {patient.FirstName}");
        put(10, 31, patient.DateOfBirth.ToString("MM", CultureInfo.InvariantCulture));
        put(10, 34, patient.DateOfBirth.ToString("dd", CultureInfo.InvariantCulture));
        put(10, 37, patient.DateOfBirth.ToString("yyyy", CultureInfo.InvariantCulture));
        if (patient.Sex is "M" or "F") put(10, patient.Sex == "M" ? 42 : 47, "X");
        var subscriber = coverage.Subscriber;
        put(10, 50, subscriber is null ? $"{patient.LastName}, {patient.FirstName}" : $"{subscriber.LastName}, {subscriber.FirstName}");
        // 5 patient's address, 6 relationship to insured, 7 insured's address (the patient's when self).
        if (patient.Address is { } address)
        {
            put(12, 1, address.Line2 is null ? address.Line1 : $"{address.Line1} {address.Line2}");
            put(14, 1, address.City);
            put(14, 26, address.State);
            put(16, 1, address.PostalCode);
            if (subscriber is null)
            {
                put(12, 50, address.Line2 is null ? address.Line1 : $"{address.Line1} {address.Line2}");
                put(14, 50, address.City);
                put(14, 74, address.State);
                put(16, 50, address.PostalCode);
            }
        }

        put(12, subscriber is null ? 33 : subscriber.Relationship.Trim().ToLowerInvariant() switch { "spouse" => 38, "child" => 42, _ => 47 }, "X");
        // 10a-c: not related to employment or an accident; 11 group, 11a insured's birth date, 11c plan, 11d another plan.
        put(20, 41, "X");
        put(22, 41, "X");
        put(24, 41, "X");
        put(18, 50, coverage.GroupNumber);
        var insuredBirth = subscriber is null ? patient.DateOfBirth : subscriber.DateOfBirth;
        if (insuredBirth is { } dob)
        {
            put(20, 53, dob.ToString("MM", CultureInfo.InvariantCulture));
            put(20, 56, dob.ToString("dd", CultureInfo.InvariantCulture));
            put(20, 59, dob.ToString("yyyy", CultureInfo.InvariantCulture));
        }

        if (subscriber is null && patient.Sex is "M" or "F") put(20, patient.Sex == "M" ? 68 : 75, "X");
        put(24, 50, payer.Name);
        var other = patient.Coverages.Any(c => c.CoverageId != coverage.CoverageId && c.PayerId != coverage.PayerId
                                               && claim.Lines.All(l => c.ActiveOn(l.DateOfService)));
        put(26, other ? 52 : 57, "X");
        // 12, 13: the patient's release and assignment are on file (CLM08, CLM09).
        put(29, 7, "SIGNATURE ON FILE");
        put(29, 55, "SIGNATURE ON FILE");
        // 21: ICD-10 (indicator 0), A-L four to a line.
        put(37, 42, "0");
        for (var i = 0; i < claim.DiagnosisCodes.Count && i < 12; i++) put(38 + i / 4, 3 + 13 * (i % 4), claim.DiagnosisCodes[i]);
        // 22: a replacement (7) or void (8) with the payer's claim number; 23: prior authorization.
        if (item.AsVoid || claim.ReplacesClaimId is not null)
        {
            put(38, 50, item.AsVoid ? "8" : "7");
            put(38, 62, item.AsVoid ? claim.VoidPayerClaimNumber : claim.ReplacesPayerClaimNumber);
        }

        put(40, 50, claim.AuthorizationNumber);
        // 25 tax id (EIN), 27 accepts assignment (26 is drawn narrower by the caller).
        put(56, 1, clinic.TaxId);
        put(56, 19, "X");
        put(56, 38, "X");
        // 31 signature and date; 32 service facility; 33 billing provider with its phone.
        put(60, 1, "SIGNATURE ON FILE");
        put(61, 6, signedOn.ToString("MM dd yy", CultureInfo.InvariantCulture));
        var street = clinic.AddressLines.FirstOrDefault();
        var cityLine = clinic.AddressLines.LastOrDefault();
        foreach (var column in new[] { 23, 50 })
        {
            put(58, column, clinic.Name);
            put(59, column, street);
            put(60, column, cityLine);
            put(61, column, clinic.Npi);
        }

        var phone = new string((clinic.Phone ?? "").Where(char.IsDigit).ToArray());
        if (phone.Length == 10)
        {
            put(57, 66, phone[..3]);
            put(57, 70, $"{phone[3..6]} {phone[6..]}");
        }
    }

    private static void ServiceLine(Claim837 item, ClaimLine line, int row, Action<int, int, string?> put, Action<int, int, decimal> money)
    {
        var claim = item.Claim;
        // The shaded half above: the drug (N4, the 11-digit NDC, the unit and quantity).
        if (line.Drug is { } drug) put(row - 1, 1, $"N4{drug.Ndc} {drug.Unit}{drug.Quantity.ToString("0.###", CultureInfo.InvariantCulture)}");
        else if (line.Ndc is { } ndc) put(row - 1, 1, $"N4{ndc} UN{line.Units}");
        // 24A from and to, B place of service, D code and modifiers, E pointers, F charges, G units, J rendering NPI.
        foreach (var (column, date) in new[] { (1, line.DateOfService), (10, line.DateOfService) })
        {
            put(row, column, date.ToString("MM", CultureInfo.InvariantCulture));
            put(row, column + 3, date.ToString("dd", CultureInfo.InvariantCulture));
            put(row, column + 6, date.ToString("yy", CultureInfo.InvariantCulture));
        }

        put(row, 19, line.Place);
        put(row, 25, line.Code);
        for (var m = 0; m < line.Modifiers.Count && m < 4; m++) put(row, 33 + 3 * m, line.Modifiers[m]);
        put(row, 45, string.Concat(Enumerable.Range(0, Math.Min(claim.DiagnosisCodes.Count, 4)).Select(i => (char)('A' + i))));
        money(row, 56, line.Charge);
        put(row, 59, line.Units.ToString(CultureInfo.InvariantCulture));
        put(row, 68, item.Provider?.Npi);
    }

    /// <summary>The claim on the CMS-1500 (02/12), as a PDF to print on the red form: for payers that take paper.</summary>
    [PhiRead("claim-cms1500", Subject = PhiSubject.Claim)]
    [WolverineGet("/api/claims/{claimId}/cms1500.pdf"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Claims")]
    public static async Task<IResult> Get(Guid claimId, IQuerySession session, ClinicProfiles profiles, ClinicCalendar calendar, CancellationToken ct)
    {
        if (await session.LoadAsync<Claim>(claimId, ct) is not { } claim) return Outcome.NotFound($"claim {claimId} does not exist").ToResult();
        var item = (await ExportClaimBatchEndpoint.ItemsAsync(session, [claim], _ => claim.Status == ClaimStatus.Voided, ct)).Single();
        var clinic = await profiles.CurrentAsync(session, ct);
        return Results.File(Render(item, clinic, calendar.Today()), "application/pdf", $"cms1500-{claim.ControlNumber}.pdf");
    }
}
