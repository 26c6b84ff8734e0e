using KetamineBilling.Features.Ui;

namespace KetamineBilling.Features.Employers.Pages;

public static class EmployerText
{
    /// <summary>An agreement's terms in one line: what it pays, for which codes, up to what.</summary>
    public static string Terms(EmployerTerms t)
    {
        var pays = t.RatePerSession is { } rate ? $"{Fmt.Money(rate)} per session" : $"{t.CoveragePercent:0.#}% of the charge";
        var codes = t.CoveredCodes.Count == 0 ? "" : $" of {string.Join(", ", t.CoveredCodes)}";
        var caps = new[]
        {
            t.CapPerEmployeePerYear is { } cap ? $"up to {Fmt.Money(cap)}" : null,
            t.CapSessionsPerEmployeePerYear is { } sessions ? $"{sessions} sessions" : null
        }.Where(c => c is not null).ToList();
        return pays + codes + (caps.Count == 0 ? "" : $", {string.Join(" and ", caps)} per employee a year") + $"; net {t.PaymentTermsDays}";
    }
}
