using System.Text;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// Builds 271 eligibility answers (005010X279A1) to the guide's examples: the payer (2000A), the clinic (2000B), and per member
/// a 2000C subscriber with TRN*2 echoing the 270's trace, NM1*IL, the plan's dates and its EB benefits.
/// </summary>
public static class Eligibility271Builder
{
    /// <summary>One member's answer: its EB lines (without the "EB*" and "~"), or an AAA refusal.</summary>
    public sealed record Member(string? Trace, string MemberId, string LastName, string FirstName, IReadOnlyList<string> Benefits, string? Aaa = null);

    /// <summary>An active PPO: deductible 1,500 with 600 left, out of pocket 4,000 with 2,900 left, 20% coinsurance and a 40.00 copay for mental health.</summary>
    public static readonly IReadOnlyList<string> Active =
    [
        "1**30**SILVER PPO 2000",
        "1**1^33^35^47^86^88^98^AL^MH^UC",
        "C*IND*30***23*1500*****Y",
        "C*IND*30***29*600*****Y",
        "G*IND*30***23*4000*****Y",
        "G*IND*30***29*2900*****Y",
        "A*IND*MH***27**.2****Y",
        "B*IND*MH***27*40*****Y",
        "1**MH********Y"
    ];

    /// <summary>The coverage ended.</summary>
    public static readonly IReadOnlyList<string> Inactive = ["6**30**SILVER PPO 2000"];

    public static string Build(string senderId, int controlNumber, DateOnly answeredOn, string payerName, string payerId, params Member[] members)
    {
        var segments = new List<string> { "ST*271*0001*005010X279A1", $"BHT*0022*11*10001234*{answeredOn:yyyyMMdd}*1200", "HL*1**20*1", $"NM1*PR*2*{payerName}*****PI*{payerId}",
            "HL*2*1*21*1", "NM1*1P*2*LAKESIDE KETAMINE CLINIC*****XX*1543210987" };
        var hl = 2;
        foreach (var m in members)
        {
            segments.Add($"HL*{++hl}*2*22*0");
            if (m.Trace is not null) segments.Add($"TRN*2*{m.Trace}*9877281234");
            segments.Add($"NM1*IL*1*{m.LastName}*{m.FirstName}****MI*{m.MemberId}");
            if (m.Aaa is not null)
            {
                segments.Add($"AAA*{m.Aaa}");
                continue;
            }

            segments.Add($"DTP*346*D8*{answeredOn.Year}0101");
            segments.AddRange(m.Benefits.Select(b => $"EB*{b}"));
        }

        segments.Add($"SE*{segments.Count + 1}*0001");
        var isa = controlNumber.ToString("D9");
        var text = new StringBuilder();
        text.Append("ISA*00*          *00*          *ZZ*").Append(senderId.PadRight(15)).Append($"*ZZ*LAKESIDEKC01   *{answeredOn:yyMMdd}*1200*^*00501*{isa}*0*P*:~\n");
        text.Append($"GS*HB*{senderId}*LAKESIDEKC01*{answeredOn:yyyyMMdd}*1200*{controlNumber}*X*005010X279A1~\n");
        foreach (var s in segments) text.Append(s).Append("~\n");
        text.Append($"GE*1*{controlNumber}~\nIEA*1*{isa}~\n");
        return text.ToString();
    }
}
