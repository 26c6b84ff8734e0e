using System.Globalization;
using System.Text;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Claims.X12;

/// <summary>One claim asked about, with the trace number (TRN02) the payer's 277 answer echoes.</summary>
public sealed record Claim276(Claim837 Claim, string Trace);

/// <summary>
/// Writes an ASC X12 276 Health Care Claim Status Request (005010X212): one interchange, one functional group (HR), one
/// transaction set per payer. Loops: 2000A payer, 2000B information receiver (the clinic as submitter), 2000C service provider
/// (the billing NPI), 2000D subscriber (2000E patient when the subscriber is someone else) with the claim: TRN*1 its trace,
/// REF*1K the payer's claim number when known, REF*EJ the patient control number (CLM01), AMT*T3 the charge, DTP*472 the
/// dates of service.
/// </summary>
public sealed class Claim276Writer(ClinicProfile clinic, string receiverId, bool production)
{
    public string Write(IReadOnlyList<Claim276> claims, int interchangeControlNumber, DateTimeOffset at)
    {
        var text = new StringBuilder();
        var (isa, date, time) = X12Text.OpenInterchange(text, clinic.SubmitterId, receiverId, production, false, interchangeControlNumber, at, "HR", "005010X212");
        var byPayer = claims.GroupBy(c => c.Claim.Payer.Id).ToList();
        var setNumber = 0;
        foreach (var group in byPayer)
        {
            setNumber++;
            var control = setNumber.ToString("D4", CultureInfo.InvariantCulture);
            var set = new List<string[]>();
            void Add(params string[] elements) => set.Add(elements);
            var payer = group.First().Claim.Payer;
            Add("ST", "276", control, "005010X212");
            Add("BHT", "0010", "13", $"{isa}{setNumber:D2}", date, time);
            Add("HL", "1", "", "20", "1");
            Add("NM1", "PR", "2", X12Text.Clean(payer.Name), "", "", "", "", "PI", X12Text.Clean(payer.PayerId));
            Add("HL", "2", "1", "21", "1");
            Add("NM1", "41", "2", X12Text.Clean(clinic.Name), "", "", "", "", "46", X12Text.Clean(clinic.SubmitterId));
            Add("HL", "3", "2", "19", "1");
            Add("NM1", "1P", "2", X12Text.Clean(clinic.Name), "", "", "", "", "XX", clinic.Npi);
            var hl = 3;
            foreach (var (item, trace) in group)
            {
                var claim = item.Claim;
                var coverage = item.Coverage;
                var patient = item.Patient;
                var subscriberIsPatient = coverage.Subscriber is null;
                var subscriberHl = ++hl;
                Add("HL", subscriberHl.ToString(CultureInfo.InvariantCulture), "3", "22", subscriberIsPatient ? "0" : "1");
                if (subscriberIsPatient)
                {
                    Add("DMG", "D8", patient.DateOfBirth.ToString("yyyyMMdd", CultureInfo.InvariantCulture), patient.Sex);
                    Add("NM1", "IL", "1", X12Text.Clean(patient.LastName), X12Text.Clean(patient.FirstName), "", "", "", "MI", X12Text.Clean(coverage.MemberId));
                }
                else
                {
                    var s = coverage.Subscriber!;
                    Add("NM1", "IL", "1", X12Text.Clean(s.LastName), X12Text.Clean(s.FirstName), "", "", "", "MI", X12Text.Clean(coverage.MemberId));
                    Add("HL", (++hl).ToString(CultureInfo.InvariantCulture), subscriberHl.ToString(CultureInfo.InvariantCulture), "23");
                    Add("DMG", "D8", patient.DateOfBirth.ToString("yyyyMMdd", CultureInfo.InvariantCulture), patient.Sex);
                    Add("NM1", "QC", "1", X12Text.Clean(patient.LastName), X12Text.Clean(patient.FirstName));
                }

                Add("TRN", "1", trace);
                if (claim.PayerClaimNumber is { } payerClaimNumber) Add("REF", "1K", X12Text.Clean(payerClaimNumber));
                Add("REF", "EJ", claim.ControlNumber);
                Add("AMT", "T3", claim.TotalCharge.ToString("0.##", CultureInfo.InvariantCulture));
                var first = claim.Lines.Min(l => l.DateOfService);
                var last = claim.Lines.Max(l => l.DateOfService);
                Add("DTP", "472", "RD8", $"{first:yyyyMMdd}-{last:yyyyMMdd}");
            }

            Add("SE", (set.Count + 1).ToString(CultureInfo.InvariantCulture), control);
            foreach (var segment in set) X12Text.Segment(text, segment);
        }

        X12Text.CloseInterchange(text, byPayer.Count, interchangeControlNumber, isa);
        return text.ToString();
    }
}
