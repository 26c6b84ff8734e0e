using KetamineBilling.Features.Payers;

namespace KetamineBilling.Features.Patients;

/// <summary>A coding rule a session breaks for its payer, and where the rule comes from.</summary>
public sealed record CodingFlag(string Rule, string Detail, string Source);

/// <summary>
/// Spravato (esketamine nasal spray) coding checks before a claim is filed, by the payer's type and the coverage's drug
/// benefit path (docs/estimates.md, "Spravato coding"). A session is a Spravato session when a line is G2082, G2083, J0013 or
/// S0013, or carries a Spravato NDC (labeler 50458, product 0028). The checks flag; they never change a line.
/// </summary>
public static class SpravatoCoding
{
    public const string Cgs = "CGS Medicare (J15) Part B esketamine billing instructions, 2023-05 (cgsmedicare.com/parta/pubs/news/2023/05/cope138216)";
    public const string Janssen = "Janssen SPRAVATO payer coverage and reimbursement (spravatohcp.com/payer-coverage-and-reimbursement)";
    public const string Hcpcs2026 = "HCPCS 2026 annual update: J0013 esketamine nasal spray 1 mg replaces S0013 from 2026-01-01 (UnitedHealthcare policy 2026D0069P)";
    public const string G2082Descriptor = "HCPCS G2082/G2083 descriptors, CY 2020 PFS interim final rule, 84 FR 62568";

    public static readonly DateOnly J0013From = new(2026, 1, 1);

    private static readonly HashSet<string> MedicareCodes = ["G2082", "G2083"];
    private static readonly HashSet<string> DrugCodes = ["J0013", "S0013"];

    /// <summary>A code only Spravato sessions are billed with (the drug, or Medicare's session codes).</summary>
    public static bool IsSpravatoCode(string code) => MedicareCodes.Contains(code) || DrugCodes.Contains(code);

    public static bool IsSpravatoNdc(string? ndc) => ndc is { Length: 11 } n && n.StartsWith("504580028", StringComparison.Ordinal);

    public static bool IsSpravato(AccountSession session) =>
        session.Lines.Any(l => MedicareCodes.Contains(l.Code) || DrugCodes.Contains(l.Code) || IsSpravatoNdc(l.Drug?.Ndc));

    private static bool IsEm(string code) => code.Length == 5 && code.StartsWith("992", StringComparison.Ordinal) && code[3] is '0' or '1' && code[4] is >= '1' and <= '5';

    private static bool IsProlonged(string code) => code is "99415" or "99416" or "99417" or "G2212";

    /// <summary>The dose a session's drug shows: 84 mg for the three-device kit (NDC 50458-0028-03), 56 for the two-device kit, else the units of a 1 mg drug code.</summary>
    private static int? Dose(AccountSession session)
    {
        if (session.Lines.Select(l => l.Drug?.Ndc).FirstOrDefault(IsSpravatoNdc) is { } ndc) return ndc.EndsWith("03", StringComparison.Ordinal) ? 84 : ndc.EndsWith("02", StringComparison.Ordinal) ? 56 : null;
        return session.Lines.FirstOrDefault(l => DrugCodes.Contains(l.Code))?.Units;
    }

