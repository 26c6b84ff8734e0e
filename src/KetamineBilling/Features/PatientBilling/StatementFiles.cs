using KetamineBilling.Features.AccessAudit;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Infrastructure.Pdf;
using Marten;
using Microsoft.AspNetCore.Authorization;
using PdfSharp.Pdf;
using PdfSharp.Pdf.IO;
using Wolverine.Http;

namespace KetamineBilling.Features.PatientBilling;

/// <summary>A run's statements on paper: each one, and the print file of them all.</summary>
public static class StatementFiles
{
    /// <summary>
    /// One statement as it was sent: the account's activity for its period up to the moment the run was made (what was
    /// recorded later is not on it), dated the run's day.
    /// </summary>
    public static async Task<byte[]?> RenderAsync(IQuerySession session, StatementRun run, RunStatement item, ClinicProfile clinic, TimeZoneInfo zone, CancellationToken ct)
    {
        var account = await session.LoadAsync<PatientAccount>(item.PatientId, ct);
        var statement = await Patients.Statements.BuildAsync(session, item.PatientId, item.From, item.To, zone, ct, run.CompletedAt);
        if (account is null || statement is null) return null;
        return PdfRenderer.Render(Dunning(Patients.Statements.StatementDocument(statement, account, clinic, run.RunOn), item.Stage, clinic));
    }

    /// <summary>A reminder or a final notice says so at its top; a statement is a statement.</summary>
    public static PdfDocumentModel Dunning(PdfDocumentModel statement, DunningStage stage, ClinicProfile clinic)
    {
        var call = clinic.Phone is { } phone ? $"call us at {phone}" : "call us";
        return stage switch
        {
            DunningStage.Reminder => statement with
            {
                Title = "Reminder: Patient Statement",
                Sections = [new PdfSection("Reminder", Paragraphs: [$"Our records show a balance that is past due. Please pay the amount due, or {call} to agree a payment plan."]), .. statement.Sections]
            },
            DunningStage.FinalNotice => statement with
            {
                Title = "Final Notice: Patient Statement",
                Sections =
                [
                    new PdfSection("Final notice", Paragraphs:
                    [
                        $"This balance is seriously past due. Please pay the amount due within 30 days, or {call} to agree a payment plan. " +
                        "Otherwise the account may be placed with a collection agency."
                    ]),
                    .. statement.Sections
                ]
            },
            _ => statement
        };
    }

    /// <summary>
    /// The statements one after the other, each starting on a front side (a blank back is added after one of an odd number of
    /// pages), for a duplex printer and the envelopes.
    /// </summary>
    public static byte[] Combine(IEnumerable<byte[]> documents)
    {
        using var output = new PdfDocument();
        foreach (var bytes in documents)
        {
            using var input = PdfReader.Open(new MemoryStream(bytes), PdfDocumentOpenMode.Import);
            foreach (var page in input.Pages) output.AddPage(page);
            if (input.PageCount % 2 == 1)
            {
                var blank = output.AddPage();
                (blank.Width, blank.Height) = (input.Pages[0].Width, input.Pages[0].Height);
            }
        }

        using var stream = new MemoryStream();
        output.Save(stream, false);
        return stream.ToArray();
    }

    [PhiRead("statement-pdf")]
    [WolverineGet("/api/statement-runs/{runId}/statements/{statementId}/statement.pdf"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Statements")]
    public static async Task<IResult> GetOne(
        Guid runId, Guid statementId, IQuerySession session, ClinicProfiles profiles, ClinicCalendar calendar, CancellationToken ct)
    {
        if (await session.LoadAsync<StatementRun>(runId, ct) is not { } run) return Problems.NotFound($"statement run {runId} does not exist");
        if (run.Statement(statementId) is not { } item) return Problems.NotFound($"statement {statementId} is not in run {runId}");
        var pdf = await RenderAsync(session, run, item, await profiles.CurrentAsync(session, ct), calendar.Zone, ct);
        return pdf is null
            ? Problems.NotFound($"the patient of statement {statementId} does not exist")
            : Results.File(pdf, "application/pdf", $"statement-{run.RunOn:yyyyMMdd}-{Patients.Statements.AccountReference(item.PatientId)}.pdf");
    }

    /// <summary>The run's print file: the statements to post (<c>delivery=post</c>, the default) or all of them (<c>delivery=all</c>).</summary>
    [PhiRead("statement-print-file", Subject = PhiSubject.StatementRun)]
    [WolverineGet("/api/statement-runs/{runId}/print.pdf"), Authorize(Policy = Policies.BillingAdmin)]
    [Tags("Statements")]
    public static async Task<IResult> GetPrintFile(
        Guid runId, string? delivery, IQuerySession session, ClinicProfiles profiles, ClinicCalendar calendar, CancellationToken ct)
    {
        if (delivery is not (null or "post" or "all")) return Problems.Invalid("delivery", "must be post (the statements without an email address) or all", StatusCodes.Status400BadRequest);
        if (await session.LoadAsync<StatementRun>(runId, ct) is not { } run) return Problems.NotFound($"statement run {runId} does not exist");
        var items = run.Statements.Where(s => delivery == "all" || s.Delivery == StatementDelivery.Post).ToList();
        if (items.Count == 0) return Problems.NotFound(delivery == "all" ? "the run made no statements" : "every statement of the run was emailed: there is nothing to post");
        var clinic = await profiles.CurrentAsync(session, ct);
        var names = (await session.LoadManyAsync<PatientAccount>(ct, items.Select(i => i.PatientId).Distinct().ToArray())).ToDictionary(a => a.Id, a => (a.LastName, a.FirstName));
        var documents = new List<byte[]>();
        // In the order the envelopes are stuffed: by last name.
        foreach (var item in items.OrderBy(i => names.GetValueOrDefault(i.PatientId).LastName, StringComparer.OrdinalIgnoreCase)
                     .ThenBy(i => names.GetValueOrDefault(i.PatientId).FirstName, StringComparer.OrdinalIgnoreCase))
        {
            if (await RenderAsync(session, run, item, clinic, calendar.Zone, ct) is { } pdf) documents.Add(pdf);
        }

        return Results.File(Combine(documents), "application/pdf", $"statements-{run.RunOn:yyyyMMdd}-{delivery ?? "post"}.pdf");
    }
}
