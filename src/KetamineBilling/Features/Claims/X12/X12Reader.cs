namespace KetamineBilling.Features.Claims.X12;

public class X12FormatException(string message) : Exception(message);

/// <summary>The interchange holds more segments than the configured cap (the upload is refused as too large).</summary>
public sealed class X12TooManySegmentsException(int cap)
    : X12FormatException($"the interchange holds more than {cap:N0} segments, the most one upload may carry")
{
    public int Cap { get; } = cap;
}

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

/// <summary>A transaction set's header, handed to whoever reads its segments as they stream by.</summary>
/// <param name="Version">ST03, else the functional group's GS08.</param>
public sealed record X12SetHeader(string Code, string ControlNumber, string Version);

/// <summary>Takes one transaction set's segments as they are read, ST first and SE last.</summary>
public interface IX12SetReader
{
    /// <param name="position">The segment's position in the transaction set (ST is 1), as a 999 acknowledgment numbers it.</param>
    void Segment(X12Segment segment, int position);
}

/// <summary>
/// Reads an X12 interchange and checks its envelopes the way a translator does: the delimiters come from the
/// fixed-width ISA segment; IEA01 counts the groups and IEA02 repeats ISA13; GE01 counts the transaction sets
/// and GE02 repeats GS06; SE01 counts the set's segments (ST and SE included) and SE02 repeats ST02.
/// The text is read as a stream, one segment at a time (a 20 MB remittance is never one string split into arrays);
/// whitespace before a segment (spaces, tabs, line breaks of a pretty-printed file) is skipped, and line breaks inside
/// a segment of a file wrapped at a fixed width are dropped, unless a line break is the segment terminator.
/// </summary>
public static class X12Reader
{
    public static X12Interchange Read(string text)
    {
        var sets = new List<X12Transaction>();
        var header = ReadAsync(new StringReader(text), set => new Collector(set, sets)).AsTask().GetAwaiter().GetResult();
        return header with { Transactions = sets };
    }

    /// <summary>
    /// Streams the interchange: each transaction set's segments go to the reader <paramref name="onSet"/> returns for it
    /// (null skips the set). Returns the interchange's envelope (its transactions list is empty).
    /// </summary>
    /// <exception cref="X12TooManySegmentsException">more than <paramref name="maxSegments"/> segments.</exception>
    public static async ValueTask<X12Interchange> ReadAsync(
        TextReader text, Func<X12SetHeader, IX12SetReader?> onSet, int maxSegments = int.MaxValue, CancellationToken ct = default)
    {
        var segments = new X12SegmentStream(text, maxSegments);
        var isa = await segments.NextAsync(ct) ?? throw new X12FormatException("not an X12 interchange: it must start with a 106-character ISA segment");
        if (isa.Count != 16) throw new X12FormatException($"ISA has {isa.Count} elements; it must have 16");

        var groups = 0;
        X12Segment? last;
        while (true)
        {
            var gs = await segments.NextAsync(ct) ?? throw Truncated();
            if (gs.Id == "IEA")
            {
                last = gs;
                break;
            }

            if (gs.Id != "GS") throw new X12FormatException($"segment {segments.Number}: expected GS, found {gs.Id}");
            groups++;
            var sets = 0;
            var segment = await segments.NextAsync(ct) ?? throw Truncated();
            while (segment.Id == "ST")
            {
                var st = segment;
                var reader = onSet(new X12SetHeader(st[1], st[2], st[3].Length > 0 ? st[3] : gs[8]));
                var count = 1;
                reader?.Segment(st, count);
                while (true)
                {
                    segment = await segments.NextAsync(ct) ?? throw new X12FormatException($"transaction set {st[2]} is truncated: no SE");
                    if (segment.Id is "GE" or "IEA" or "ST") throw new X12FormatException($"transaction set {st[2]} ends without SE");
                    count++;
                    reader?.Segment(segment, count);
                    if (segment.Id == "SE") break;
                }

                if (!int.TryParse(segment[1], out var declared) || declared != count)
                    throw new X12FormatException($"SE01 of transaction set {st[2]} says {segment[1]} segments; it has {count}");
                if (segment[2] != st[2]) throw new X12FormatException($"SE02 {segment[2]} does not match ST02 {st[2]}");
                sets++;
                segment = await segments.NextAsync(ct) ?? throw Truncated();
            }

            if (segment.Id != "GE") throw new X12FormatException("a functional group does not end with GE");
            if (!int.TryParse(segment[1], out var declaredSets) || declaredSets != sets)
                throw new X12FormatException($"GE01 says {segment[1]} transaction sets; the group has {sets}");
            if (segment[2] != gs[6]) throw new X12FormatException($"GE02 {segment[2]} does not match GS06 {gs[6]}");
        }

        if (last[2] != isa[13]) throw new X12FormatException($"IEA02 {last[2]} does not match ISA13 {isa[13]}");
        if (!int.TryParse(last[1], out var declaredGroups) || declaredGroups != groups)
            throw new X12FormatException($"IEA01 says {last[1]} functional groups; the interchange has {groups}");
        if (await segments.NextAsync(ct) is { } after) throw new X12FormatException($"segment {segments.Number}: {after.Id} after IEA");

        return new X12Interchange(segments.Element, segments.Component, segments.Repetition, segments.Terminator, isa[6].Trim(), isa[8].Trim(),
            isa[13], []);
    }

    private static X12FormatException Truncated() => new("the interchange is truncated: it does not end with IEA");

    private sealed class Collector(X12SetHeader header, List<X12Transaction> sets) : IX12SetReader
    {
        private readonly List<X12Segment> _segments = [];

