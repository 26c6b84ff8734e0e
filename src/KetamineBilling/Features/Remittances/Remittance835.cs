using System.Globalization;

using KetamineBilling.Features.Claims.X12;

namespace KetamineBilling.Features.Remittances;

public sealed record Adjustment835(string Group, string Reason, decimal Amount);

/// <param name="ControlNumber">REF*6R: the line item control number sent in the 837, when the payer echoes it.</param>
public sealed record ServiceLine835(
    string Code, IReadOnlyList<string> Modifiers, decimal Charge, decimal Paid, int? Units, DateOnly? DateOfService, string? ControlNumber,
    decimal? Allowed, IReadOnlyList<Adjustment835> Adjustments, IReadOnlyList<string> RemarkCodes, string Raw);

/// <param name="Status">CLP02: 1-3 processed (primary, secondary, tertiary), 4 denied, 19-21 processed and forwarded, 22 reversal.</param>
public sealed record ClaimPayment835(
    string ControlNumber, string Status, decimal Charge, decimal Paid, decimal PatientResponsibility, string? PayerClaimNumber,
    IReadOnlyList<Adjustment835> Adjustments, IReadOnlyList<ServiceLine835> Lines, string Raw, string? CrossoverPayer = null)
{
    public bool IsReversal => Status == "22";
    public bool IsDenial => Status == "4";

    /// <summary>
    /// CLP02 19, 20 or 21: processed as primary, secondary or tertiary and forwarded to the next payer (a crossover, named by
    /// NM1*TT): that payer has the claim, and no secondary claim is sent.
    /// </summary>
    public bool IsForwarded => Status is "19" or "20" or "21";
}

public sealed record ProviderAdjustment835(string ProviderId, string Reason, string? Reference, decimal Amount);

public sealed record Remittance835(
    string PayerName, string? PayerIdentifier, string TraceNumber, string? OriginatorId, string PaymentMethod, decimal PaymentAmount, DateOnly? PaymentDate,
    IReadOnlyList<ClaimPayment835> Claims, IReadOnlyList<ProviderAdjustment835> ProviderAdjustments);

/// <summary>An amount element that breaks a rule of the 835 guide: the element, its segment's position, the rule.</summary>
public sealed class X12ElementException(string element, int position, string setControlNumber, string rule)
    : X12FormatException($"{element} at segment {position} of transaction set {setControlNumber}: {rule}")
{
    public string Element { get; } = element;

    /// <summary>"at segment N of transaction set C: rule" (the element itself is the problem's field).</summary>
    public string Rule { get; } = $"at segment {position} of transaction set {setControlNumber}: {rule}";
}

/// <summary>
/// Reads the 835 Health Care Claim Payment/Advice (005010X221A1) parts a clinic posts from: BPR (payment),
/// TRN (trace), N1*PR (payer), CLP (claim payment) with CAS, and SVC (service line) with DTM*472, REF*6R,
/// AMT*B6, CAS and LQ*HE; PLB (provider-level adjustments). Amounts follow the guide (docs/x12.md): at most two
/// decimals; BPR02 never negative; claim and service-line amounts (CLP03-05, SVC02-03, AMT02) negative only in a
/// reversal (CLP02 = 22); CAS and PLB amounts may be negative (a negative adjustment increases the payment).
/// </summary>
public static class Remittance835Reader
{
    /// <summary>Reads every 835 of an interchange already read whole (the 835 upload streams instead).</summary>
    public static IReadOnlyList<Remittance835> Read(X12Interchange interchange)
    {
        var remittances = new List<Remittance835>();
        foreach (var set in interchange.Transactions.Where(t => t.Code == "835"))
        {
            var reader = new SetReader(set.ControlNumber, remittances);
            for (var i = 0; i < set.Segments.Count; i++) reader.Segment(set.Segments[i], i + 1);
        }

        return remittances.Count > 0 ? remittances : throw new X12FormatException("the interchange holds no 835 transaction set");
    }

    /// <summary>Streams an interchange and reads its 835s: only the remittances read, never the whole file, are held.</summary>
    /// <exception cref="X12TooManySegmentsException">the file holds more than <paramref name="maxSegments"/> segments.</exception>
    public static async Task<IReadOnlyList<Remittance835>> ReadAsync(TextReader text, int maxSegments = int.MaxValue, CancellationToken ct = default)
    {
        var remittances = new List<Remittance835>();
        await X12Reader.ReadAsync(text, header => header.Code == "835" ? new SetReader(header.ControlNumber, remittances) : null, maxSegments, ct);
        return remittances.Count > 0 ? remittances : throw new X12FormatException("the interchange holds no 835 transaction set");
    }

