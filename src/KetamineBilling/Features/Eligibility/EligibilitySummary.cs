using KetamineBilling.Features.Eligibility.X12;

namespace KetamineBilling.Features.Eligibility;

/// <summary>An amount for the plan year and what remains of it (EB06 23 and 29; or 23 and 24, what was met).</summary>
public sealed record YearAmount(decimal? Year, decimal? Remaining)
{
    public static YearAmount? Of(IReadOnlyList<Benefit271> rows)
    {
        decimal? Period(string code) => rows.FirstOrDefault(r => r.TimePeriod == code)?.Amount;
        var (year, remaining, met) = (Period("23") ?? Period("22"), Period("29"), Period("24"));
        remaining ??= year is { } y && met is { } m ? Math.Max(0m, y - m) : null;
        return year is null && remaining is null ? null : new YearAmount(year, remaining);
    }
}

/// <summary>
/// What a 271 says the patient pays for the clinic's services, read the way billing reads it (docs/x12.md, "Eligibility"):
/// coverage active or not, the plan, the individual in-network deductible and out-of-pocket maximum with what remains, and the
/// coinsurance, copay and authorization for the first of the service types asked about that the payer answers (mental health,
/// then the professional visit, then the plan). Family amounts of 99999.99 are the payers' "none" and are left out.
/// </summary>
/// <param name="Coinsurance">The patient's share as a percent (the payer's .2 is 20).</param>
/// <param name="PharmacyBenefitElsewhere">EB*U for service type 88 (pharmacy): another entity (a PBM) answers for the drug benefit.</param>
public sealed record EligibilitySummary(
    bool? Active, string? Plan, YearAmount? Deductible, YearAmount? OutOfPocket, decimal? Coinsurance, decimal? Copay, string? ServiceType, bool? AuthorizationRequired,
    bool PharmacyBenefitElsewhere, IReadOnlyList<string> Messages, IReadOnlyList<string> Rejections)
{
    /// <summary>The service types billing asks about, in the order their answers are preferred.</summary>
    public static readonly string[] ServiceTypes = ["MH", "A4", "98", "30"];

    public static EligibilitySummary From(Eligibility271 answer, IReadOnlyList<string>? preferred = null)
    {
        var order = preferred ?? ServiceTypes;
        // In network (Y), or a benefit that applies either way (W), or one that says neither; individual before family.
        bool InNetwork(Benefit271 b) => b.InNetwork is null or "Y" or "W";
        var benefits = answer.Benefits.Where(b => !(b.CoverageLevel == "FAM" && b.Amount == 99999.99m)).ToList();
        List<Benefit271> Rows(string code) => benefits.Where(b => b.Code == code && InNetwork(b) && b.CoverageLevel is null or "IND").ToList();
        Benefit271? ForService(string code) => order.Select(type => Rows(code).FirstOrDefault(b => b.ServiceTypes.Contains(type))).FirstOrDefault(b => b is not null);

        var coinsurance = ForService("A");
        var copay = ForService("B");
        var service = order.FirstOrDefault(t => benefits.Any(b => b.ServiceTypes.Contains(t)));
        var authorization = order.Select(type => benefits.FirstOrDefault(b => b.AuthorizationRequired is not null && b.ServiceTypes.Contains(type)))
            .FirstOrDefault(b => b is not null)?.AuthorizationRequired;
        return new EligibilitySummary(
            answer.Active, benefits.FirstOrDefault(b => b.PlanDescription is not null)?.PlanDescription,
            YearAmount.Of(Rows("C").Where(b => b.ServiceTypes.Count == 0 || b.ServiceTypes.Contains("30")).ToList()),
            YearAmount.Of(Rows("G").Where(b => b.ServiceTypes.Count == 0 || b.ServiceTypes.Contains("30")).ToList()),
            // EB08 is a fraction (.2 is 20%); a payer that sends 20 means 20%: never more than all of it.
            coinsurance?.Percent is { } fraction ? Math.Min(100m, fraction > 1m ? fraction : fraction * 100m) : null, copay?.Amount, service, authorization,
            benefits.Any(b => b.Code == "U" && b.ServiceTypes.Contains("88")),
            benefits.SelectMany(b => b.Messages).Distinct().ToList(),
            answer.Rejections.Select(r => $"{r.Reason} ({r.ReasonCode}): {r.FollowUp}").ToList());
    }
}
