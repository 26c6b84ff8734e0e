using System.Globalization;

namespace KetamineBilling.Features.Claims.X12;

public sealed record Adjustment835(string Group, string Reason, decimal Amount);

/// <param name="ControlNumber">REF*6R: the line item control number sent in the 837, when the payer echoes it.</param>
public sealed record ServiceLine835(
    string Code, IReadOnlyList<string> Modifiers, decimal Charge, decimal Paid, int? Units, DateOnly? DateOfService, string? ControlNumber,
    decimal? Allowed, IReadOnlyList<Adjustment835> Adjustments, IReadOnlyList<string> RemarkCodes, string Raw);

/// <param name="Status">CLP02: 1-3 processed (primary, secondary, tertiary), 4 denied, 19-21 processed and forwarded, 22 reversal.</param>
public sealed record ClaimPayment835(
    string ControlNumber, string Status, decimal Charge, decimal Paid, decimal PatientResponsibility, string? PayerClaimNumber,
    IReadOnlyList<Adjustment835> Adjustments, IReadOnlyList<ServiceLine835> Lines, string Raw)
{
    public bool IsReversal => Status == "22";
    public bool IsDenial => Status == "4";
}

public sealed record ProviderAdjustment835(string ProviderId, string Reason, string? Reference, decimal Amount);

public sealed record Remittance835(
    string PayerName, string? PayerIdentifier, string TraceNumber, string? OriginatorId, string PaymentMethod, decimal PaymentAmount, DateOnly? PaymentDate,
    IReadOnlyList<ClaimPayment835> Claims, IReadOnlyList<ProviderAdjustment835> ProviderAdjustments);

/// <summary>
/// Reads the 835 Health Care Claim Payment/Advice (005010X221A1) parts a clinic posts from: BPR (payment),
/// TRN (trace), N1*PR (payer), CLP (claim payment) with CAS, and SVC (service line) with DTM*472, REF*6R,
/// AMT*B6, CAS and LQ*HE; PLB (provider-level adjustments).
/// </summary>
public static class Remittance835Reader
{
    public static IReadOnlyList<Remittance835> Read(X12Interchange interchange)
    {
        var remittances = interchange.Transactions.Where(t => t.Code == "835").Select(Read).ToList();
        if (remittances.Count == 0)
        {
            throw new X12FormatException("the interchange holds no 835 transaction set");
        }

        return remittances;
    }

