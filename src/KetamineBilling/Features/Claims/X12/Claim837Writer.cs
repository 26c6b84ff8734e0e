using System.Globalization;
using System.Text;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Claims.X12;

/// <summary>Everything one claim needs on paper: the claim, its patient, its coverage, its payer, its provider.</summary>
/// <param name="AsVoid">Sent as the void of the claim (frequency 8), not the claim itself.</param>
/// <param name="PriorPayer">A secondary claim's primary payer (2330B, SVD01).</param>
/// <param name="PriorCoverage">A secondary claim's primary coverage (2320 SBR, 2330A subscriber).</param>
public sealed record Claim837(
    Claim Claim, PatientAccount Patient, CoverageRecorded Coverage, Payer Payer, Provider? Provider, bool AsVoid = false, Payer? PriorPayer = null,
    CoverageRecorded? PriorCoverage = null);

/// <summary>
/// Writes an ASC X12 837 Professional claim file (005010X222A1): one interchange, one functional group, one
/// transaction set per payer. Loops: 1000A submitter, 1000B receiver, 2000A billing provider, 2000B subscriber
/// (2000C patient when the subscriber is someone else), 2300 claim, 2310B rendering provider, 2320/2330A/2330B the other
/// payer of a secondary claim, 2400 service line (2410 drug identification for NDCs, 2430 the other payer's line adjudication).
/// </summary>
public sealed class Claim837Writer(ClinicProfile clinic, string receiverId, bool production, string receiverName = "CLEARINGHOUSE")
{
    private const char Element = '*';
    private const char Terminator = '~';

    public string Write(IReadOnlyList<Claim837> claims, int interchangeControlNumber, DateTimeOffset at)
    {
        var text = new StringBuilder();
        var (isa, date, time) = X12Text.OpenInterchange(text, clinic.SubmitterId, receiverId, production, true, interchangeControlNumber, at, "HC", "005010X222A1");

        var byPayer = claims.GroupBy(c => c.Payer.Id).ToList();
        var setNumber = 0;
        foreach (var group in byPayer)
        {
            setNumber++;
            WriteTransaction(text, group.ToList(), setNumber.ToString("D4", CultureInfo.InvariantCulture), $"{isa}{setNumber:D2}", date, time);
        }

        X12Text.CloseInterchange(text, byPayer.Count, interchangeControlNumber, isa);
        return text.ToString();
    }

