using System.Globalization;
using System.Text;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Payers;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Eligibility.X12;

/// <summary>One member asked about: the coverage and its payer, the day of the visit, the service types, the trace the 271 echoes.</summary>
/// <param name="ServiceTypes">EQ01 service type codes (30 plan coverage, MH mental health, 98 professional visit, ...).</param>
public sealed record Eligibility270(PatientAccount Patient, CoverageRecorded Coverage, Payer Payer, DateOnly ServiceDate, string Trace, IReadOnlyList<string> ServiceTypes);

/// <summary>
/// Writes an ASC X12 270 Health Care Eligibility Benefit Inquiry (005010X279A1): one interchange, one functional group (HS),
/// one transaction set per payer. Loops: 2000A payer (NM1*PR), 2000B information receiver (the clinic, NM1*1P with its NPI),
/// 2000C subscriber with TRN*1 (the trace), NM1*IL, DMG, DTP*291 (the visit) and one EQ per service type; when the patient
/// is a dependent, 2000C names the subscriber and 2000D the patient (NM1*03) with the trace, DMG, DTP and EQ.
/// </summary>
public sealed class Eligibility270Writer(ClinicProfile clinic, string receiverId, bool production)
{
    public string Write(IReadOnlyList<Eligibility270> inquiries, int interchangeControlNumber, DateTimeOffset at)
    {
        var text = new StringBuilder();
        var (isa, date, time) = X12Text.OpenInterchange(text, clinic.SubmitterId, receiverId, production, false, interchangeControlNumber, at, "HS", "005010X279A1");
        // TRN03: the trace's assigning entity, "1" and the clinic's EIN (10 characters), else its submitter id.
        var taxId = new string(clinic.TaxId.Where(char.IsDigit).ToArray());
        var assigner = taxId.Length == 9 ? "1" + taxId : X12Text.Clean(clinic.SubmitterId);
        var byPayer = inquiries.GroupBy(i => i.Payer.Id).ToList();
        var setNumber = 0;
        foreach (var group in byPayer)
        {
            setNumber++;
            var control = setNumber.ToString("D4", CultureInfo.InvariantCulture);
            var set = new List<string[]>();
            void Add(params string[] elements) => set.Add(elements);
            var payer = group.First().Payer;
            Add("ST", "270", control, "005010X279A1");
            Add("BHT", "0022", "13", $"{isa}{setNumber:D2}", date, time);
            Add("HL", "1", "", "20", "1");
            Add("NM1", "PR", "2", X12Text.Clean(payer.Name), "", "", "", "", "PI", X12Text.Clean(payer.PayerId));
            Add("HL", "2", "1", "21", "1");
            Add("NM1", "1P", "2", X12Text.Clean(clinic.Name), "", "", "", "", "XX", clinic.Npi);
            var hl = 2;
            foreach (var inquiry in group)
            {
                var (patient, coverage) = (inquiry.Patient, inquiry.Coverage);
                var dependent = coverage.Subscriber is not null;
                var subscriberHl = ++hl;
                Add("HL", subscriberHl.ToString(CultureInfo.InvariantCulture), "2", "22", dependent ? "1" : "0");
                void Inquiry(string entity, string last, string first, string? memberId, DateOnly? birth, string? sex)
                {
                    Add("TRN", "1", inquiry.Trace, assigner);
                    Add(memberId is null ? ["NM1", entity, "1", X12Text.Clean(last), X12Text.Clean(first)]
                        : ["NM1", entity, "1", X12Text.Clean(last), X12Text.Clean(first), "", "", "", "MI", X12Text.Clean(memberId)]);
                    if (birth is { } b) Add(sex is null ? ["DMG", "D8", b.ToString("yyyyMMdd", CultureInfo.InvariantCulture)] : ["DMG", "D8", b.ToString("yyyyMMdd", CultureInfo.InvariantCulture), sex]);
                    Add("DTP", "291", "D8", inquiry.ServiceDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture));
                    foreach (var type in inquiry.ServiceTypes.DefaultIfEmpty("30")) Add("EQ", type);
                }

                if (!dependent)
                {
                    Inquiry("IL", patient.LastName, patient.FirstName, coverage.MemberId, patient.DateOfBirth, patient.Sex);
                    continue;
                }

                // The subscriber holds the member id; the patient (a dependent) is asked about in 2000D.
                var s = coverage.Subscriber!;
                Add("NM1", "IL", "1", X12Text.Clean(s.LastName), X12Text.Clean(s.FirstName), "", "", "", "MI", X12Text.Clean(coverage.MemberId));
                if (s.DateOfBirth is { } dob) Add("DMG", "D8", dob.ToString("yyyyMMdd", CultureInfo.InvariantCulture));
                Add("HL", (++hl).ToString(CultureInfo.InvariantCulture), subscriberHl.ToString(CultureInfo.InvariantCulture), "23", "0");
                Inquiry("03", patient.LastName, patient.FirstName, null, patient.DateOfBirth, patient.Sex);
            }

            Add("SE", (set.Count + 1).ToString(CultureInfo.InvariantCulture), control);
            foreach (var segment in set) X12Text.Segment(text, segment);
        }

        X12Text.CloseInterchange(text, byPayer.Count, interchangeControlNumber, isa);
        return text.ToString();
    }
}
