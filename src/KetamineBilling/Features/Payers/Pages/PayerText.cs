namespace KetamineBilling.Features.Payers.Pages;

public static class PayerText
{
    public static string Kind(PayerKind kind) => kind switch
    {
        PayerKind.Commercial => "Commercial",
        PayerKind.Medicare => "Medicare",
        PayerKind.Medicaid => "Medicaid",
        PayerKind.TricareVa => "TRICARE / VA",
        PayerKind.CopayAssistance => "Copay assistance",
        _ => "Other"
    };

    /// <summary>The API's names for the kinds, in the order a clerk picks from.</summary>
    public static readonly (string Value, PayerKind Kind)[] Kinds =
    [
        ("commercial", PayerKind.Commercial), ("medicare", PayerKind.Medicare), ("medicaid", PayerKind.Medicaid),
        ("tricare-va", PayerKind.TricareVa), ("copay-assistance", PayerKind.CopayAssistance), ("other", PayerKind.Other)
    ];
}
