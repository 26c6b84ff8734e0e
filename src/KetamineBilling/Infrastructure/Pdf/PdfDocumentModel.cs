namespace KetamineBilling.Infrastructure.Pdf;

// Plain data, no PDF types: features (statements, receipts, employer statements) build a model and
// PdfRenderer owns every layout decision, so all billing documents look alike.

public enum PdfAlign { Left, Right }

/// <param name="Width">Relative weight: columns share the printable width in proportion to it.</param>
public sealed record PdfColumn(string Header, double Width, PdfAlign Align = PdfAlign.Left);

/// <param name="Rows">One cell per column; a short row leaves its last cells empty.</param>
/// <param name="TotalRow">Drawn bold under a heavier rule after the last row.</param>
public sealed record PdfTable(
    IReadOnlyList<PdfColumn> Columns,
    IReadOnlyList<IReadOnlyList<string>> Rows,
    IReadOnlyList<string>? TotalRow = null);

public sealed record PdfSection(
    string? Heading,
    IReadOnlyList<string>? Paragraphs = null,
    PdfTable? Table = null,
    IReadOnlyList<(string Label, string Value)>? Facts = null);

/// <param name="IssuerLines">Clinic name, address, NPI, tax id: the top-left block of the first page; the first line is bold.</param>
/// <param name="Facts">Label/value block under the title, e.g. Patient, Period.</param>
/// <param name="Footnote">Printed at the foot of the last page only.</param>
public sealed record PdfDocumentModel(
    string Title,
    string? Subtitle,
    IReadOnlyList<string> IssuerLines,
    IReadOnlyList<(string Label, string Value)> Facts,
    IReadOnlyList<PdfSection> Sections,
    string? Footnote = null);
