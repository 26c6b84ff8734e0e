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

    /// <summary>
    /// Opens an interchange of one functional group: the ISA (the clinic's submitter id to the clearinghouse's, ISA11 <c>^</c>
    /// repetition, ISA14 whether a TA1 is asked for, ISA15 production or test, ISA16 <c>:</c> component) and the GS. Answers the
    /// ISA13 and the date (CCYYMMDD) and time (HHMM) written, which the transaction sets repeat.
    /// </summary>
    public static (string Isa, string Date, string Time) OpenInterchange(
        StringBuilder text, string submitterId, string receiverId, bool production, bool askTa1, int number, DateTimeOffset at, string functionalCode, string version)
    {
        var isa = number.ToString("D9", System.Globalization.CultureInfo.InvariantCulture);
        var date = at.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
        var time = at.ToString("HHmm", System.Globalization.CultureInfo.InvariantCulture);
        text.Append("ISA*00*          *00*          *ZZ*").Append(Fixed(submitterId, 15)).Append("*ZZ*").Append(Fixed(receiverId, 15))
            .Append('*').Append(date[2..]).Append('*').Append(time).Append("*^*00501*").Append(isa).Append(askTa1 ? "*1*" : "*0*").Append(production ? 'P' : 'T')
            .Append("*:~\n");
        Segment(text, "GS", functionalCode, Clean(submitterId), Clean(receiverId), date, time, number.ToString(System.Globalization.CultureInfo.InvariantCulture), "X", version);
        return (isa, date, time);
    }

    /// <summary>Closes the interchange <see cref="OpenInterchange"/> opened: GE with its count of transaction sets, then IEA.</summary>
    public static void CloseInterchange(StringBuilder text, int sets, int number, string isa)
    {
        Segment(text, "GE", sets.ToString(System.Globalization.CultureInfo.InvariantCulture), number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Segment(text, "IEA", "1", isa);
    }

    public static void Segment(StringBuilder text, params string[] elements)
    {
        // Trailing empty elements are dropped, as the guides require.
        var count = elements.Length;
        while (count > 1 && elements[count - 1].Length == 0) count--;
        text.Append(string.Join('*', elements.Take(count))).Append('~').Append('\n');
    }
}
