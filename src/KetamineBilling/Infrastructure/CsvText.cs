using System.Globalization;
using System.Text;

namespace KetamineBilling.Infrastructure;

/// <summary>RFC 4180 fields that open the same in every spreadsheet.</summary>
public static class CsvText
{
    /// <summary>A text field: quoted when it holds a separator, a quote or a line break; a leading =, +, -, @, tab or
    /// carriage return is prefixed with an apostrophe so a spreadsheet shows a name instead of running it as a formula
    /// (OWASP "CSV Injection": a spreadsheet drops a leading tab or CR and then reads what follows).</summary>
    public static string Field(string? value)
    {
        value ??= "";
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"")}\"" : value;
    }

    public static string Money(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    public static string Date(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "";

    /// <summary>A CSV download: UTF-8 with a byte-order mark, which Excel needs to read it as UTF-8.</summary>
    public static IResult Download(string csv, string fileName) =>
        Results.File([.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(csv)], "text/csv", fileName);
}