    private void WriteTransaction(StringBuilder text, IReadOnlyList<Claim837> claims, string control, string reference, string date, string time)
    {
        var set = new List<string[]>();
        void Add(params string[] elements) => set.Add(elements);
        var payer = claims[0].Payer;

        Add("ST", "837", control, "005010X222A1");
        Add("BHT", "0019", "00", reference, date, time, "CH");
        Add("NM1", "41", "2", Clean(clinic.Name), "", "", "", "", "46", Clean(clinic.SubmitterId));
        Add("PER", "IC", "BILLING OFFICE", "TE", Digits(clinic.Phone ?? "0000000000"));
        // 1000B is who receives the file: the clearinghouse the clinic submits through, not the payer (2010BB).
        Add("NM1", "40", "2", Clean(receiverName), "", "", "", "", "46", Clean(receiverId));

        var hl = 1;
        Add("HL", "1", "", "20", "1");
        Add("PRV", "BI", "PXC", clinic.Taxonomy);
        Add("NM1", "85", "2", Clean(clinic.Name), "", "", "", "", "XX", clinic.Npi);
        var (street, city, state, zip) = ClinicAddress();
        Add("N3", street);
        Add("N4", city, state, zip);
        Add("REF", "EI", Digits(clinic.TaxId));

        foreach (var item in claims)
        {
            var coverage = item.Coverage;
            var patient = item.Patient;
            var subscriberIsPatient = coverage.Subscriber is null;
            var subscriberHl = ++hl;
            Add("HL", subscriberHl.ToString(CultureInfo.InvariantCulture), "1", "22", subscriberIsPatient ? "0" : "1");
            Add("SBR", coverage.Priority == CoveragePriority.Primary ? "P" : "S", subscriberIsPatient ? "18" : "", Clean(coverage.GroupNumber ?? ""), "", "", "", "", "",
                FilingIndicator(payer.Kind));
            if (subscriberIsPatient)
            {
                Add("NM1", "IL", "1", Clean(patient.LastName), Clean(patient.FirstName), "", "", "", "MI", Clean(coverage.MemberId));
                AddAddress(Add, patient.Address);
                Add("DMG", "D8", patient.DateOfBirth.ToString("yyyyMMdd", CultureInfo.InvariantCulture), patient.Sex);
            }
            else
            {
                var s = coverage.Subscriber!;
                Add("NM1", "IL", "1", Clean(s.LastName), Clean(s.FirstName), "", "", "", "MI", Clean(coverage.MemberId));
                if (s.DateOfBirth is { } dob) Add("DMG", "D8", dob.ToString("yyyyMMdd", CultureInfo.InvariantCulture), "U");
            }

            Add("NM1", "PR", "2", Clean(payer.Name), "", "", "", "", "PI", Clean(payer.PayerId));

            if (!subscriberIsPatient)
            {
                Add("HL", (++hl).ToString(CultureInfo.InvariantCulture), subscriberHl.ToString(CultureInfo.InvariantCulture), "23", "0");
                Add("PAT", RelationshipCode(coverage.Subscriber!.Relationship));
                Add("NM1", "QC", "1", Clean(patient.LastName), Clean(patient.FirstName));
                AddAddress(Add, patient.Address);
                Add("DMG", "D8", patient.DateOfBirth.ToString("yyyyMMdd", CultureInfo.InvariantCulture), patient.Sex);
            }

            var claim = item.Claim;
            // CLM05: the place of service most lines share; B = professional claim form qualifier; the frequency: 1 original,
            // 7 replacement, 8 void. Then: provider signature on file, assignment accepted, benefits assigned, patient
            // signature (release of information) on file.
            var frequency = item.AsVoid ? "8" : claim.Frequency;
            Add("CLM", claim.ControlNumber, Amount(claim.TotalCharge), "", "", $"{claim.PlaceOfService}:B:{frequency}", "Y", "A", "Y", "Y");
            if (claim.AuthorizationNumber is { } authorization) Add("REF", "G1", Clean(authorization));
            // A replacement or void names the payer's claim control number of the claim it corrects or cancels (from its 835).
            if ((item.AsVoid ? claim.VoidPayerClaimNumber : claim.ReplacesPayerClaimNumber) is { } payerClaimNumber) Add("REF", "F8", Clean(payerClaimNumber));
            Add([ "HI", .. claim.DiagnosisCodes.Select((d, i) => $"{(i == 0 ? "ABK" : "ABF")}:{d.Replace(".", "")}") ]);
            if (item.Provider is { } provider)
            {
                var (first, last) = SplitName(provider.Name);
                Add("NM1", "82", "1", Clean(last), Clean(first), "", "", "", "XX", provider.Npi);
                Add("PRV", "PE", "PXC", clinic.Taxonomy);
            }

            var prior = item.PriorPayer is not null && item.PriorCoverage is not null ? claim.PriorPayer : null;
            if (prior is not null) OtherPayer(Add, prior, item.PriorPayer!, item.PriorCoverage!, patient);

            var pointers = string.Join(':', Enumerable.Range(1, Math.Min(claim.DiagnosisCodes.Count, 4)));
            foreach (var line in claim.Lines)
            {
                Add("LX", line.LineNumber.ToString(CultureInfo.InvariantCulture));
                // SV105 only where the line's place of service differs from the claim's (CLM05-1).
                Add("SV1", Procedure(line), Amount(line.Charge), "UN",
                    line.Units.ToString(CultureInfo.InvariantCulture), line.Place == claim.PlaceOfService ? "" : line.Place, "", pointers);
                Add("DTP", "472", "D8", line.DateOfService.ToString("yyyyMMdd", CultureInfo.InvariantCulture));
                // A line's own prior authorization only where it differs from the claim's (2300 REF*G1).
                if (line.AuthorizationNumber is { } lineAuthorization && lineAuthorization != claim.AuthorizationNumber) Add("REF", "G1", Clean(lineAuthorization));
                // The line item control number: payers echo it in the 835 (REF*6R), which matches the payment to this line.
                Add("REF", "6R", LineControlNumber(claim, line));
                if (line.Drug is { } drug)
                {
                    // The quantity given in the NDC's own unit, which is not the HCPCS billing units of SV104.
                    Add("LIN", "", "N4", drug.Ndc);
                    Add("CTP", "", "", "", drug.Quantity.ToString("0.###", CultureInfo.InvariantCulture), drug.Unit);
                }
                else if (line.Ndc is { } ndc)
                {
                    // The clinic's default NDC for the code, quantity unknown: the billing units, as claims filed before drugs were recorded.
                    Add("LIN", "", "N4", Digits(ndc));
                    Add("CTP", "", "", "", line.Units.ToString(CultureInfo.InvariantCulture), "UN");
                }

                // 2430: what the other payer did with this line (its id as in 2330B, paid, adjustments, the date it answered).
                if (prior?.Lines.FirstOrDefault(l => l.LineNumber == line.LineNumber) is { } priorLine)
                {
                    Add("SVD", Clean(item.PriorPayer!.PayerId), Amount(priorLine.Paid), Procedure(line), "", line.Units.ToString(CultureInfo.InvariantCulture));
                    AddAdjustments(Add, priorLine.Adjustments);
                    Add("DTP", "573", "D8", prior.AdjudicatedOn.ToString("yyyyMMdd", CultureInfo.InvariantCulture));
                }
            }
        }

        Add("SE", (set.Count + 1).ToString(CultureInfo.InvariantCulture), control);
        foreach (var segment in set) Segment(text, segment);
    }