    /// <summary>
    /// The rules a Spravato session breaks for a payer of <paramref name="kind"/> under a coverage whose drug benefit is
    /// <paramref name="drugBenefit"/> (medical-buy-and-bill, medical-specialty-pharmacy, pharmacy, or null: not recorded).
    /// None for a session that is not Spravato's.
    /// </summary>
    public static IReadOnlyList<CodingFlag> Check(PatientAccount account, AccountSession session, PayerKind kind, string? drugBenefit)
    {
        if (!IsSpravato(session)) return [];
        var flags = new List<CodingFlag>();
        var codes = session.Lines.Select(l => l.Code).ToList();
        var gLines = session.Lines.Where(l => MedicareCodes.Contains(l.Code)).ToList();
        var drugLines = session.Lines.Where(l => DrugCodes.Contains(l.Code)).ToList();
        var dose = Dose(session);
        if (kind == PayerKind.Medicare)
        {
            if (gLines.Count == 0)
                flags.Add(new CodingFlag("medicare-g-code", "Medicare pays Spravato sessions with G2082 (up to 56 mg) or G2083 (more than 56 mg), which include the visit, the drug and two hours of observation", Cgs));
            foreach (var line in gLines.Where(l => !l.Modifiers.Contains("KX")))
                flags.Add(new CodingFlag("medicare-kx", $"{line.Code} needs the KX modifier: the setting is enrolled in the SPRAVATO REMS", Cgs));
            if (drugLines.Count > 0 && gLines.Count > 0)
                flags.Add(new CodingFlag("medicare-no-drug-line", $"{string.Join(", ", drugLines.Select(l => l.Code).Distinct())} is billed beside {gLines[0].Code}: the G code includes the drug, so no separate drug code", Cgs));
            if (gLines.Count > 0 && codes.Any(c => IsEm(c) || IsProlonged(c)))
                flags.Add(new CodingFlag("medicare-no-em", $"{string.Join(", ", codes.Where(c => IsEm(c) || IsProlonged(c)).Distinct())} is billed the same day as {gLines[0].Code}: the G code includes the visit, and prolonged-service codes cannot be used with it", Janssen));
            if (gLines.Count > 0 && !account.Sessions.Any(s => !s.Voided && s.NoShow is null && s.SessionId != session.SessionId && s.DeliveredOn < session.DeliveredOn))
                flags.Add(new CodingFlag("medicare-established", $"{gLines[0].Code} describes an established patient, and this is the patient's first session at the clinic", G2082Descriptor));
            if (dose is { } mg && gLines.FirstOrDefault() is { } g && (g.Code == "G2082") != (mg <= 56))
                flags.Add(new CodingFlag("medicare-dose", $"{g.Code} is for {(g.Code == "G2082" ? "up to 56 mg" : "more than 56 mg")}, and the session's dose is {mg} mg: use {(mg <= 56 ? "G2082" : "G2083")}", G2082Descriptor));
            return flags;
        }

        foreach (var line in gLines)
            flags.Add(new CodingFlag("g-code-medicare-only", $"{line.Code} is Medicare's code: bill the visit and monitoring codes and, when the clinic bought the drug, its drug code, unless this payer's contract takes G codes", Janssen));
        if (drugBenefit is "pharmacy" or "medical-specialty-pharmacy")
        {
            foreach (var line in drugLines)
                flags.Add(new CodingFlag("no-drug-line", $"{line.Code} is billed, but the drug comes through {(drugBenefit == "pharmacy" ? "the pharmacy benefit" : "a specialty pharmacy that bills it")}: the clinic bills only the visit and monitoring", Janssen));
        }
        else
        {
            if (drugBenefit is null && drugLines.Count > 0)
                flags.Add(new CodingFlag("drug-benefit-unknown", "The coverage's drug benefit path is not recorded: billing the drug is right only when the clinic bought it (medical benefit, buy and bill)", Janssen));
            foreach (var line in drugLines)
            {
                var expected = session.DeliveredOn >= J0013From ? "J0013" : "S0013";
                if (line.Code != expected)
                    flags.Add(new CodingFlag("drug-code-by-date", $"{line.Code} on {session.DeliveredOn:yyyy-MM-dd}: esketamine is {expected} {(expected == "J0013" ? "from" : "before")} 2026-01-01", Hcpcs2026));
                if (line.Units % 28 != 0 || line.Units is < 28 or > 84)
                    flags.Add(new CodingFlag("drug-units-mg", $"{line.Code} is billed in 1 mg units: {line.Units} unit(s) is not a dose of 28 mg devices (56 or 84)", Hcpcs2026));
                if (!IsSpravatoNdc(line.Drug?.Ndc))
                    flags.Add(new CodingFlag("drug-ndc", $"{line.Code} needs the Spravato kit's NDC (50458-0028-02 for 56 mg, -03 for 84 mg) on the line", Janssen));
            }
        }

        if (!codes.Any(IsEm))
            flags.Add(new CodingFlag("visit-code", "No office visit (E/M 99202-99215) is billed: outside Medicare the session is billed as a visit with the monitoring codes (99415/99416)", Janssen));
        return flags;
    }
}
