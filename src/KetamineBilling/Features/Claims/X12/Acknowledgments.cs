namespace KetamineBilling.Features.Claims.X12;

/// <summary>
/// One answer about one transaction set of an 837 batch (999, 005010X231A1): the group it names (AK1-02, the batch's GS06),
/// the set (AK2-02, its ST02), whether it was accepted (IK5-01 A or E) and why not (IK5-02.., each IK3/IK4 with its CTX*CLM01).
/// </summary>
public sealed record SetAcknowledgment(string GroupControlNumber, string SetControlNumber, string Code, bool Accepted, string Detail, IReadOnlyList<string> NamedClaims);

/// <summary>What a 277CA (005010X214) says of one claim: its CLM01, every status composite, whether it was rejected or accepted.</summary>
/// <param name="Outcome">rejected (a category A3/A6/A7/A8 or action U), accepted (A2/A5: in the payer's adjudication system), else received (A0/A1).</param>
/// <param name="PayerClaimNumber">REF*1K: the payer's claim control number, sent on acceptance.</param>
/// <param name="Trace">A 277's TRN02: the trace of the 276 it answers.</param>
public sealed record ClaimStatusAcknowledgment(string ControlNumber, string Outcome, IReadOnlyList<string> Statuses, string Detail, string? PayerClaimNumber, string? Trace = null);

/// <summary>Reads the acknowledgments a clearinghouse or payer sends back for 837s: 999 and 277CA.</summary>
public static class AcknowledgmentReader
{
    public const string Accepted = "accepted", Rejected = "rejected", Received = "received", Status = "status";

    /// <summary>Every AK2/IK5 pair of every 999 in the interchange.</summary>
    public static IReadOnlyList<SetAcknowledgment> Read999(X12Interchange interchange)
    {
        var results = new List<SetAcknowledgment>();
        foreach (var set in interchange.Transactions.Where(t => t.Code == "999"))
        {
            var group = "";
            string? setNumber = null;
            var errors = new List<string>();
            var named = new List<string>();
            foreach (var s in set.Segments)
            {
                switch (s.Id)
                {
                    case "AK1": group = s[2]; break;
                    case "AK2":
                        setNumber = s[2];
                        errors.Clear();
                        named.Clear();
                        break;
                    case "IK3":
                        errors.Add($"segment {s[1]} at position {s[2]}{(s[3].Length > 0 ? $" (loop {s[3]})" : "")}: {Text(SegmentErrors, s[4])}");
                        break;
                    case "IK4":
                        errors.Add($"element {s[1]}{(s[2].Length > 0 ? $" ({s[2]})" : "")}: {Text(ElementErrors, s[3])}{(s[4].Length > 0 ? $", value \"{s[4]}\"" : "")}");
                        break;
                    case "CTX" when s.Component(1, 1) == "CLM01":
                        named.Add(s.Component(1, 2));
                        break;
                    case "IK5" when setNumber is not null:
                        var code = s[1];
                        var accepted = code is "A" or "E";
                        var reasons = Enumerable.Range(2, 5).Select(i => s[i]).Where(c => c.Length > 0).Select(c => Text(SetErrors, c));
                        var detail = string.Join("; ", reasons.Concat(errors));
                        results.Add(new SetAcknowledgment(group, setNumber, code, accepted,
                            $"999 {(accepted ? code == "E" ? "accepted with errors" : "accepted" : "rejected")} transaction set {setNumber}" + (detail.Length > 0 ? $": {detail}" : ""),
                            [.. named]));
                        setNumber = null;
                        break;
                }
            }
        }

