using System.Globalization;
using System.Text;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>Builds 835 files the way payers send them, for the posting tests.</summary>
public static class Remittance835Builder
{
    public sealed record Svc(string Code, decimal Charge, decimal Paid, DateOnly DateOfService, string? LineControl = null, params (string Group, string Reason, decimal Amount)[] Cas);

    public sealed record Clp(string ControlNumber, string Status, decimal Charge, decimal Paid, decimal PatientResponsibility, params Svc[] Lines)
    {
        public (string Group, string Reason, decimal Amount)[] ClaimCas { get; init; } = [];

        /// <summary>The payer the claim was forwarded to (NM1*TT, with CLP02 19/20/21).</summary>
        public string? Crossover { get; init; }
    }

    private static string A(decimal amount) => amount.ToString("0.##", CultureInfo.InvariantCulture);

    public static string Build(string trace, string payerName, string payerId, decimal total, DateOnly paid, IEnumerable<Clp> claims,
        params (string Reason, string Reference, decimal Amount)[] plb)
    {
        var segments = new List<string>
        {
            "ST*835*0001*005010X221A1",
            $"BPR*I*{A(total)}*C*ACH*CCP*01*071000013*DA*123456789*1512345678**01*021000021*DA*987654321*{paid:yyyyMMdd}",
            $"TRN*1*{trace}*1512345678",
            $"DTM*405*{paid:yyyyMMdd}",
            $"N1*PR*{payerName}*XV*{payerId}",
            "N3*PO BOX 4400",
            "N4*CHICAGO*IL*60680",
            "N1*PE*LAKESIDE KETAMINE CLINIC*XX*1543210987",
            "LX*1"
        };
        foreach (var clp in claims)
        {
            segments.Add($"CLP*{clp.ControlNumber}*{clp.Status}*{A(clp.Charge)}*{A(clp.Paid)}*{A(clp.PatientResponsibility)}*12*PCN{clp.ControlNumber[^6..]}");
            foreach (var cas in clp.ClaimCas) segments.Add($"CAS*{cas.Group}*{cas.Reason}*{A(cas.Amount)}");
            segments.Add("NM1*QC*1*PATIENT*TEST****MI*XJH123456789");
            if (clp.Crossover is { } crossover) segments.Add($"NM1*TT*2*{crossover}*****PI*CROSSOVER01");
            foreach (var svc in clp.Lines)
            {
                segments.Add($"SVC*HC:{svc.Code}*{A(svc.Charge)}*{A(svc.Paid)}**1");
                segments.Add($"DTM*472*{svc.DateOfService:yyyyMMdd}");
                foreach (var cas in svc.Cas) segments.Add($"CAS*{cas.Group}*{cas.Reason}*{A(cas.Amount)}");
                if (svc.LineControl is not null) segments.Add($"REF*6R*{svc.LineControl}");
                segments.Add($"AMT*B6*{A(svc.Paid + svc.Cas.Where(c => c.Group == "PR").Sum(c => c.Amount))}");
            }
        }

        foreach (var p in plb) segments.Add($"PLB*1543210987*{paid.AddDays(90):yyyyMMdd}*{p.Reason}:{p.Reference}*{A(p.Amount)}");
        segments.Add($"SE*{segments.Count + 1}*0001");
        var text = new StringBuilder();
        text.Append("ISA*00*          *00*          *ZZ*").Append(payerId.PadRight(15)).Append("*ZZ*LAKESIDEKC01   *261127*1200*^*00501*000000123*0*P*:~\n");
        text.Append($"GS*HP*{payerId}*LAKESIDEKC01*20261127*1200*123*X*005010X221A1~\n");
        foreach (var s in segments) text.Append(s).Append("~\n");
        text.Append("GE*1*123~\nIEA*1*000000123~\n");
        return text.ToString();
    }
}
