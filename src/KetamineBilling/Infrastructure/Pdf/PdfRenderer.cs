using System.Collections.Concurrent;
using PdfSharp;
using PdfSharp.Drawing;
using PdfSharp.Fonts;
using PdfSharp.Pdf;

namespace KetamineBilling.Infrastructure.Pdf;

/// <summary>
/// Lays out a <see cref="PdfDocumentModel"/> as a US Letter billing document. Every call builds its own
/// document, pages, graphics and fonts, so concurrent renders share nothing but PDFsharp's process-wide
/// font resolver, which is installed once.
/// </summary>
public static class PdfRenderer
{
    public static byte[] Render(PdfDocumentModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        EmbeddedFontResolver.EnsureInstalled();

        using var document = new PdfDocument();
        document.Info.Title = model.Title;
        document.Info.Creator = "KetamineBilling";
        document.Options.CompressContentStreams = true;

        new Layout(document).Write(model);

        using var stream = new MemoryStream();
        document.Save(stream, false);
        return stream.ToArray();
    }

    private sealed class Layout(PdfDocument document)
    {
        // US Letter in points; 0.75 in margins.
        private const double PageWidth = 612;
        private const double PageHeight = 792;
        private const double Margin = 54;
        private const double Left = Margin;
        private const double Right = PageWidth - Margin;
        private const double ContentWidth = Right - Left;
        // The footer sits inside the bottom margin's inner edge so body text never runs into it.
        private const double FooterBand = 22;
        private const double ContentBottom = PageHeight - Margin - FooterBand;

        private const double CellPadX = 4;
        private const double CellPadY = 3.5;
        private const double ParagraphGap = 4;
        private const double SectionGap = 16;
        private const string Ellipsis = "\u2026";

        private static readonly XColor Ink = XColor.FromArgb(0x1F, 0x1F, 0x1F);
        private static readonly XColor Muted = XColor.FromArgb(0x5F, 0x5F, 0x5F);
        private static readonly XColor HeaderFill = XColor.FromArgb(0xE6, 0xE6, 0xE6);
        private static readonly XColor RuleColor = XColor.FromArgb(0xBF, 0xBF, 0xBF);

        // Brushes, pens and fonts are per render: PDFsharp does not promise these objects are safe to share across threads.
        private readonly XBrush _ink = new XSolidBrush(Ink);
        private readonly XBrush _muted = new XSolidBrush(Muted);
        private readonly XBrush _headerFill = new XSolidBrush(HeaderFill);
        private readonly XPen _thinRule = new(RuleColor, 0.5);
        private readonly XPen _strongRule = new(Ink, 0.75);

        private readonly XFont _title = Font(16, bold: true);
        private readonly XFont _subtitle = Font(10.5, bold: false);
        private readonly XFont _issuerName = Font(11, bold: true);
        private readonly XFont _heading = Font(11, bold: true);
        private readonly XFont _body = Font(9.5, bold: false);
        private readonly XFont _cell = Font(8.5, bold: false);
        private readonly XFont _cellBold = Font(8.5, bold: true);
        private readonly XFont _small = Font(8, bold: false);
        private readonly XFont _issuer = Font(9, bold: false);

        private readonly List<PdfPage> _pages = [];
        private XGraphics _gfx = null!;
        private double _y;

        public void Write(PdfDocumentModel model)
        {
            NewPage();
            WriteHeader(model);

            foreach (var section in model.Sections)
            {
                WriteSection(section);
            }

            WriteFootnote(model.Footnote);
            _gfx.Dispose();
            WriteFooters(model.Title);
        }

        private static XFont Font(double size, bool bold) =>
            new(EmbeddedFontResolver.FamilyName, size, bold ? XFontStyleEx.Bold : XFontStyleEx.Regular);

        private void NewPage()
        {
            _gfx?.Dispose();
            var page = document.AddPage();
            page.Size = PageSize.Letter;
            page.Orientation = PageOrientation.Portrait;
            _pages.Add(page);
            _gfx = XGraphics.FromPdfPage(page);
            _y = Margin;
        }

        /// <summary>Breaks the page unless <paramref name="height"/> still fits, so blocks are never cut by the footer.</summary>
        private bool EnsureSpace(double height)
        {
            if (_y + height <= ContentBottom || _y <= Margin)
            {
                return false;
            }

            NewPage();
            return true;
        }