    /// <summary>One 835 transaction set, read segment by segment.</summary>
    private sealed class SetReader(string controlNumber, List<Remittance835> done) : IX12SetReader
    {
        private string _payerName = "", _paymentMethod = "", _trace = "";
        private string? _payerId, _originator;
        private decimal _paymentAmount;
        private DateOnly? _paymentDate;
        private readonly List<ClaimPayment835> _claims = [];
        private readonly List<ProviderAdjustment835> _plbs = [];
        private ClaimBuilder? _claim;
        private LineBuilder? _line;
        private bool _inPayer;

        private void CloseLine()
        {
            if (_line is not null) _claim!.Lines.Add(_line.Build());
            _line = null;
        }

        private void CloseClaim()
        {
            CloseLine();
            if (_claim is not null) _claims.Add(_claim.Build());
            _claim = null;
        }

        public void Segment(X12Segment s, int position)
        {
            var amounts = new Amounts(controlNumber, position);
            switch (s.Id)
            {
                case "BPR":
                    // BPR02 is never negative: a net negative is carried to a later advice with PLB*FB (005010X221A1, PLB03-1 FB).
                    _paymentAmount = amounts.Money(s[2], "BPR02", negative: false, "the payment is never negative; a net negative is carried forward with PLB*FB");
                    _paymentMethod = s[4];
                    _paymentDate = Date(s[16]);
                    break;
                case "TRN":
                    _trace = s[2];
                    _originator = s[3].Length > 0 ? s[3] : null;
                    break;
                case "N1":
                    _inPayer = s[1] == "PR";
                    if (_inPayer)
                    {
                        _payerName = s[2];
                        if (s[4].Length > 0) _payerId = s[4];
                    }

                    break;
                case "REF" when _inPayer && _claim is null && s[1] == "2U":
                    _payerId = s[2];
                    break;
                case "CLP":
                    CloseClaim();
                    _inPayer = false;
                    _claim = new ClaimBuilder(s, amounts);
                    break;
                case "SVC":
                    if (_claim is null) throw new X12FormatException($"SVC at segment {position} is outside a claim payment (CLP)");
                    CloseLine();
                    _line = new LineBuilder(s, amounts, _claim.Reversal);
                    break;
                case "CAS":
                    var adjustments = _line?.Adjustments ?? _claim?.Adjustments
                        ?? throw new X12FormatException($"CAS at segment {position} is outside a claim payment (CLP)");
                    // CAS carries up to six reason/amount/quantity triplets after its group code. An adjustment amount
                    // may be negative (it then increases the payment), in a reversal or not.
                    for (var i = 2; i + 1 <= s.Count; i += 3)
                    {
                        if (s[i].Length == 0) continue;
                        adjustments.Add(new Adjustment835(s[1], s[i], amounts.Money(s[i + 1], $"CAS{i + 1:D2}", negative: true)));
                    }

                    if (_line is not null) _line.Raw.Add(s.ToString()); else _claim?.Raw.Add(s.ToString());
                    break;
                case "DTM" when _line is not null && s[1] is "472" or "150":
                    _line.DateOfService = Date(s[2]);
                    _line.Raw.Add(s.ToString());
                    break;
                case "NM1" when _claim is not null && _line is null && s[1] == "TT":
                    // The crossover carrier: the payer the claim was forwarded to (CLP02 19/20/21).
                    _claim.CrossoverPayer = s[3].Length > 0 ? s[3] : s[9];
                    _claim.Raw.Add(s.ToString());
                    break;
                case "REF" when _line is not null && s[1] == "6R":
                    _line.ControlNumber = s[2];
                    break;
                case "AMT" when _line is not null && s[1] == "B6":
                    _line.Allowed = amounts.Money(s[2], "AMT02", negative: _claim!.Reversal, ReversalOnly);
                    break;
                case "LQ" when _line is not null && s[1] == "HE":
                    _line.Remarks.Add(s[2]);
                    break;
                case "PLB":
                    CloseClaim();
                    // Provider adjustments: a positive amount decreases the payment, a negative one increases it.
                    for (var i = 3; i + 1 <= s.Count; i += 2)
                    {
                        if (s[i].Length == 0) continue;
                        var reference = s.Component(i, 2);
                        _plbs.Add(new ProviderAdjustment835(s[1], s.Component(i, 1), reference.Length > 0 ? reference : null,
                            amounts.Money(s[i + 1], $"PLB{i + 1:D2}", negative: true)));
                    }

                    break;
                case "SE":
                    CloseClaim();
                    if (_trace.Length == 0) throw new X12FormatException($"835 {controlNumber} has no TRN trace number");
                    done.Add(new Remittance835(_payerName, _payerId, _trace, _originator, _paymentMethod, _paymentAmount, _paymentDate, _claims, _plbs));
                    break;
                default:
                    if (_line is not null) _line.Raw.Add(s.ToString());
                    else _claim?.Raw.Add(s.ToString());
                    break;
            }
        }
    }

