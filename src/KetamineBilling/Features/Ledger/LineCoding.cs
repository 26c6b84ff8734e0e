using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Ledger;

/// <summary>
/// How a charge line is coded for a payer beyond its procedure code: modifiers and the drug's NDC. The rules and their
/// sources are in docs/x12.md ("Claim lines").
/// </summary>
public static class LineCoding
{
    /// <summary>A service line carries at most four modifiers (837P SV101-3..6; CMS-1500 box 24D).</summary>
    public const int MaxModifiers = 4;

    /// <summary>The NDC units of measure an 837P accepts (CTP05-1).</summary>
    public static readonly IReadOnlyDictionary<string, string> DrugUnits = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["UN"] = "unit", ["ML"] = "millilitre", ["GR"] = "gram", ["ME"] = "milligram", ["F2"] = "international unit"
    };

    /// <summary>
    /// Drug codes most payers do not pay without the NDC: unclassified drugs (priced from the NDC) and the per-milligram
    /// esketamine code S0013. Every J code is included: Medicaid requires the NDC on all of them.
    /// </summary>
    public static bool NeedsNdc(string code) => code.StartsWith('J') || code is "S0013" or "C9399";

    /// <summary>The modifiers upper-cased in the order given, or the rule a bad one breaks (added to <paramref name="problems"/>).</summary>
    public static List<string> Modifiers(IReadOnlyList<string>? modifiers, string field, ValidationProblems problems)
    {
        var result = new List<string>();
        if (modifiers is null) return result;
        if (modifiers.Count > MaxModifiers)
        {
            problems.Add(field, $"must hold at most {MaxModifiers} modifiers");
            return result;
        }

        for (var i = 0; i < modifiers.Count; i++)
        {
            var modifier = modifiers[i]?.Trim().ToUpperInvariant() ?? "";
            if (modifier.Length != 2 || !modifier.All(char.IsAsciiLetterOrDigit))
            {
                problems.Add($"{field}[{i}]", "must be a two-character modifier such as 25, 59, 95 or JZ");
            }
            else if (result.Contains(modifier))
            {
                problems.Add($"{field}[{i}]", $"repeats modifier {modifier}");
            }
            else
            {
                result.Add(modifier);
            }
        }

        return result;
    }

    /// <summary>
    /// The 11-digit NDC (5-4-2, as HIPAA transactions require) of an NDC as printed, or null with the reason. A 10-digit NDC is
    /// printed in one of three hyphenated layouts (4-4-2, 5-3-2, 5-4-1); the short segment gets a leading zero. Ten digits
    /// without hyphens are refused: which segment is short cannot be known.
    /// </summary>
    public static string? Ndc(string? printed, out string? problem)
    {
        problem = null;
        var text = printed?.Trim() ?? "";
        var parts = text.Split('-');
        if (parts.Any(p => p.Length == 0 || !p.All(char.IsAsciiDigit)))
        {
            problem = "must be an NDC of digits and hyphens, such as 0409-2051-01 or 00409205101";
            return null;
        }

        var lengths = string.Join('-', parts.Select(p => p.Length));
        switch (lengths)
        {
            case "11": return text;
            case "5-4-2": return string.Concat(parts);
            case "4-4-2": return "0" + string.Concat(parts);
            case "5-3-2": return parts[0] + "0" + parts[1] + parts[2];
            case "5-4-1": return parts[0] + parts[1] + "0" + parts[2];
            case "10":
                problem = "has 10 digits without hyphens: write it as printed on the package (4-4-2, 5-3-2 or 5-4-1) or as 11 digits";
                return null;
            default:
                problem = "must be an NDC of 11 digits, or 10 digits printed 4-4-2, 5-3-2 or 5-4-1";
                return null;
        }
    }

    /// <summary>An 11-digit NDC printed 5-4-2 for people.</summary>
    public static string PrintNdc(string ndc) => ndc.Length == 11 ? $"{ndc[..5]}-{ndc[5..9]}-{ndc[9..]}" : ndc;

    /// <summary>The drug of a line as given, checked; null when none or when it breaks a rule (added to <paramref name="problems"/>).</summary>
    public static DrugGiven? Drug(string? ndc, decimal? quantity, string? unit, string field, ValidationProblems problems)
    {
        if (ndc is null && quantity is null && unit is null) return null;
        var normalised = Ndc(ndc, out var problem);
        if (problem is not null) problems.Add($"{field}.ndc", problem);
        if (quantity is not { } q || q <= 0 || q > 99_999 || decimal.Round(q, 3) != q)
        {
            problems.Add($"{field}.quantity", "must be more than 0 and at most 99999, with at most 3 decimals");
        }

        var u = unit?.Trim().ToUpperInvariant() ?? "";
        if (!DrugUnits.ContainsKey(u)) problems.Add($"{field}.unit", $"must be one of {string.Join(", ", DrugUnits.Keys)}");
        return problems.Any ? null : new DrugGiven(normalised!, quantity!.Value, u);
    }
}
