using System.Globalization;
using KetamineBilling.Features.Claims.X12;

namespace KetamineBilling.Features.Eligibility.X12;

/// <summary>
/// One EB segment of a 271 (005010X279A1 loop 2110C/D): what the payer says about a benefit, with the MSG lines that follow it.
/// </summary>
/// <param name="Code">EB01: 1-8 coverage status (1 active, 6 inactive, ...), A co-insurance, B co-payment, C deductible, G out of pocket, F limitations, ...</param>
/// <param name="CoverageLevel">EB02: IND, FAM, EMP, ...</param>
/// <param name="ServiceTypes">EB03, repeating (30 plan coverage, MH mental health, 98 professional visit, A4-A8 psychiatric, ...).</param>
/// <param name="TimePeriod">EB06: 23 calendar year, 29 remaining, 24 year to date, 27 visit, ...</param>
/// <param name="Percent">EB08, as sent: a decimal fraction (.2 is 20%).</param>
/// <param name="AuthorizationRequired">EB11: Y true, N false, U or absent null.</param>
/// <param name="InNetwork">EB12: Y in network, N out of network, W both, U unknown; null when absent.</param>
public sealed record Benefit271(
    string Code, string? CoverageLevel, IReadOnlyList<string> ServiceTypes, string? InsuranceType, string? PlanDescription, string? TimePeriod, decimal? Amount,
    decimal? Percent, string? QuantityQualifier, decimal? Quantity, bool? AuthorizationRequired, string? InNetwork, IReadOnlyList<string> Messages);

/// <summary>A request-validation answer (AAA): the request was not answered, why, and whether to send it again.</summary>
/// <param name="Loop">Where it stood: payer, provider, subscriber, dependent or benefit.</param>
public sealed record Rejection271(string Loop, string ReasonCode, string Reason, string FollowUpCode, string FollowUp);

/// <summary>One member's answer in a 271: the payer, the member, the plan's dates, the benefits, and any rejection.</summary>
/// <param name="Trace">TRN*2 02: the trace of the 270 it answers.</param>
/// <param name="AnsweredOn">BHT04: the day the payer made the answer.</param>
public sealed record Eligibility271(
    string PayerName, string? PayerId, string? Trace, string? MemberId, string? LastName, string? FirstName, bool Dependent, DateOnly? PlanBegin, DateOnly? PlanEnd,
    IReadOnlyList<Benefit271> Benefits, IReadOnlyList<Rejection271> Rejections, DateOnly? AnsweredOn = null)
{
    /// <summary>Active when an EB01 1-5 answers the plan (service type 30) or any service; inactive when only 6-8 do.</summary>
    public bool? Active => Benefits.Any(b => b.Code is "1" or "2" or "3" or "4" or "5") ? true
        : Benefits.Any(b => b.Code is "6" or "7" or "8") ? false : null;
}

/// <summary>
/// Reads 271 eligibility answers (005010X279A1). The loops are found by their HL level codes (20 payer, 21 provider, 22
/// subscriber, 23 dependent); an EB starts a benefit and the MSG after it belongs to it; the entities between LS*2120 and
/// LE*2120 (a primary care provider, another payer) are skipped. AAA answers at any level are kept with their meanings.
/// docs/x12.md, "Eligibility: 270 and 271".
/// </summary>
public static class Eligibility271Reader
{
    public static IReadOnlyList<Eligibility271> Read(X12Interchange interchange)
    {
        var answers = new List<Eligibility271>();
        foreach (var set in interchange.Transactions.Where(t => t.Code == "271"))
        {
            string payerName = "", level = "";
            string? payerId = null;
            var payerRejections = new List<Rejection271>();
            Member? member = null;
            string? subscriberMemberId = null;
            DateOnly? answeredOn = null;
            var inEntity = false;
            var before = answers.Count;
            foreach (var s in set.Segments)
            {
                switch (s.Id)
                {
                    case "BHT":
                        answeredOn = Dates("D8", s[4]).From;
                        break;
                    case "HL":
                        Close();
                        level = s[3];
                        if (level is "22" or "23") member = new Member(level == "23") { HasDependents = level == "22" && s[4] == "1" };
                        // A dependent's member id is the subscriber's (its NM1*03 carries none in 5010).
                        if (level == "23") member!.MemberId = subscriberMemberId;
                        break;
                    case "LS":
                        inEntity = true;
                        break;
                    case "LE":
                        inEntity = false;
                        break;
                    case "NM1" when inEntity:
                        break;
                    case "NM1" when s[1] == "PR" && level == "20":
                        (payerName, payerId) = (s[3], s[9].Length > 0 ? s[9] : null);
                        break;
                    case "NM1" when member is not null && s[1] is "IL" or "03":
                        member.LastName = s[3].Length > 0 ? s[3] : null;
                        member.FirstName = s[4].Length > 0 ? s[4] : null;
                        if (s[9].Length > 0) member.MemberId = s[9];
                        if (!member.Dependent) subscriberMemberId = member.MemberId;
                        break;
                    case "TRN" when member is not null && s[1] == "2":
                        member.Trace ??= s[2];
                        break;
                    case "DTP" when member is not null && member.Benefits.Count == 0:
                        // 2100C/D dates: 346 plan begin, 347 plan end, 356 eligibility begin, 357 eligibility end, 291 plan (a range).
                        var (from, to) = Dates(s[2], s[3]);
                        if (s[1] is "346" or "356" or "291") member.PlanBegin ??= from;
                        if (s[1] is "347" or "357") member.PlanEnd ??= from;
                        if (s[1] == "291" && to is not null) member.PlanEnd ??= to;
                        break;
                    case "EB" when member is not null:
                        member.Benefits.Add(new BenefitBuilder(s, interchange.RepetitionSeparator));
                        break;
                    case "MSG" when member?.Benefits.Count > 0:
                        member.Benefits[^1].Messages.Add(s[1]);
                        break;
                    case "AAA":
                        var rejection = Rejection(member is null ? level switch { "20" => "payer", "21" => "provider", _ => "request" }
                            : member.Benefits.Count > 0 ? "benefit" : member.Dependent ? "dependent" : "subscriber", s);
                        if (member is null) payerRejections.Add(rejection); else member.Rejections.Add(rejection);
                        break;
                }
            }

            Close();
            // A request refused before any member was answered is still an answer: the member is who the 270 asked about.
            if (payerRejections.Count > 0 && answers.Count == before) answers.Add(new Eligibility271(payerName, payerId, null, null, null, null, false, null, null, [], payerRejections, answeredOn));

            void Close()
            {
                if (member is null) return;
                // A subscriber loop that only leads to its dependents (HL04 1, nothing answered in it) is no answer of its own.
                if (member is { Dependent: false, HasDependents: true, Benefits.Count: 0, Rejections.Count: 0 })
                {
                    member = null;
                    return;
                }

                answers.Add(new Eligibility271(payerName, payerId, member.Trace, member.MemberId, member.LastName, member.FirstName, member.Dependent, member.PlanBegin,
                    member.PlanEnd, member.Benefits.Select(b => b.Build()).ToList(), [.. payerRejections, .. member.Rejections], answeredOn));
                member = null;
            }
        }

        return answers;
    }