        private void WriteHeader(PdfDocumentModel model)
        {
            // Issuer on the left, title on the right, like a printed invoice; whichever runs longer decides where the body starts.
            const double gutter = 18;
            var titleWidth = ContentWidth * 0.45;
            var issuerWidth = ContentWidth - titleWidth - gutter;

            var issuerY = _y;
            for (var i = 0; i < model.IssuerLines.Count; i++)
            {
                var font = i == 0 ? _issuerName : _issuer;
                var brush = i == 0 ? _ink : _muted;
                Text(Fit(model.IssuerLines[i], font, issuerWidth), font, brush, Left, issuerY);
                issuerY += font.GetHeight() + (i == 0 ? 2 : 0);
            }

            var titleY = _y;
            foreach (var line in Wrap(model.Title, _title, titleWidth))
            {
                TextRight(line, _title, _ink, Right, titleY);
                titleY += _title.GetHeight();
            }

            if (!string.IsNullOrWhiteSpace(model.Subtitle))
            {
                titleY += 2;
                foreach (var line in Wrap(model.Subtitle, _subtitle, titleWidth))
                {
                    TextRight(line, _subtitle, _muted, Right, titleY);
                    titleY += _subtitle.GetHeight();
                }
            }

            _y = Math.Max(issuerY, titleY) + 10;
            _gfx.DrawLine(_strongRule, Left, _y, Right, _y);
            _y += 12;

            if (model.Facts.Count > 0)
            {
                WriteFacts(model.Facts);
            }
        }

        private void WriteFacts(IReadOnlyList<(string Label, string Value)> facts)
        {
            // One label column for the block keeps the values in a straight line.
            const double labelGap = 14;
            var labelWidth = Math.Min(facts.Max(f => Measure(f.Label, _body)) + labelGap, ContentWidth * 0.4);
            var valueWidth = ContentWidth - labelWidth;
            var lineHeight = _body.GetHeight() + 1;

            foreach (var (label, value) in facts)
            {
                var lines = Wrap(value, _body, valueWidth);
                for (var i = 0; i < lines.Count; i++)
                {
                    EnsureSpace(lineHeight);
                    if (i == 0)
                    {
                        Text(Fit(label, _body, labelWidth - labelGap), _body, _muted, Left, _y);
                    }

                    Text(lines[i], _body, _ink, Left + labelWidth, _y);
                    _y += lineHeight;
                }
            }
        }

        private void WriteSection(PdfSection section)
        {
            _y += SectionGap;
            var headingHeight = string.IsNullOrWhiteSpace(section.Heading) ? 0 : _heading.GetHeight() + 5;

            // A heading alone at the foot of a page reads as a mistake: keep it with the first thing under it.
            EnsureSpace(headingHeight + FirstBlockHeight(section));
            if (headingHeight > 0)
            {
                WriteHeading(section.Heading!);
            }

            foreach (var paragraph in section.Paragraphs ?? [])
            {
                WriteParagraph(paragraph);
            }

            if (section.Facts is { Count: > 0 })
            {
                WriteFacts(section.Facts);
                _y += ParagraphGap;
            }

            if (section.Table is not null)
            {
                WriteTable(section.Table, section.Heading);
            }
        }

        private double FirstBlockHeight(PdfSection section)
        {
            if (section.Paragraphs is { Count: > 0 })
            {
                return _body.GetHeight();
            }

            if (section.Facts is { Count: > 0 })
            {
                return _body.GetHeight();
            }

            // Header plus one row: a table header with nothing under it is no better than an orphaned heading.
            return section.Table is null ? 0 : 2 * RowHeight();
        }

        private void WriteHeading(string heading)
        {
            Text(Fit(heading, _heading, ContentWidth), _heading, _ink, Left, _y);
            _y += _heading.GetHeight() + 5;
        }

        private void WriteParagraph(string paragraph)
        {
            var lineHeight = _body.GetHeight() + 1;
            foreach (var line in Wrap(paragraph, _body, ContentWidth))
            {
                EnsureSpace(lineHeight);
                Text(line, _body, _ink, Left, _y);
                _y += lineHeight;
            }

            _y += ParagraphGap;
        }

        private double RowHeight() => _cell.GetHeight() + 2 * CellPadY;