        public void Segment(X12Segment segment, int position)
        {
            _segments.Add(segment);
            if (segment.Id == "SE") sets.Add(new X12Transaction(header.Code, header.ControlNumber, header.Version, _segments));
        }
    }
}

/// <summary>
/// The segments of an interchange, read from a <see cref="TextReader"/> through a small buffer: only the segment being
/// read is in memory. The delimiters are those the ISA segment declares at its fixed positions.
/// </summary>
public sealed class X12SegmentStream
{
    private readonly TextReader _reader;
    private readonly int _maxSegments;
    private readonly char[] _buffer = new char[16 * 1024];
    private readonly SegmentBuffer _segment = new();

    // Short element values (qualifiers, codes, group and reason codes, amounts that repeat) are shared, not allocated per
    // segment: a 20 MB remittance repeats a few hundred of them hundreds of thousands of times.
    private readonly HashSet<string> _pool = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _shared;
    private const int SharedLength = 8, SharedCount = 4096;
    private readonly List<string> _parts = [];
    private int _length;
    private int _at;
    private bool _started;

    public X12SegmentStream(TextReader reader, int maxSegments = int.MaxValue)
    {
        _reader = reader;
        _maxSegments = maxSegments;
        _shared = _pool.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>No segment of a health-care transaction comes near it; a file without its terminator stops here.</summary>
    public const int MaxSegmentLength = 64 * 1024;

    public char Element { get; private set; }
    public char Component { get; private set; }
    public char Repetition { get; private set; }
    public char Terminator { get; private set; }

    /// <summary>The number of the segment last read, in the interchange (ISA is 1).</summary>
    public int Number { get; private set; }

    /// <summary>The next segment, or null at the end of the text.</summary>
    public async ValueTask<X12Segment?> NextAsync(CancellationToken ct = default)
    {
        if (!_started) return await IsaAsync(ct);
        var dropLineBreaks = Terminator is not ('\n' or '\r');
        while (true)
        {
            _segment.Clear();
            var ended = false;
            var terminated = false;
            while (!terminated)
            {
                if (_at == _length && !await FillAsync(ct))
                {
                    ended = true;
                    break;
                }

                while (_at < _length)
                {
                    var ch = _buffer[_at++];
                    if (ch == Terminator)
                    {
                        terminated = true;
                        break;
                    }

                    if (ch is '\r' or '\n' && dropLineBreaks) continue;
                    // Whitespace before a segment (a pretty-printed file's indentation and line breaks) is no part of it.
                    if (_segment.Length == 0 && ch is ' ' or '\t' or '\r' or '\n' or '\uFEFF') continue;
                    if (_segment.Length == MaxSegmentLength)
                        throw new X12FormatException($"segment {Number + 1} runs past {MaxSegmentLength:N0} characters without a segment terminator '{Terminator}'");
                    _segment.Append(ch);
                }
            }

            // A line break right before the terminator, when the terminator is itself a line break ("~\r\n" read with "\n").
            while (_segment.Length > 0 && _segment[^1] is '\r' or '\n') _segment.Length--;
            if (_segment.Length > 0) break;
            if (ended) return null;
        }

        return Split();
    }

    private X12Segment Split()
    {
        if (++Number > _maxSegments) throw new X12TooManySegmentsException(_maxSegments);
        _parts.Clear();
        var chars = _segment.AsSpan();
        var start = 0;
        for (var i = 0; i <= chars.Length; i++)
        {
            if (i == chars.Length || chars[i] == Element)
            {
                _parts.Add(Text(chars[start..i]));
                start = i + 1;
            }
        }

        return new X12Segment([.. _parts], Component);
    }

    private string Text(ReadOnlySpan<char> value)
    {
        if (value.Length == 0) return "";
        if (value.Length > SharedLength) return new string(value);
        if (_shared.TryGetValue(value, out var shared)) return shared;
        var text = new string(value);
        if (_pool.Count < SharedCount) _pool.Add(text);
        return text;
    }

    /// <summary>The characters of the segment being read, reused from one segment to the next.</summary>
    private sealed class SegmentBuffer
    {
        private char[] _chars = new char[256];

        public int Length { get; set; }

        public char this[int index] => _chars[index];

        public ReadOnlySpan<char> AsSpan() => _chars.AsSpan(0, Length);

        public void Clear() => Length = 0;

        public void Append(char c)
        {
            if (Length == _chars.Length) Array.Resize(ref _chars, _chars.Length * 2);
            _chars[Length++] = c;
        }
    }

    private async ValueTask<X12Segment?> IsaAsync(CancellationToken ct)
    {
        _started = true;
        _segment.Clear();
        while (_segment.Length < 106 && (_at < _length || await FillAsync(ct)))
        {
            var ch = _buffer[_at++];
            if (_segment.Length == 0 && ch is '\uFEFF' or ' ' or '\r' or '\n' or '\t') continue;
            _segment.Append(ch);
        }

        if (_segment.Length == 0) throw new X12FormatException("the file is empty: an X12 interchange starts with a 106-character ISA segment");
        if (_segment.Length < 106 || _segment[0] != 'I' || _segment[1] != 'S' || _segment[2] != 'A')
        {
            throw new X12FormatException("not an X12 interchange: it must start with a 106-character ISA segment");
        }

        Element = _segment[3];
        Repetition = _segment[82];
        Component = _segment[104];
        Terminator = _segment[105];
        if (char.IsLetterOrDigit(Element) || char.IsLetterOrDigit(Terminator) || Element == Terminator)
        {
            throw new X12FormatException("the ISA segment does not declare usable delimiters");
        }

        _segment.Length = 105;
        return Split();
    }

    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        _length = await _reader.ReadAsync(_buffer.AsMemory(), ct);
        _at = 0;
        if (_length > 0) return true;
        _length = 0;
        return false;
    }
}