        return results;
    }

    /// <summary>Every claim (2200D, TRN*2 = CLM01) of every 277CA (005010X214) in the interchange, with its outcome.</summary>
    public static IReadOnlyList<ClaimStatusAcknowledgment> Read277Ca(X12Interchange interchange) => ReadStatuses(interchange, "X214");

    /// <summary>
    /// Every claim of every 277 claim status response (005010X212) in the interchange: TRN*2 the trace of the 276 it answers,
    /// REF*EJ the claim's CLM01, the statuses with the amounts and dates STC gives. A status answer is only ever noted.
    /// </summary>
    public static IReadOnlyList<ClaimStatusAcknowledgment> Read277(X12Interchange interchange) => ReadStatuses(interchange, "X212");

    private static IReadOnlyList<ClaimStatusAcknowledgment> ReadStatuses(X12Interchange interchange, string guide)
    {
        var response = guide == "X212";
        var results = new List<ClaimStatusAcknowledgment>();
        foreach (var set in interchange.Transactions.Where(t => t.Code == "277" && t.Version.Contains(guide, StringComparison.Ordinal)))
        {
            var level = "";
            string? trace = null, control = null, payerClaimNumber = null, text = null;
            var statuses = new List<(string Category, string Status, string Entity, string Action)>();
            var amounts = new List<string>();
            void Flush()
            {
                if (trace is null) return;
                var rejected = statuses.Any(s => s.Category is "A3" or "A6" or "A7" or "A8" || s.Action == "U");
                var accepted = !rejected && statuses.Any(s => s.Category is "A2" or "A5");
                var outcome = response ? Status : rejected ? Rejected : accepted ? Accepted : Received;
                var words = statuses.Select(Describe).Concat(amounts).Concat(text is null ? [] : [text]);
                results.Add(new ClaimStatusAcknowledgment(response ? control ?? "" : trace, outcome,
                    statuses.Select(s => string.Join(':', new[] { s.Category, s.Status, s.Entity }.Where(p => p.Length > 0))).ToList(),
                    $"{(response ? "277" : "277CA")} {outcome}: {string.Join("; ", words)}", payerClaimNumber, response ? trace : null));
                trace = control = payerClaimNumber = text = null;
                statuses.Clear();
                amounts.Clear();
            }

            // 277CA: a claim is under its patient (HL03 PT); 277: under the subscriber (22) or the dependent (23).
            bool ClaimLevel() => response ? level is "22" or "23" : level == "PT";
            foreach (var s in set.Segments)
            {
                switch (s.Id)
                {
                    case "HL":
                        Flush();
                        level = s[3];
                        break;
                    case "TRN" when ClaimLevel() && s[1] == "2":
                        Flush();
                        trace = s[2];
                        break;
                    case "STC" when ClaimLevel() && trace is not null:
                        foreach (var element in new[] { 1, 10, 11 })
                        {
                            if (s.Component(element, 1).Length == 0) continue;
                            statuses.Add((s.Component(element, 1), s.Component(element, 2), s.Component(element, 3), response ? "" : s[3]));
                        }

                        if (response)
                        {
                            if (s[4].Length > 0) amounts.Add($"charge {Money(s[4])}");
                            if (s[5].Length > 0) amounts.Add($"paid {Money(s[5])}");
                            if (s[6].Length > 0) amounts.Add($"finalized {Day(s[6])}");
                            if (s[9].Length > 0) amounts.Add($"remittance {s[9]}{(s[8].Length > 0 ? $" of {Day(s[8])}" : "")}");
                        }

                        if (s[12].Length > 0) text = s[12];
                        break;
                    case "REF" when ClaimLevel() && trace is not null && s[1] == "1K":
                        payerClaimNumber = s[2];
                        break;
                    case "REF" when ClaimLevel() && trace is not null && s[1] == "EJ":
                        control = s[2];
                        break;
                    case "SE":
                        Flush();
                        break;
                }
            }
        }

        return results;
    }

    private static string Money(string amount) =>
        decimal.TryParse(amount, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var value) ? Ui.Fmt.Money(value) : amount;

    private static string Day(string date) =>
        DateOnly.TryParseExact(date, "yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var day) ? Ui.Fmt.Date(day) : date;

    private static string Describe((string Category, string Status, string Entity, string Action) s)
    {
        var code = string.Join(':', new[] { s.Category, s.Status, s.Entity }.Where(p => p.Length > 0));
        var words = Text(Categories, s.Category);
        if (s.Status.Length > 0) words += $": {Text(Statuses, s.Status)}";
        if (s.Entity.Length > 0) words += $" ({Text(Entities, s.Entity)})";
        return $"{code} {words}";
    }

    private static string Text(IReadOnlyDictionary<string, string> table, string code) => table.TryGetValue(code, out var text) ? text : $"code {code}";

    /// <summary>Claim status category codes (X12 external code list 507), the acknowledgment ones.</summary>
    public static readonly IReadOnlyDictionary<string, string> Categories = new Dictionary<string, string>
    {
        ["A0"] = "Forwarded to another entity", ["A1"] = "Received (not yet accepted for adjudication)", ["A2"] = "Accepted into the adjudication system",
        ["A3"] = "Returned as unprocessable", ["A4"] = "Not found", ["A5"] = "Split upon acceptance", ["A6"] = "Rejected for missing information",
        ["A7"] = "Rejected for invalid information", ["A8"] = "Rejected for relational field in error",
        ["P1"] = "Pending: in process", ["F1"] = "Finalized: paid", ["F2"] = "Finalized: denied", ["F4"] = "Finalized: no payment forthcoming",
        ["D0"] = "Data search unsuccessful", ["E0"] = "Response not possible: error in the request"
    };

    /// <summary>Common claim status codes (X12 external code list 508).</summary>
    public static readonly IReadOnlyDictionary<string, string> Statuses = new Dictionary<string, string>
    {
        ["0"] = "Cannot provide further status electronically", ["1"] = "See the remittance advice", ["3"] = "Adjudicated, awaiting the payment cycle",
        ["16"] = "Forwarded", ["19"] = "Receipt acknowledged", ["20"] = "Accepted for processing", ["21"] = "Missing or invalid information",
        ["23"] = "Returned to entity", ["24"] = "Not approved as an electronic submitter", ["26"] = "Entity not found", ["27"] = "Policy canceled",
        ["29"] = "Subscriber and policy number mismatched", ["33"] = "Subscriber and subscriber id not found", ["35"] = "Claim not found",
        ["54"] = "Duplicate of a previously processed claim", ["65"] = "Claim has been paid", ["78"] = "Duplicate of a claim awaiting processing",
        ["88"] = "Not eligible for benefits for the dates of service", ["97"] = "Patient eligibility not found", ["116"] = "Submitted to the incorrect payer",
        ["145"] = "Specialty/taxonomy code", ["164"] = "Contract/member number", ["187"] = "Date(s) of service", ["247"] = "Line information",
        ["252"] = "Prior authorization number", ["254"] = "Principal diagnosis code", ["255"] = "Diagnosis code", ["562"] = "National Provider Identifier (NPI)"
    };

    private static readonly IReadOnlyDictionary<string, string> Entities = new Dictionary<string, string>
    {
        ["85"] = "billing provider", ["82"] = "rendering provider", ["IL"] = "subscriber", ["QC"] = "patient", ["PR"] = "payer", ["41"] = "submitter",
        ["40"] = "receiver", ["77"] = "service location"
    };

    /// <summary>IK5-02..06 (DE 618).</summary>
    private static readonly IReadOnlyDictionary<string, string> SetErrors = new Dictionary<string, string>
    {
        ["1"] = "transaction set not supported", ["2"] = "trailer missing", ["3"] = "control numbers in header and trailer differ",
        ["4"] = "segment count does not match", ["5"] = "one or more segments in error", ["6"] = "missing or invalid transaction set identifier",
        ["7"] = "missing or invalid transaction set control number", ["18"] = "transaction set not in functional group",
        ["19"] = "invalid implementation convention reference", ["23"] = "control number not unique within the group",
        ["I5"] = "implementation: one or more segments in error", ["I6"] = "implementation convention not supported"
    };

    /// <summary>IK3-04 (DE 620).</summary>
    private static readonly IReadOnlyDictionary<string, string> SegmentErrors = new Dictionary<string, string>
    {
        ["1"] = "unrecognized segment", ["2"] = "unexpected segment", ["3"] = "required segment missing", ["4"] = "loop occurs over maximum times",
        ["5"] = "segment exceeds maximum use", ["6"] = "segment not in defined transaction set", ["7"] = "segment not in proper sequence",
        ["8"] = "segment has data element errors", ["I4"] = "'not used' segment present", ["I6"] = "implementation dependent segment missing",
        ["I7"] = "loop occurs under minimum times", ["I8"] = "segment below minimum use", ["I9"] = "dependent 'not used' segment present"
    };

    /// <summary>IK4-03 (DE 621).</summary>
    private static readonly IReadOnlyDictionary<string, string> ElementErrors = new Dictionary<string, string>
    {
        ["1"] = "required element missing", ["2"] = "conditional required element missing", ["3"] = "too many elements", ["4"] = "too short",
        ["5"] = "too long", ["6"] = "invalid character", ["7"] = "invalid code value", ["8"] = "invalid date", ["9"] = "invalid time",
        ["10"] = "exclusion condition violated", ["12"] = "too many repetitions", ["13"] = "too many components", ["I6"] = "code value not used in implementation",
        ["I9"] = "implementation dependent element missing", ["I10"] = "'not used' element present", ["I12"] = "pattern match failure"
    };
}
