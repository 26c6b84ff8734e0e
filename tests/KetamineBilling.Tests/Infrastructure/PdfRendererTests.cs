using KetamineBilling.Infrastructure.Pdf;
using UglyToad.PdfPig.Content;
using PigDocument = UglyToad.PdfPig.PdfDocument;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>Billing documents are read by people and by parsers (FSA/HSA administrators), so every string must come back as text.</summary>
public class rendering_a_pdf
{
    private static readonly PdfColumn[] LineColumns =
    [
        new("Date", 1.2),
        new("Code", 1),
        new("Description", 4),
        new("Units", 0.8, PdfAlign.Right),
        new("Amount", 1.4, PdfAlign.Right),
    ];

    [Fact]
    public void the_text_reads_back_with_pdfpig()
    {
        var bytes = PdfRenderer.Render(Statement("Łukasz Renée Núñez"));

        using var pdf = PigDocument.Open(bytes);
        Assert.Equal(1, pdf.NumberOfPages);
        Assert.Equal("Patient Statement", pdf.Information.Title);
        Assert.Equal("KetamineBilling", pdf.Information.Creator);

        var text = Words(pdf.GetPage(1));
        Assert.Contains("Patient Statement", text);
        Assert.Contains("Statement date 2025-03-31", text);
        Assert.Contains("Harbor Ketamine Clinic", text);
        Assert.Contains("NPI 1234567893", text);
        Assert.Contains("Łukasz Renée Núñez", text);
        Assert.Contains("Period 2025-03-01 to 2025-03-31", text);
        Assert.Contains("Services", text);
        Assert.Contains("Date Code Description Units Amount", text);
        Assert.Contains("2025-03-04 90867 Ketamine infusion, initial session 1 $650.00", text);
        Assert.Contains("Total due $1,115.00", text);
        Assert.Contains("Payments are due within 30 days.", text);
        Assert.Contains("This statement is not an insurance claim.", text);
        Assert.Contains("Page 1 of 1", text);
    }

    [Fact]
    public void a_long_table_breaks_across_pages_and_repeats_its_header()
    {
        var rows = Enumerable.Range(1, 150)
            .Select(i => (IReadOnlyList<string>)["2025-03-01", "99213", $"Visit number {i:000}", "1", "$10.00"])
            .ToList();
        var model = Statement("Dana Whitfield") with
        {
            Sections = [new PdfSection("Services", Table: new PdfTable(LineColumns, rows, ["Total", "", "", "", "$1,500.00"]))],
        };

        using var pdf = PigDocument.Open(PdfRenderer.Render(model));

        Assert.True(pdf.NumberOfPages >= 3, $"{pdf.NumberOfPages} pages");
        var pages = pdf.GetPages().Select(Words).ToList();
        for (var i = 0; i < pages.Count; i++)
        {
            Assert.Contains("Date Code Description Units Amount", pages[i]);
            Assert.Contains($"Page {i + 1} of {pages.Count}", pages[i]);
        }

        Assert.All(pages.Skip(1), page => Assert.Contains("Services (continued)", page));
        Assert.All(pages.SkipLast(1), page => Assert.DoesNotContain("not an insurance claim", page));
        Assert.Contains("This statement is not an insurance claim.", pages[^1]);
        Assert.Contains("Total $1,500.00", pages[^1]);

        var visits = string.Join(" ", pages).Split("Visit number ").Skip(1).Select(s => int.Parse(s[..3])).ToList();
        Assert.Equal(Enumerable.Range(1, 150), visits);
    }

