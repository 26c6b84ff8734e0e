namespace KetamineBilling.Features.Claims.X12;

public sealed class X12FormatException(string message) : Exception(message);

/// <summary>One segment: its id and its elements (element 1 is index 1, as the implementation guides number them).</summary>
public sealed class X12Segment(string[] parts, char componentSeparator)
{
    public string Id => parts[0];

    public int Count => parts.Length - 1;

    public string this[int element] => element < parts.Length ? parts[element] : "";

    /// <summary>A composite element's component (1-based), e.g. SVC01-2 is Component(1, 2).</summary>
    public string Component(int element, int component)
    {
        var components = this[element].Split(componentSeparator);
        return component - 1 < components.Length ? components[component - 1] : "";
    }

    public override string ToString() => string.Join('*', parts);
}

/// <summary>A transaction set (ST ... SE) with its functional group's version.</summary>
public sealed record X12Transaction(string Code, string ControlNumber, string Version, IReadOnlyList<X12Segment> Segments);

public sealed record X12Interchange(
    char ElementSeparator, char ComponentSeparator, char RepetitionSeparator, char SegmentTerminator, string SenderId, string ReceiverId,
    string ControlNumber, IReadOnlyList<X12Transaction> Transactions);

/// <summary>
/// Reads an X12 interchange and checks its envelopes the way a translator does: the delimiters come from the
/// fixed-width ISA segment; IEA01 counts the groups and IEA02 repeats ISA13; GE01 counts the transaction sets
/// and GE02 repeats GS06; SE01 counts the set's segments (ST and SE included) and SE02 repeats ST02.
/// </summary>
public static class X12Reader
{
    public static X12Interchange Read(string text)
    {
        text = text.TrimStart('\uFEFF', ' ', '\r', '\n', '\t');
        if (text.Length < 106 || !text.StartsWith("ISA", StringComparison.Ordinal))
        {
            throw new X12FormatException("not an X12 interchange: it must start with a 106-character ISA segment");
        }

        var element = text[3];
        var repetition = text[82];
        var component = text[104];
        var terminator = text[105];
        if (char.IsLetterOrDigit(element) || char.IsLetterOrDigit(terminator) || element == terminator)
        {
            throw new X12FormatException("the ISA segment does not declare usable delimiters");
        }

        // Files wrapped at a fixed width carry line breaks inside segments: they are not data unless they are the terminator.
        if (terminator is not ('\n' or '\r'))
        {
            text = text.Replace("\r", "").Replace("\n", "");
        }

        var segments = text.Split(terminator)
            .Select(s => s.Trim('\r', '\n'))
            .Where(s => s.Length > 0)
            .Select(s => new X12Segment(s.Split(element), component))
            .ToList();

        var isa = segments[0];
        if (isa.Count != 16) throw new X12FormatException($"ISA has {isa.Count} elements; it must have 16");
        var last = segments[^1];
        if (last.Id != "IEA") throw new X12FormatException("the interchange is truncated: it does not end with IEA");
        if (last[2] != isa[13]) throw new X12FormatException($"IEA02 {last[2]} does not match ISA13 {isa[13]}");

        var transactions = new List<X12Transaction>();
        var groups = 0;
        var i = 1;
        while (i < segments.Count - 1)
        {
            var gs = segments[i];
            if (gs.Id != "GS") throw new X12FormatException($"segment {i + 1}: expected GS, found {gs.Id}");
            groups++;
            i++;
            var sets = 0;
            while (i < segments.Count && segments[i].Id == "ST")
            {
                var st = segments[i];
                var start = i;
                while (i < segments.Count && segments[i].Id != "SE")
                {
                    if (segments[i].Id is "GE" or "IEA" or "ST" && i != start)
                        throw new X12FormatException($"transaction set {st[2]} ends without SE");
                    i++;
                }

                if (i >= segments.Count) throw new X12FormatException($"transaction set {st[2]} is truncated: no SE");
                var se = segments[i];
                var count = i - start + 1;
                if (!int.TryParse(se[1], out var declared) || declared != count)
                    throw new X12FormatException($"SE01 of transaction set {st[2]} says {se[1]} segments; it has {count}");
                if (se[2] != st[2]) throw new X12FormatException($"SE02 {se[2]} does not match ST02 {st[2]}");
                transactions.Add(new X12Transaction(st[1], st[2], st[3].Length > 0 ? st[3] : gs[8], segments.GetRange(start, count)));
                sets++;
                i++;
            }

            if (i >= segments.Count || segments[i].Id != "GE") throw new X12FormatException("a functional group does not end with GE");
            var ge = segments[i];
            if (!int.TryParse(ge[1], out var declaredSets) || declaredSets != sets)
                throw new X12FormatException($"GE01 says {ge[1]} transaction sets; the group has {sets}");
            if (ge[2] != gs[6]) throw new X12FormatException($"GE02 {ge[2]} does not match GS06 {gs[6]}");
            i++;
        }

        if (!int.TryParse(last[1], out var declaredGroups) || declaredGroups != groups)
            throw new X12FormatException($"IEA01 says {last[1]} functional groups; the interchange has {groups}");

        return new X12Interchange(element, component, repetition, terminator, isa[6].Trim(), isa[8].Trim(), isa[13], transactions);
    }
}