    private const string ReversalOnly = "is negative; only a reversal (CLP02 = 22) carries negative claim and service amounts";

    /// <summary>Reads the amounts of one segment, naming the element and the segment's position when one breaks a rule.</summary>
    private readonly record struct Amounts(string ControlNumber, int Position)
    {
        public decimal Money(string value, string element, bool negative, string negativeRule = ReversalOnly)
        {
            if (!decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
                throw new X12ElementException(element, Position, ControlNumber, $"'{value}' is not an amount");
            if (decimal.Round(amount, 2) != amount)
                throw new X12ElementException(element, Position, ControlNumber, $"{value} has more than two decimals");
            if (amount < 0 && !negative) throw new X12ElementException(element, Position, ControlNumber, $"{value} {negativeRule}");
            return amount;
        }
    }

    /// <summary>An empty list is the one empty array (a large file has hundreds of thousands of them).</summary>
    private static IReadOnlyList<T> Shared<T>(List<T> list) => list.Count == 0 ? [] : list;

    private static DateOnly? Date(string value) =>
        DateOnly.TryParseExact(value, "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date) ? date : null;

    private sealed class ClaimBuilder
    {
        private readonly X12Segment _clp;
        private readonly decimal _charge, _paid, _patient;

        public ClaimBuilder(X12Segment clp, Amounts amounts)
        {
            _clp = clp;
            Raw = [clp.ToString()];
            Reversal = clp[2] == "22";
            _charge = amounts.Money(clp[3], "CLP03", Reversal);
            _paid = amounts.Money(clp[4], "CLP04", Reversal);
            _patient = clp[5].Length > 0 ? amounts.Money(clp[5], "CLP05", Reversal) : 0m;
        }

        public bool Reversal { get; }
        public List<Adjustment835> Adjustments { get; } = [];
        public List<ServiceLine835> Lines { get; } = [];
        public List<string> Raw { get; }
        public string? CrossoverPayer { get; set; }

        public ClaimPayment835 Build() => new(
            _clp[1], _clp[2], _charge, _paid, _patient, _clp[7].Length > 0 ? _clp[7] : null, Shared(Adjustments), Shared(Lines), string.Join('~', Raw),
            CrossoverPayer);
    }

    private sealed class LineBuilder
    {
        private readonly X12Segment _svc;
        private readonly decimal _charge, _paid;

        public LineBuilder(X12Segment svc, Amounts amounts, bool reversal)
        {
            _svc = svc;
            Raw = [svc.ToString()];
            _charge = amounts.Money(svc[2], "SVC02", reversal);
            _paid = amounts.Money(svc[3], "SVC03", reversal);
        }

        public List<Adjustment835> Adjustments { get; } = [];
        public List<string> Remarks { get; } = [];
        public List<string> Raw { get; }
        public DateOnly? DateOfService { get; set; }
        public string? ControlNumber { get; set; }
        public decimal? Allowed { get; set; }

        public ServiceLine835 Build()
        {
            var modifiers = Enumerable.Range(3, 4).Select(i => _svc.Component(1, i)).Where(m => m.Length > 0).ToList();
            int? units = int.TryParse(_svc[5], NumberStyles.Integer, CultureInfo.InvariantCulture, out var u) ? u : null;
            return new ServiceLine835(_svc.Component(1, 2), Shared(modifiers), _charge, _paid, units, DateOfService, ControlNumber,
                Allowed, Shared(Adjustments), Shared(Remarks), string.Join('~', Raw));
        }
    }
}