    private static (DateOnly? From, DateOnly? To) Dates(string format, string value)
    {
        static DateOnly? Day(string v) => DateOnly.TryParseExact(v, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d : null;
        return format == "RD8" && value.Split('-') is [var a, var b] ? (Day(a), Day(b)) : (Day(value), null);
    }

    private static Rejection271 Rejection(string loop, X12Segment s) =>
        new(loop, s[3], RejectReasons.GetValueOrDefault(s[3], "reason not known"), s[4], FollowUps.GetValueOrDefault(s[4], ""));

    /// <summary>AAA03 reject reason codes a 271 uses (X12 901 code list, as the 005010X279A1 loops allow them).</summary>
    public static readonly IReadOnlyDictionary<string, string> RejectReasons = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["04"] = "Authorized quantity exceeded", ["15"] = "Required application data missing", ["33"] = "Input errors", ["35"] = "Out of network",
        ["41"] = "Authorization/access restrictions", ["42"] = "Unable to respond at current time", ["43"] = "Invalid/missing provider identification",
        ["44"] = "Invalid/missing provider name", ["45"] = "Invalid/missing provider specialty", ["46"] = "Invalid/missing provider phone number",
        ["47"] = "Invalid/missing provider state", ["48"] = "Invalid/missing referring provider identification number", ["49"] = "Provider is not primary care physician",
        ["50"] = "Provider ineligible for inquiries", ["51"] = "Provider not on file", ["52"] = "Service dates not within provider plan enrollment",
        ["56"] = "Inappropriate date", ["57"] = "Invalid/missing date(s) of service", ["58"] = "Invalid/missing date-of-birth", ["60"] = "Date of birth follows date(s) of service",
        ["61"] = "Date of death precedes date(s) of service", ["62"] = "Date of service not within allowable inquiry period", ["63"] = "Date of service in future",
        ["71"] = "Patient birth date does not match that for the patient on the database", ["72"] = "Invalid/missing subscriber/insured ID",
        ["73"] = "Invalid/missing subscriber/insured name", ["74"] = "Invalid/missing subscriber/insured gender code", ["75"] = "Subscriber/insured not found",
        ["76"] = "Duplicate subscriber/insured ID", ["78"] = "Subscriber/insured not in group/plan identified", ["79"] = "Invalid participant identification",
        ["80"] = "No response received - transaction terminated", ["T4"] = "Payer name or identifier missing"
    };

    /// <summary>AAA04 follow-up action codes.</summary>
    public static readonly IReadOnlyDictionary<string, string> FollowUps = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["C"] = "Please correct and resubmit", ["N"] = "Resubmission not allowed", ["P"] = "Please resubmit original transaction", ["R"] = "Resubmission allowed",
        ["S"] = "Do not resubmit; inquiry initiated to a third party", ["W"] = "Please wait 30 days and resubmit", ["X"] = "Please wait 10 days and resubmit",
        ["Y"] = "Do not resubmit; we will respond"
    };

    private sealed class Member(bool dependent)
    {
        public bool Dependent { get; } = dependent;
        public bool HasDependents { get; init; }
        public string? Trace { get; set; }
        public string? MemberId { get; set; }
        public string? LastName { get; set; }
        public string? FirstName { get; set; }
        public DateOnly? PlanBegin { get; set; }
        public DateOnly? PlanEnd { get; set; }
        public List<BenefitBuilder> Benefits { get; } = [];
        public List<Rejection271> Rejections { get; } = [];
    }

    private sealed class BenefitBuilder(X12Segment eb, char repetition)
    {
        public List<string> Messages { get; } = [];

        private static string? Text(string value) => value.Length > 0 ? value : null;

        private static decimal? Number(string value) =>
            decimal.TryParse(value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) ? n : null;

        public Benefit271 Build() => new(
            eb[1], Text(eb[2]), eb[3].Length == 0 ? [] : eb[3].Split(repetition), Text(eb[4]), Text(eb[5]), Text(eb[6]), Number(eb[7]), Number(eb[8]), Text(eb[9]),
            Number(eb[10]), eb[11] switch { "Y" => true, "N" => false, _ => null }, Text(eb[12]), Messages);
    }
}
