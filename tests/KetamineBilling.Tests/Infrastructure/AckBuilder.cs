using System.Text;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>Builds the acknowledgments a clearinghouse sends back for 837s (999, 277CA), the way the guides lay them out.</summary>
public static class AckBuilder
{
    /// <summary>An interchange of one functional group holding one transaction set of <paramref name="segments"/> (ST..SE made here).</summary>
    public static string Interchange(string group, string code, string version, int control, IReadOnlyList<string> segments, string sender = "CLRHSE001")
    {
        var set = new List<string> { $"ST*{code}*0001*{version}" };
        set.AddRange(segments);
        set.Add($"SE*{set.Count + 1}*0001");
        var text = new StringBuilder();
        text.Append($"ISA*00*          *00*          *ZZ*{sender,-15}*ZZ*LAKESIDEKC01   *261204*1200*^*00501*{control:D9}*0*P*:~\n");
        text.Append($"GS*{group}*{sender}*LAKESIDEKC01*20261204*1200*{control}*X*{version}~\n");
        foreach (var s in set) text.Append(s).Append("~\n");
        text.Append($"GE*1*{control}~\nIEA*1*{control:D9}~\n");
        return text.ToString();
    }

    /// <summary>A 999 answering transaction set 0001 of batch <paramref name="batch"/>: accepted, or rejected for a bad date in the named claim.</summary>
    public static string Ack999(int batch, bool accepted, string? claim, int control = 873) => Interchange("FA", "999", "005010X231A1", control,
        accepted
            ? [$"AK1*HC*{batch}*005010X222A1", "AK2*837*0001*005010X222A1", "IK5*A", "AK9*A*1*1*1"]
            : [$"AK1*HC*{batch}*005010X222A1", "AK2*837*0001*005010X222A1", "IK3*DTP*45*2400*8", $"CTX*CLM01:{claim}", "IK4*3*1251*8*20250231", "IK5*R*5",
               "AK9*R*1*1*0"]);

    /// <summary>A 277CA from the payer: per claim its CLM01, charge and status composite (A2:20 accepted, A7:33:IL rejected...).</summary>
    public static string Ack277Ca(int control, params (string ControlNumber, decimal Charge, string Status, string? PayerClaimNumber)[] claims)
    {
        var segments = new List<string>
        {
            "BHT*0085*08*277CA1204*20261204*1200*TH", "HL*1**20*1", "NM1*PR*2*PRAIRIE HEALTH*****PI*PRH01", "TRN*1*20261204000118", "DTP*050*D8*20261203",
            "DTP*009*D8*20261204", "HL*2*1*21*1", "NM1*41*2*LAKESIDE KETAMINE CLINIC*****46*LAKESIDEKC01", "TRN*2*00000000101",
            $"STC*A1:19:PR*20261204*WQ*{claims.Sum(c => c.Charge)}", "HL*3*2*19*1", "NM1*85*2*LAKESIDE KETAMINE CLINIC*****XX*1543210987", "TRN*1*00000000101",
            $"STC*A1:19:PR**WQ*{claims.Sum(c => c.Charge)}"
        };
        var hl = 3;
        foreach (var (number, charge, status, payerClaimNumber) in claims)
        {
            segments.Add($"HL*{++hl}*3*PT");
            segments.Add("NM1*QC*1*PATIENT*TEST****MI*XJH123456789");
            segments.Add($"TRN*2*{number}");
            segments.Add($"STC*{status}*20261204*{(status.StartsWith("A2") || status.StartsWith("A1") ? "WQ" : "U")}*{charge}");
            if (payerClaimNumber is not null) segments.Add($"REF*1K*{payerClaimNumber}");
            segments.Add("DTP*472*D8*20261120");
        }

        return Interchange("HN", "277", "005010X214", control, segments);
    }

    /// <summary>A 277 claim status response (005010X212) answering 276 traces: per claim the trace, its CLM01 and the STC elements.</summary>
    public static string Status277(int control, params (string Trace, string ControlNumber, string Stc)[] claims)
    {
        var segments = new List<string>
        {
            "BHT*0010*08*277RESP1204*20261204*1200*DG", "HL*1**20*1", "NM1*PR*2*PRAIRIE HEALTH*****PI*PRH01", "HL*2*1*21*1",
            "NM1*41*2*LAKESIDE KETAMINE CLINIC*****46*LAKESIDEKC01", "HL*3*2*19*1", "NM1*1P*2*LAKESIDE KETAMINE CLINIC*****XX*1543210987"
        };
        var hl = 3;
        foreach (var (trace, number, stc) in claims)
        {
            segments.Add($"HL*{++hl}*3*22*0");
            segments.Add("NM1*IL*1*PATIENT*TEST****MI*XJH123456789");
            segments.Add($"TRN*2*{trace}");
            segments.Add($"STC*{stc}");
            segments.Add($"REF*EJ*{number}");
            segments.Add("DTP*472*D8*20261120");
        }

        return Interchange("HN", "277", "005010X212", control, segments);
    }
}