        private void WriteTable(PdfTable table, string? heading)
        {
            if (table.Columns.Count == 0)
            {
                throw new ArgumentException("A table needs at least one column.", nameof(table));
            }

            if (table.Columns.Any(c => !(c.Width > 0) || double.IsInfinity(c.Width)))
            {
                throw new ArgumentException("Column widths are relative weights and must be positive.", nameof(table));
            }

            var totalWeight = table.Columns.Sum(c => c.Width);
            var widths = table.Columns.Select(c => c.Width / totalWeight * ContentWidth).ToArray();
            var rowHeight = RowHeight();

            // Header plus one row, or the header moves to the next page with them.
            if (EnsureSpace(2 * rowHeight))
            {
                WriteContinuation(heading);
            }

            WriteTableHeader(table.Columns, widths, rowHeight);
            foreach (var row in table.Rows)
            {
                if (EnsureSpace(rowHeight))
                {
                    WriteContinuation(heading);
                    WriteTableHeader(table.Columns, widths, rowHeight);
                }

                WriteRow(table.Columns, widths, row, _cell, rowHeight);
                _gfx.DrawLine(_thinRule, Left, _y, Right, _y);
            }

            if (table.TotalRow is not null)
            {
                if (EnsureSpace(rowHeight))
                {
                    WriteContinuation(heading);
                    WriteTableHeader(table.Columns, widths, rowHeight);
                }

                _gfx.DrawLine(_strongRule, Left, _y, Right, _y);
                WriteRow(table.Columns, widths, table.TotalRow, _cellBold, rowHeight);
                _gfx.DrawLine(_strongRule, Left, _y, Right, _y);
            }

            _y += ParagraphGap;
        }

        // A table picked up on a new page says whose rows these are.
        private void WriteContinuation(string? heading)
        {
            if (!string.IsNullOrWhiteSpace(heading))
            {
                WriteHeading($"{heading} (continued)");
            }
        }

        private void WriteTableHeader(IReadOnlyList<PdfColumn> columns, double[] widths, double rowHeight)
        {
            _gfx.DrawRectangle(_headerFill, Left, _y, ContentWidth, rowHeight);
            WriteRow(columns, widths, columns.Select(c => c.Header).ToList(), _cellBold, rowHeight);
            _gfx.DrawLine(_strongRule, Left, _y, Right, _y);
        }

        private void WriteRow(IReadOnlyList<PdfColumn> columns, double[] widths, IReadOnlyList<string> cells, XFont font, double rowHeight)
        {
            if (cells.Count > columns.Count)
            {
                throw new ArgumentException($"A row has {cells.Count} cells for {columns.Count} columns.", nameof(cells));
            }

            var x = Left;
            for (var i = 0; i < columns.Count; i++)
            {
                var fitted = Fit(i < cells.Count ? cells[i] : "", font, widths[i] - 2 * CellPadX);
                if (columns[i].Align == PdfAlign.Right)
                {
                    TextRight(fitted, font, _ink, x + widths[i] - CellPadX, _y + CellPadY);
                }
                else
                {
                    Text(fitted, font, _ink, x + CellPadX, _y + CellPadY);
                }

                x += widths[i];
            }

            _y += rowHeight;
        }

        private void WriteFootnote(string? footnote)
        {
            if (string.IsNullOrWhiteSpace(footnote))
            {
                return;
            }

            // Anchored to the foot of the last page, where a reader looks for the fine print.
            var lineHeight = _small.GetHeight() + 0.5;
            var lines = Wrap(footnote, _small, ContentWidth);
            var height = lines.Count * lineHeight;
            var top = ContentBottom - height;
            if (_y + SectionGap > top)
            {
                NewPage();
            }

            var y = top;
            foreach (var line in lines)
            {
                Text(line, _small, _muted, Left, y);
                y += lineHeight;
            }
        }

        private void WriteFooters(string title)
        {
            // Page count is only known now, so the footers go on in a second pass over finished pages.
            var footerY = PageHeight - Margin - _small.GetHeight();
            var ruleY = footerY - 5;
            for (var i = 0; i < _pages.Count; i++)
            {
                using var gfx = XGraphics.FromPdfPage(_pages[i], XGraphicsPdfPageOptions.Append);
                gfx.DrawLine(_thinRule, Left, ruleY, Right, ruleY);
                var pageLabel = $"Page {i + 1} of {_pages.Count}";
                gfx.DrawString(pageLabel, _small, _muted, Right, footerY, XStringFormats.TopRight);
                var room = ContentWidth - gfx.MeasureString(pageLabel, _small).Width - 24;
                gfx.DrawString(Fit(gfx, title, _small, room), _small, _muted, Left, footerY, XStringFormats.TopLeft);
            }
        }

        private void Text(string text, XFont font, XBrush brush, double x, double top)
        {
            if (text.Length > 0)
            {
                _gfx.DrawString(text, font, brush, x, top, XStringFormats.TopLeft);
            }
        }

        private void TextRight(string text, XFont font, XBrush brush, double right, double top)
        {
            if (text.Length > 0)
            {
                _gfx.DrawString(text, font, brush, right, top, XStringFormats.TopRight);
            }
        }

        private double Measure(string text, XFont font) => Measure(_gfx, text, font);