    private static Remittance835 Read(X12Transaction set)
    {
        string payerName = "", paymentMethod = "", trace = "";
        string? payerId = null, originator = null;
        decimal paymentAmount = 0;
        DateOnly? paymentDate = null;
        var claims = new List<ClaimPayment835>();
        var plbs = new List<ProviderAdjustment835>();
        ClaimBuilder? claim = null;
        LineBuilder? line = null;
        var inPayer = false;

        void CloseLine()
        {
            if (line is not null) claim!.Lines.Add(line.Build());
            line = null;
        }

        void CloseClaim()
        {
            CloseLine();
            if (claim is not null) claims.Add(claim.Build());
            claim = null;
        }

        foreach (var s in set.Segments)
        {
            switch (s.Id)
            {
                case "BPR":
                    paymentAmount = Money(s[2], "BPR02");
                    paymentMethod = s[4];
                    paymentDate = Date(s[16]);
                    break;
                case "TRN":
                    trace = s[2];
                    originator = s[3].Length > 0 ? s[3] : null;
                    break;
                case "N1":
                    inPayer = s[1] == "PR";
                    if (inPayer)
                    {
                        payerName = s[2];
                        if (s[4].Length > 0) payerId = s[4];
                    }

                    break;
                case "REF" when inPayer && claim is null && s[1] == "2U":
                    payerId = s[2];
                    break;
                case "CLP":
                    CloseClaim();
                    inPayer = false;
                    claim = new ClaimBuilder(s);
                    break;
                case "SVC":
                    if (claim is null) throw new X12FormatException("SVC outside a claim payment (CLP)");
                    CloseLine();
                    line = new LineBuilder(s);
                    break;
                case "CAS":
                    var adjustments = line?.Adjustments ?? claim?.Adjustments ?? throw new X12FormatException("CAS outside a claim payment (CLP)");
                    // CAS carries up to six reason/amount/quantity triplets after its group code.
                    for (var i = 2; i + 1 <= s.Count; i += 3)
                    {
                        if (s[i].Length == 0) continue;
                        adjustments.Add(new Adjustment835(s[1], s[i], Money(s[i + 1], "CAS amount")));
                    }

                    if (line is not null) line.Raw.Add(s.ToString()); else claim?.Raw.Add(s.ToString());
                    break;
                case "DTM" when line is not null && s[1] is "472" or "150":
                    line.DateOfService = Date(s[2]);
                    line.Raw.Add(s.ToString());
                    break;
                case "REF" when line is not null && s[1] == "6R":
                    line.ControlNumber = s[2];
                    break;
                case "AMT" when line is not null && s[1] == "B6":
                    line.Allowed = Money(s[2], "AMT02");
                    break;
                case "LQ" when line is not null && s[1] == "HE":
                    line.Remarks.Add(s[2]);
                    break;
                case "PLB":
                    CloseClaim();
                    for (var i = 3; i + 1 <= s.Count; i += 2)
                    {
                        if (s[i].Length == 0) continue;
                        var reference = s.Component(i, 2);
                        plbs.Add(new ProviderAdjustment835(s[1], s.Component(i, 1), reference.Length > 0 ? reference : null, Money(s[i + 1], "PLB amount")));
                    }

                    break;
                case "SE":
                    CloseClaim();
                    break;
                default:
                    if (line is not null) line.Raw.Add(s.ToString());
                    else claim?.Raw.Add(s.ToString());
                    break;
            }
        }

        if (trace.Length == 0) throw new X12FormatException($"835 {set.ControlNumber} has no TRN trace number");
        return new Remittance835(payerName, payerId, trace, originator, paymentMethod, paymentAmount, paymentDate, claims, plbs);
    }

    private static decimal Money(string value, string element) =>
        decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
            ? amount
            : throw new X12FormatException($"{element} '{value}' is not an amount");

    private static DateOnly? Date(string value) =>
        DateOnly.TryParseExact(value, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    private sealed class ClaimBuilder(X12Segment clp)
    {
        public List<Adjustment835> Adjustments { get; } = [];
        public List<ServiceLine835> Lines { get; } = [];
        public List<string> Raw { get; } = [clp.ToString()];

        public ClaimPayment835 Build() => new(
            clp[1], clp[2], Money(clp[3], "CLP03"), Money(clp[4], "CLP04"), clp[5].Length > 0 ? Money(clp[5], "CLP05") : 0m,
            clp[7].Length > 0 ? clp[7] : null, Adjustments, Lines, string.Join('~', Raw));
    }

    private sealed class LineBuilder(X12Segment svc)
    {
        public List<Adjustment835> Adjustments { get; } = [];
        public List<string> Remarks { get; } = [];
        public List<string> Raw { get; } = [svc.ToString()];
        public DateOnly? DateOfService { get; set; }
        public string? ControlNumber { get; set; }
        public decimal? Allowed { get; set; }

        public ServiceLine835 Build()
        {
            var modifiers = Enumerable.Range(3, 4).Select(i => svc.Component(1, i)).Where(m => m.Length > 0).ToList();
            int? units = int.TryParse(svc[5], NumberStyles.Integer, CultureInfo.InvariantCulture, out var u) ? u : null;
            return new ServiceLine835(svc.Component(1, 2), modifiers, Money(svc[2], "SVC02"), Money(svc[3], "SVC03"), units, DateOfService, ControlNumber,
                Allowed, Adjustments, Remarks, string.Join('~', Raw));
        }
    }
}