    [Fact]
    public void money_columns_are_right_aligned()
    {
        string[] amounts = ["$0.99", "$12.50", "$650.00", "$1,250.00", "$98,765.43"];
        var rows = amounts.Select(a => (IReadOnlyList<string>)["2025-03-01", "99213", "Visit", "1", a]).ToList();
        var model = Statement("Dana Whitfield") with
        {
            Sections = [new PdfSection("Services", Table: new PdfTable(LineColumns, rows))],
        };

        using var pdf = PigDocument.Open(PdfRenderer.Render(model));
        var words = pdf.GetPage(1).GetWords().ToList();
        var cells = amounts.Select(a => Assert.Single(words, w => w.Text == a)).ToList();

        // The end of the last glyph's advance is the typographic right edge; ink boxes differ from digit to digit.
        var rights = cells.Select(w => w.Letters[^1].EndBaseLine.X).ToList();
        Assert.True(rights.Max() - rights.Min() < 0.5, $"right edges {string.Join(", ", rights)}");
        var lefts = cells.Select(w => w.Letters[0].StartBaseLine.X).ToList();
        Assert.True(lefts.Max() - lefts.Min() > 20, "amounts of different widths should start at different x");
        // Last column, inside the 0.75 in right margin.
        Assert.InRange(rights[0], 540, 558);
    }

    [Fact]
    public void long_cell_text_is_cut_with_an_ellipsis_to_fit_its_column()
    {
        var description = "Ketamine infusion with extended monitoring and a very long explanation that cannot possibly fit the column END";
        var model = Statement("Dana Whitfield") with
        {
            Sections = [new PdfSection("Services", Table: new PdfTable(LineColumns, [["2025-03-01", "90867", description, "1", "$650.00"]]))],
        };

        using var pdf = PigDocument.Open(PdfRenderer.Render(model));
        var page = pdf.GetPage(1);
        var text = Words(page);

        Assert.Contains("Ketamine infusion with", text);
        Assert.Contains("\u2026", text);
        Assert.DoesNotContain("END", text);

        // The cut word is the cell's rightmost: it must end before the Units column, 54 pt margin + (1.2 + 1 + 4) / 8.4 of 504 pt.
        var unitsColumnLeft = 54 + (1.2 + 1 + 4) / 8.4 * 504;
        var cut = Assert.Single(page.GetWords(), w => w.Text.EndsWith('\u2026'));
        Assert.True(cut.Letters[^1].EndBaseLine.X <= unitsColumnLeft, $"{cut.Text} ends at {cut.Letters[^1].EndBaseLine.X}");
    }

    [Fact]
    public async Task renders_concurrently()
    {
        var names = Enumerable.Range(1, 24).Select(i => $"Patient Number{i:00}").ToList();

        var rendered = await Task.WhenAll(names.Select(name =>
            Task.Run(() => (name, bytes: PdfRenderer.Render(Statement(name))), TestContext.Current.CancellationToken)));

        Assert.All(rendered, r =>
        {
            using var pdf = PigDocument.Open(r.bytes);
            var text = Words(pdf.GetPage(1));
            Assert.Contains(r.name, text);
            Assert.Equal(1, names.Count(n => text.Contains(n, StringComparison.Ordinal)));
        });
    }

    private static string Words(Page page) => string.Join(" ", page.GetWords().Select(w => w.Text));

    private static PdfDocumentModel Statement(string patient) => new(
        Title: "Patient Statement",
        Subtitle: "Statement date 2025-03-31",
        IssuerLines: ["Harbor Ketamine Clinic", "200 Harbor Way, Suite 4", "Portland, ME 04101", "NPI 1234567893 · Tax ID 12-3456789"],
        Facts: [("Patient", patient), ("Account", "PA-000123"), ("Period", "2025-03-01 to 2025-03-31")],
        Sections:
        [
            new PdfSection(
                "Services",
                Paragraphs: ["Payments are due within 30 days."],
                Table: new PdfTable(
                    LineColumns,
                    [
                        ["2025-03-04", "90867", "Ketamine infusion, initial session", "1", "$650.00"],
                        ["2025-03-11", "J3490", "Ketamine hydrochloride, 50 mg", "2", "$40.00"],
                        ["2025-03-18", "99214", "Follow-up evaluation", "1", "$425.00"],
                    ],
                    ["Total due", "", "", "", "$1,115.00"])),
        ],
        Footnote: "This statement is not an insurance claim. Keep it for your FSA/HSA records.");
}
