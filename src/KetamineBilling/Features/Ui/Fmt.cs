using System.Globalization;

namespace KetamineBilling.Features.Ui;

/// <summary>
/// How people read money, dates and rates (pages, messages, ledger text, PDFs): the clinic's locale (en-US), dates as
/// MM/dd/yyyy, money with its currency symbol and two decimals ("$1,234.56", "-$1,234.56"). Machine formats stay
/// as they are: CSV (<see cref="Infrastructure.CsvText"/>: ISO dates, plain numbers), X12 and JSON fields.
/// </summary>
public static class Fmt
{
    public static readonly CultureInfo Clinic = CultureInfo.GetCultureInfo("en-US");

    public static string Money(decimal amount) => amount.ToString("$#,##0.00;-$#,##0.00", Clinic);

    public static string Money(decimal? amount) => amount is { } a ? Money(a) : "-";

    public static string Date(DateOnly date) => date.ToString("MM/dd/yyyy", Clinic);

    public static string Date(DateOnly? date) => date is { } d ? Date(d) : "-";

    public static string Date(DateTimeOffset at, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(at, zone).ToString("MM/dd/yyyy h:mm tt", Clinic);

    public static string Percent(decimal? rate) => rate is { } r ? (r * 100).ToString("0.0", Clinic) + "%" : "-";

    public static string Number(decimal? value, int decimals = 1) => value is { } v ? v.ToString("#,##0." + new string('0', decimals), Clinic) : "-";

    /// <summary>A change with its sign, "+12.50" or "-3.0%"; empty when there is nothing to compare.</summary>
    public static string Change(decimal? change, bool rate = false) =>
        change is not { } c ? "" : (c > 0 ? "+" : "") + (rate ? (c * 100).ToString("0.0", Clinic) + " pts" : c.ToString("#,##0.00", Clinic));
}
