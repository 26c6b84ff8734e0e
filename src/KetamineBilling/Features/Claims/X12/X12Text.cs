using System.Text;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Claims.X12;

/// <summary>
/// Text that reaches an 837 (names, addresses, member and group numbers, payer and provider names, authorization numbers,
/// fee descriptions) must not carry the X12 delimiters the clinic's files use: the segment terminator <c>~</c>, the element
/// separator <c>*</c>, the component separator <c>:</c> and the repetition separator <c>^</c> (ISA11, ISA16 of
/// <see cref="Claim837Writer"/>), nor control characters (line breaks, tabs). Such text is refused where it enters, with
/// the field named, instead of being silently changed in the file (the writer still blanks them as a last defence).
/// </summary>
public static class X12Text
{
    public const string Delimiters = "~*:^";

    public static bool IsSafe(string? value) => value is null || (value.IndexOfAny(Delimiters.ToCharArray()) < 0 && !value.Any(char.IsControl));

    /// <summary>Adds a problem for <paramref name="field"/> when <paramref name="value"/> holds a delimiter or a control character.</summary>
    public static void Check(this ValidationProblems problems, string field, string? value)
    {
        if (!IsSafe(value)) problems.Add(field, "must not contain ~ * : ^ or control characters: they are X12 delimiters and the field is sent in the 837 claim file");
    }

    /// <summary>
    /// Upper case in the X12 basic character set: accents dropped (PEÑA → PENA), delimiters (* ~ : ^) and anything
    /// else outside the set turned into spaces.
    /// </summary>
    public static string Clean(string value)
    {
        var plain = new string(value.Normalize(NormalizationForm.FormD)
            .Where(c => System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.NonSpacingMark).ToArray());
        return new string(plain.ToUpperInvariant().Select(c => c is >= 'A' and <= 'Z' or >= '0' and <= '9' || " !\"&'()+,-./;?=%@[]_{}\\|<>#$".Contains(c) ? c : ' ')
            .ToArray()).Trim();
    }

    public static string Fixed(string value, int width) => Clean(value).PadRight(width)[..width];

    public static void Segment(StringBuilder text, params string[] elements)
    {
        // Trailing empty elements are dropped, as the guides require.
        var count = elements.Length;
        while (count > 1 && elements[count - 1].Length == 0) count--;
        text.Append(string.Join('*', elements.Take(count))).Append('~').Append('\n');
    }
}