        private static double Measure(XGraphics gfx, string text, XFont font) =>
            text.Length == 0 ? 0 : gfx.MeasureString(text, font).Width;

        private string Fit(string? text, XFont font, double width) => Fit(_gfx, text, font, width);

        /// <summary>One line, cut to the longest prefix that fits with an ellipsis, so a cell never spills into its neighbour.</summary>
        private static string Fit(XGraphics gfx, string? raw, XFont font, double width)
        {
            var text = OneLine(raw);
            if (Measure(gfx, text, font) <= width)
            {
                return text;
            }

            if (Measure(gfx, Ellipsis, font) > width)
            {
                return "";
            }

            int low = 0, high = text.Length;
            while (low < high)
            {
                var mid = (low + high + 1) / 2;
                if (Measure(gfx, Cut(text, mid), font) <= width)
                {
                    low = mid;
                }
                else
                {
                    high = mid - 1;
                }
            }

            return Cut(text, low);
        }

        private static string Cut(string text, int length)
        {
            // Never split a surrogate pair: half a character is not valid text in the PDF.
            if (length > 0 && char.IsHighSurrogate(text[length - 1]))
            {
                length--;
            }

            return text[..length].TrimEnd() + Ellipsis;
        }

        private static string OneLine(string? text) =>
            string.IsNullOrEmpty(text) ? "" : text.ReplaceLineEndings(" ").Replace('\t', ' ');

        /// <summary>Greedy word wrap; explicit line breaks are kept and a word wider than the line is broken by characters.</summary>
        private List<string> Wrap(string text, XFont font, double width)
        {
            var lines = new List<string>();
            foreach (var paragraph in text.ReplaceLineEndings("\n").Split('\n'))
            {
                var current = "";
                foreach (var word in paragraph.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var candidate = current.Length == 0 ? word : current + " " + word;
                    if (Measure(candidate, font) <= width)
                    {
                        current = candidate;
                        continue;
                    }

                    if (current.Length > 0)
                    {
                        lines.Add(current);
                    }

                    current = word;
                    while (Measure(current, font) > width && current.Length > 1)
                    {
                        var take = LongestPrefix(current, font, width);
                        lines.Add(current[..take]);
                        current = current[take..];
                    }
                }

                lines.Add(current);
            }

            return lines;
        }

        private int LongestPrefix(string text, XFont font, double width)
        {
            var take = 1;
            while (take < text.Length && Measure(text[..(take + 1)], font) <= width)
            {
                take++;
            }

            if (take < text.Length && char.IsHighSurrogate(text[take - 1]))
            {
                take = Math.Max(1, take - 1);
            }

            return take;
        }
    }
}

/// <summary>
/// PDFsharp's Core build finds no system fonts on Linux, so the DejaVu faces ship inside the assembly.
/// The resolver is process-wide and PDFsharp refuses a second, different instance, hence one static instance
/// installed under a lock.
/// </summary>
internal sealed class EmbeddedFontResolver : IFontResolver
{
    public const string FamilyName = "DejaVu Sans";
    private const string RegularFace = "DejaVuSans";
    private const string BoldFace = "DejaVuSans-Bold";

    private static readonly EmbeddedFontResolver Instance = new();
    private static readonly Lock Gate = new();
    private static volatile bool _installed;

    private readonly ConcurrentDictionary<string, byte[]> _faces = new();

    public static void EnsureInstalled()
    {
        if (_installed)
        {
            return;
        }

        lock (Gate)
        {
            if (_installed)
            {
                return;
            }

            // Someone else's resolver may already own the slot; then ours only answers what theirs cannot.
            if (GlobalFontSettings.FontResolver is null)
            {
                GlobalFontSettings.FontResolver = Instance;
            }
            else if (!ReferenceEquals(GlobalFontSettings.FontResolver, Instance) && GlobalFontSettings.FallbackFontResolver is null)
            {
                GlobalFontSettings.FallbackFontResolver = Instance;
            }

            _installed = true;
        }
    }

    // Every family maps to DejaVu: on a server without fonts, any other answer is an exception at render time.
    public FontResolverInfo ResolveTypeface(string familyName, bool isBold, bool isItalic) =>
        new(isBold ? BoldFace : RegularFace, mustSimulateBold: false, mustSimulateItalic: isItalic);

    public byte[] GetFont(string faceName) => _faces.GetOrAdd(faceName, Load);

    private static byte[] Load(string faceName)
    {
        var name = $"KetamineBilling.Fonts.{faceName}.ttf";
        using var stream = typeof(EmbeddedFontResolver).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"Font resource {name} is not embedded in {typeof(EmbeddedFontResolver).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