    /// <summary>
    /// 2320 other subscriber information (the primary's claim-level adjustments, AMT*D what it paid, AMT*EAF what it left the
    /// patient, OI), 2330A the other subscriber, 2330B the other payer with its claim number (REF*F8). 005010X222A1 2320-2330B.
    /// </summary>
    private static void OtherPayer(Action<string[]> add, PriorPayer prior, Payer payer, CoverageRecorded coverage, PatientAccount patient)
    {
        add(["SBR", "P", coverage.Subscriber is null ? "18" : RelationshipCode(coverage.Subscriber.Relationship), Clean(coverage.GroupNumber ?? ""), "", "", "", "", "",
            FilingIndicator(payer.Kind)]);
        AddAdjustments(add, prior.ClaimAdjustments);
        add(["AMT", "D", Amount(prior.Paid)]);
        add(["AMT", "EAF", Amount(prior.PatientResponsibility)]);
        // Benefits assigned, release of information on file (OI04, the patient signature source, is sent only with CLM10, which is not).
        add(["OI", "", "", "Y", "", "", "Y"]);
        var (last, first) = coverage.Subscriber is { } s ? (s.LastName, s.FirstName) : (patient.LastName, patient.FirstName);
        add(["NM1", "IL", "1", Clean(last), Clean(first), "", "", "", "MI", Clean(coverage.MemberId)]);
        add(["NM1", "PR", "2", Clean(payer.Name), "", "", "", "", "PI", Clean(payer.PayerId)]);
        if (prior.PayerClaimNumber is { } number) add(["REF", "F8", Clean(number)]);
    }

    /// <summary>CAS: one segment per group, up to six reason/amount pairs each (the rest in another CAS of the same group).</summary>
    private static void AddAdjustments(Action<string[]> add, IReadOnlyList<ClaimAdjustment> adjustments)
    {
        foreach (var group in adjustments.GroupBy(a => a.Group))
        {
            foreach (var chunk in group.Chunk(6))
            {
                var elements = new List<string> { "CAS", group.Key };
                foreach (var (a, i) in chunk.Select((a, i) => (a, i)))
                {
                    if (i > 0) elements.Add("");
                    elements.Add(a.Reason);
                    elements.Add(Amount(a.Amount));
                }

                add([.. elements]);
            }
        }
    }

    public static string LineControlNumber(Claim claim, ClaimLine line) => $"{claim.ControlNumber}-{line.LineNumber}";

    /// <summary>"Not otherwise classified" codes the payer cannot price without a description (SV101-7).</summary>
    private static readonly HashSet<string> Unclassified = ["J3490", "J3590", "J7999", "J8499", "J8999", "J9999"];

    /// <summary>SV101: HC, the code, up to four modifiers, and for an unclassified code its description.</summary>
    private static string Procedure(ClaimLine line)
    {
        var parts = new List<string> { "HC", line.Code };
        parts.AddRange(line.Modifiers.Take(4));
        if (Unclassified.Contains(line.Code) && line.Description is { Length: > 0 } description)
        {
            while (parts.Count < 6) parts.Add("");
            var text = Clean(description);
            parts.Add(text[..Math.Min(text.Length, 80)]);
        }

        return string.Join(':', parts);
    }

    private static void AddAddress(Action<string[]> add, PostalAddress? address)
    {
        if (address is null) return;
        add(address.Line2 is null ? ["N3", Clean(address.Line1)] : ["N3", Clean(address.Line1), Clean(address.Line2)]);
        add(["N4", Clean(address.City), address.State.ToUpperInvariant(), address.PostalCode]);
    }

    private (string Street, string City, string State, string Zip) ClinicAddress()
    {
        // "City, ST 12345" on the last address line, the street on the first.
        var street = Clean(clinic.AddressLines.FirstOrDefault() ?? "");
        var last = clinic.AddressLines.LastOrDefault() ?? "";
        var parts = last.Split(',', 2);
        var stateZip = (parts.Length > 1 ? parts[1] : "").Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (street, Clean(parts[0]), stateZip.FirstOrDefault() ?? "", Digits(stateZip.LastOrDefault() ?? ""));
    }

    /// <summary>SBR09 claim filing indicator.</summary>
    private static string FilingIndicator(PayerKind kind) => kind switch
    {
        PayerKind.Medicare => "MB",
        PayerKind.Medicaid => "MC",
        PayerKind.TricareVa => "CH",
        PayerKind.Commercial => "CI",
        _ => "ZZ"
    };

    /// <summary>PAT01 individual relationship code: 01 spouse, 19 child, G8 other.</summary>
    private static string RelationshipCode(string relationship) => relationship.Trim().ToLowerInvariant() switch
    {
        "spouse" => "01",
        "child" => "19",
        _ => "G8"
    };

    private static (string First, string Last) SplitName(string name)
    {
        var at = name.Trim().LastIndexOf(' ');
        return at < 0 ? ("", name) : (name[..at], name[(at + 1)..]);
    }

    private static string Amount(decimal amount) => amount.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Digits(string value) => new string(value.Where(char.IsDigit).ToArray());

    private static string Clean(string value) => X12Text.Clean(value);

    private static string Fixed(string value, int width) => X12Text.Fixed(value, width);

    private static void Segment(StringBuilder text, params string[] elements) => X12Text.Segment(text, elements);
}
