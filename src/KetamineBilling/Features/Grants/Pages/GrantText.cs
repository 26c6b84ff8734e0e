using KetamineBilling.Features.Ui;

namespace KetamineBilling.Features.Grants.Pages;

/// <summary>A grant's terms in a clerk's words.</summary>
public static class GrantText
{
    public static string Rule(GrantRule r) => r.Coverage switch
    {
        GrantCoverage.Full => "the whole charge",
        GrantCoverage.Percentage => $"{r.Percentage:0.#}% of the charge",
        GrantCoverage.FixedPerSession => $"{Fmt.Money(r.FixedAmount)} per session",
        _ => $"fee sharing: clinic {r.ClinicSharePercent:0.#}%, fund {r.FoundationSharePercent:0.#}%"
    };
}
