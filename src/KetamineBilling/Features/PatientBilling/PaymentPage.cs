using System.Net;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Features.Ui;
using Marten;
using Microsoft.AspNetCore.Antiforgery;

namespace KetamineBilling.Features.PatientBilling;

/// <summary>Wrong dates of birth entered for one statement's link, and until when it is locked after too many.</summary>
public sealed class PaymentLinkAttempts
{
    public Guid Id { get; set; }
    public int Failures { get; set; }
    public DateTimeOffset? LockedUntil { get; set; }
}

/// <summary>
/// The patient payment page a statement's emailed link opens, without an account: the link (a signed, expiring token for that
/// statement only) and then the patient's date of birth, so a forwarded or misdelivered email shows nothing but the clinic's
/// name. Five wrong dates lock the link for 30 minutes. Plain server-rendered HTML: no script, no circuit.
/// </summary>
public static class PaymentPage
{
    public const int MaxFailures = 5;
    public static readonly TimeSpan LockFor = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan VerifiedFor = TimeSpan.FromMinutes(30);

    public static void MapPaymentPages(this WebApplication app)
    {
        app.MapGet("/pay/{token}", async (string token, HttpContext http, StatementLinks links, IDocumentStore store, ClinicProfiles profiles,
            ClinicZones zones, IAntiforgery antiforgery, CardProcessor processor, TimeProvider clock, CancellationToken ct) =>
        {
            if (await OpenAsync(token, links, store, profiles, ct) is not { } found) return Expired();
            await using var session = found.Session;
            if (!Verified(http, links, found.Target, clock))
                return Page(DateOfBirthForm(found.Clinic, antiforgery.GetAndStoreTokens(http), token, null), found.Clinic.Name);
            var card = processor.AccountOf(found.Target.Clinic) is not null;
            return Page(await StatementPanelAsync(session, found, zones, token, card ? antiforgery.GetAndStoreTokens(http) : null, http.Request.Query["paid"] == "1",
                http.Request.Query["autopay"] == "1", clock.GetUtcNow(), ct),
                found.Clinic.Name);
        }).AllowAnonymous().ExcludeFromDescription().WithSecurityHeadersPolicy(WebSecurity.PaymentPagePolicy);

        // The card button: a hosted payment page of the clinic's processor for what is due now.
        app.MapPost("/pay/{token}/checkout", (string token, HttpContext http, ProcessorPages pages, CancellationToken ct) =>
            pages.OpenAsync(token, http, "payment page", async (found, client, today) =>
            {
                var figures = AccountFigures.Of(await found.Session.LoadAsync<PatientAccount>(found.Target.PatientId, ct));
                var due = Math.Max(figures.PatientDue - figures.UnappliedCredit, 0m);
                return due < 0.50m
                    ? null
                    : await CardProcessor.StartCheckoutAsync(client, found.Target.Clinic, found.Clinic.Name, found.Target.PatientId, found.Target.StatementId, due,
                        pages.ReturnTo(token), today, ct);
            }, ct)).AllowAnonymous().ExcludeFromDescription().WithSecurityHeadersPolicy(WebSecurity.PaymentPagePolicy);

        // Autopay: the processor's hosted page to save a card for the payment plan's instalments.
        app.MapPost("/pay/{token}/autopay", (string token, HttpContext http, ProcessorPages pages, CancellationToken ct) =>
            pages.OpenAsync(token, http, "card setup page", async (found, client, today) =>
                await AutopayPlanAsync(found.Session, found.Target.PatientId, today, ct) is { } plan
                    ? await AutopaySetup.StartAsync(client, found.Target.Clinic, found.Target.PatientId, plan.PlanId, pages.ReturnTo(token), today, ct)
                    : null, ct)).AllowAnonymous().ExcludeFromDescription().WithSecurityHeadersPolicy(WebSecurity.PaymentPagePolicy);

        app.MapPost("/pay/{token}", async (string token, HttpContext http, StatementLinks links, IDocumentStore store, ClinicProfiles profiles,
            IAntiforgery antiforgery, TimeProvider clock, CancellationToken ct) =>
        {
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid",
                    detail: "The form expired or did not come from this site; open the link again.");
            }

            if (await OpenAsync(token, links, store, profiles, ct) is not { } found) return Expired();
            await using var session = found.Session;
            var now = clock.GetUtcNow();
            var attempts = await session.LoadAsync<PaymentLinkAttempts>(found.Target.StatementId, ct) ?? new PaymentLinkAttempts { Id = found.Target.StatementId };
            var tokens = antiforgery.GetAndStoreTokens(http);
            if (attempts.LockedUntil > now)
                return Page(DateOfBirthForm(found.Clinic, tokens, token, "Too many wrong dates of birth. Try again in 30 minutes, or call the clinic."), found.Clinic.Name, StatusCodes.Status429TooManyRequests);

            var form = await http.Request.ReadFormAsync(ct);
            var account = await session.LoadAsync<PatientAccount>(found.Target.PatientId, ct);
            if (!DateOnly.TryParseExact(form["dob"].ToString(), "yyyy-MM-dd", out var dob))
                return Page(DateOfBirthForm(found.Clinic, tokens, token, "Enter the date of birth as month, day and year."), found.Clinic.Name, StatusCodes.Status422UnprocessableEntity);
            if (account is null || account.DateOfBirth != dob)
            {
                attempts.Failures++;
                if (attempts.Failures >= MaxFailures) (attempts.Failures, attempts.LockedUntil) = (0, now + LockFor);
                session.Store(attempts);
                await session.SaveChangesAsync(ct);
                return Page(DateOfBirthForm(found.Clinic, tokens, token, "That date of birth does not match the statement."), found.Clinic.Name, StatusCodes.Status422UnprocessableEntity);
            }

            if (attempts.Failures > 0)
            {
                session.Delete(attempts);
                await session.SaveChangesAsync(ct);
            }

            http.Response.Cookies.Append(CookieName(found.Target), links.Verified(found.Target.StatementId, now + VerifiedFor), new CookieOptions
            {
                HttpOnly = true, Secure = http.Request.IsHttps, SameSite = SameSiteMode.Strict, Path = $"/pay/{token}", MaxAge = VerifiedFor, IsEssential = true
            });
            return Results.Redirect($"/pay/{token}");
        }).AllowAnonymous().ExcludeFromDescription().WithSecurityHeadersPolicy(WebSecurity.PaymentPagePolicy);

        app.MapGet("/pay/{token}/statement.pdf", async (string token, HttpContext http, StatementLinks links, IDocumentStore store, ClinicProfiles profiles,
            ClinicZones zones, TimeProvider clock, CancellationToken ct) =>
        {
            if (await OpenAsync(token, links, store, profiles, ct) is not { } found) return Expired();
            await using var session = found.Session;
            if (!Verified(http, links, found.Target, clock)) return Results.Redirect($"/pay/{token}");
            if (await session.LoadAsync<StatementRun>(found.Target.RunId, ct) is not { } run || run.Statement(found.Target.StatementId) is not { } item) return Expired();
            var pdf = await StatementFiles.RenderAsync(session, run, item, found.Clinic, await zones.ZoneOfAsync(found.Target.Clinic, ct), ct);
            return pdf is null ? Expired() : Results.File(pdf, "application/pdf", $"statement-{run.RunOn:yyyyMMdd}.pdf");
        }).AllowAnonymous().ExcludeFromDescription().WithSecurityHeadersPolicy(WebSecurity.PaymentPagePolicy);
    }

    internal sealed record Found(StatementLinks.Target Target, IDocumentSession Session, ClinicProfile Clinic);

    /// <summary>
    /// The payment page's buttons that send the patient to the processor's hosted pages: the form must be this site's, the link
    /// good and its date of birth given, and the clinic must take cards. <c>start</c> asks the processor for the page (null: nothing
    /// to do there, back to the statement). A processor that does not answer is a page that says so (502), never an error page.
    /// </summary>
    public sealed class ProcessorPages(StatementLinks links, IDocumentStore store, ClinicProfiles profiles, CardProcessor processor, MailOptions mail,
        IAntiforgery antiforgery, ClinicZones zones, TimeProvider clock, ILogger<CardProcessor> logger)
    {
        public Uri ReturnTo(string token) => new(mail.PublicBaseUrl, $"pay/{token}");

        internal async Task<IResult> OpenAsync(string token, HttpContext http, string what, Func<Found, Stripe.IStripeClient, DateOnly, Task<Uri?>> start, CancellationToken ct)
        {
            if (!await antiforgery.IsRequestValidAsync(http))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request is not valid",
                    detail: "The form expired or did not come from this site; open the link again.");
            }

            if (await PaymentPage.OpenAsync(token, links, store, profiles, ct) is not { } found) return Expired();
            await using var session = found.Session;
            if (!Verified(http, links, found.Target, clock)) return Results.Redirect($"/pay/{token}");
            if (processor.ClientOf(found.Target.Clinic) is not { } client) return Results.Redirect($"/pay/{token}");
            var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), await zones.ZoneOfAsync(found.Target.Clinic, ct)).DateTime);
            try
            {
                return await start(found, client, today) is { } url ? Results.Redirect(url.ToString()) : Results.Redirect($"/pay/{token}");
            }
            catch (Exception e) when (e is Stripe.StripeException or HttpRequestException or TaskCanceledException)
            {
                logger.LogWarning("The processor did not open a {What} for statement {StatementId}: {Reason}", what, found.Target.StatementId, e.GetType().Name);
                return Page($"<p role=\"alert\">The card {(what == "payment page" ? "payment page" : "page")} could not be opened just now. Try again in a moment, or call the clinic.</p>" +
                            $"<p><a href=\"/pay/{Enc(token)}\">Back to your statement</a></p>", found.Clinic.Name, StatusCodes.Status502BadGateway);
            }
        }
    }

    /// <summary>The link's statement, in its clinic's store; null when the link is not (or no longer) good.</summary>
    private static async Task<Found?> OpenAsync(string token, StatementLinks links, IDocumentStore store, ClinicProfiles profiles, CancellationToken ct)
    {
        if (links.Open(token) is not { } target) return null;
        IDocumentSession session;
        try
        {
            session = store.LightweightSession(target.Clinic);
        }
        catch (Exception e) when (e is JasperFx.MultiTenancy.UnknownTenantIdException or JasperFx.MultiTenancy.DisabledTenantException)
        {
            return null;
        }

        return new Found(target, session, await profiles.CurrentAsync(session, ct));
    }

    private static string CookieName(StatementLinks.Target target) => $"kb_pay_{target.StatementId:N}";

    private static bool Verified(HttpContext http, StatementLinks links, StatementLinks.Target target, TimeProvider clock) =>
        links.IsVerified(http.Request.Cookies[CookieName(target)], target.StatementId, clock.GetUtcNow());

    /// <summary>The patient's payment plan that autopay could pay: one with instalments left and no card charging it.</summary>
    private static async Task<PaymentPlanView?> AutopayPlanAsync(IQuerySession session, Guid patientId, DateOnly today, CancellationToken ct)
    {
        if (await session.LoadAsync<PatientAccount>(patientId, ct) is not { } account) return null;
        var open = PaymentPlanRules.Views(account, today).Where(v => v.PaidSinceAgreed < v.Total).ToList();
        if (open.Count == 0) return null;
        var autopays = (await session.LoadManyAsync<Autopay>(ct, open.Select(v => AutopayRules.IdOf(v.PlanId)).ToArray())).Where(a => a.Active).Select(a => a.PlanId).ToHashSet();
        return open.LastOrDefault(v => !autopays.Contains(v.PlanId));
    }

    private static async Task<string> StatementPanelAsync(
        IQuerySession session, Found found, ClinicZones zones, string token, AntiforgeryTokenSet? card, bool paid, bool autopay, DateTimeOffset now,
        CancellationToken ct)
    {
        var run = await session.LoadAsync<StatementRun>(found.Target.RunId, ct);
        var item = run?.Statement(found.Target.StatementId);
        var account = await session.LoadAsync<PatientAccount>(found.Target.PatientId, ct);
        if (run is null || item is null || account is null) return "<p role=\"alert\">This statement is no longer available. Please call the clinic.</p>";
        var figures = AccountFigures.Of(account);
        var dueNow = Math.Max(figures.PatientDue - figures.UnappliedCredit, 0m);
        var zone = await zones.ZoneOfAsync(found.Target.Clinic, ct);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        var plan = card is null ? null : await AutopayPlanAsync(session, found.Target.PatientId, today, ct);
        var autopayForm = plan is null || card is null ? ""
            : $"<h3>Your payment plan</h3><p>{Fmt.Money(plan.Total - plan.PaidSinceAgreed)} is left on your payment plan. Save a card and each instalment is " +
              "charged on its due date. To stop it, call the clinic.</p>" +
              $"<form method=\"post\" action=\"/pay/{Enc(token)}/autopay\"><input type=\"hidden\" name=\"{card.FormFieldName}\" value=\"{Enc(card.RequestToken ?? "")}\">" +
              "<button type=\"submit\" data-testid=\"pay-autopay\">Pay my plan automatically by card</button></form>";
        var call = found.Clinic.Phone is { } phone ? $" call us at <a href=\"tel:{Enc(phone)}\">{Enc(phone)}</a>" : " call the clinic";
        return $"""
            <h2>Statement of {Fmt.Date(run.RunOn)}</h2>
            <dl>
              <dt>For services</dt><dd data-testid="pay-period">{Fmt.Date(item.From)} to {Fmt.Date(item.To)}</dd>
              <dt>Amount on the statement</dt><dd data-testid="pay-statement-amount">{Fmt.Money(item.AmountDue)}</dd>
              <dt>Amount due now</dt><dd data-testid="pay-amount-due"><strong>{Fmt.Money(dueNow)}</strong></dd>
            </dl>
            {(paid ? "<p role=\"status\" data-testid=\"pay-thanks\">Thank you: your card payment is being recorded. It shows here within a few minutes.</p>" : "")}
            {(autopay ? "<p role=\"status\" data-testid=\"autopay-thanks\">Thank you: your card is saved for your payment plan's instalments.</p>" : "")}
            {(dueNow == 0 ? "<p>Nothing is due now. Thank you.</p>"
                : card is null ? $"<p>Payments recorded since the statement are taken into account. To pay by card,{call}.</p>"
                : $"<form method=\"post\" action=\"/pay/{Enc(token)}/checkout\"><input type=\"hidden\" name=\"{card.FormFieldName}\" value=\"{Enc(card.RequestToken ?? "")}\">" +
                  $"<button type=\"submit\" data-testid=\"pay-by-card\">Pay {Fmt.Money(dueNow)} by card</button></form>" +
                  "<p class=\"small\">You are taken to our card processor's secure page; card details never reach the clinic.</p>")}
            {autopayForm}
            <p><a href="/pay/{Enc(token)}/statement.pdf" data-testid="pay-statement-pdf">View the statement (PDF)</a></p>
            <p class="small">This page closes its access {Fmt.Date(found.Target.Expires, zone)}: the link stops working then.</p>
            """;
    }

    private static string DateOfBirthForm(ClinicProfile clinic, AntiforgeryTokenSet tokens, string token, string? error) => $"""
        <form method="post" action="/pay/{Enc(token)}">
          <p>To see your statement, enter the patient's date of birth.</p>
          {(error is null ? "" : $"<p class=\"error\" role=\"alert\">{Enc(error)}</p>")}
          <input type="hidden" name="{tokens.FormFieldName}" value="{Enc(tokens.RequestToken ?? "")}">
          <label>Date of birth <input name="dob" type="date" required autocomplete="bday"></label>
          <button type="submit">Continue</button>
        </form>
        """;

    private static IResult Expired() => Results.Content(PageHtml("Payment link",
        "<p role=\"alert\">This link has expired or is not valid. Please call the clinic for a new one, or use the link in your latest email.</p>", null),
        "text/html; charset=utf-8", statusCode: StatusCodes.Status410Gone);

    private static IResult Page(string body, string clinicName, int status = StatusCodes.Status200OK) =>
        Results.Content(PageHtml("Your statement", body, clinicName), "text/html; charset=utf-8", statusCode: status);

    private static string PageHtml(string title, string body, string? clinicName) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer"><title>{{Enc(title)}}{{(clinicName is null ? "" : " · " + Enc(clinicName))}}</title>
        <link rel="icon" href="data:,">
        <style>
          body { font-family: system-ui, sans-serif; background: #f5f6f8; margin: 0; display: grid; place-items: start center; min-height: 100vh; }
          main { background: #fff; margin: 2rem 1rem; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px rgba(0,0,0,.15); max-width: 30rem; width: 100%; box-sizing: border-box; }
          label { display: block; margin-top: 1rem; }
          input { width: 100%; padding: .5rem; box-sizing: border-box; margin-top: .25rem; font-size: 1rem; }
          button { margin-top: 1.5rem; width: 100%; padding: .6rem; background: #3f51b5; color: #fff; border: 0; border-radius: 4px; font-size: 1rem; }
          dt { color: #555; font-size: .9rem; margin-top: .75rem; } dd { margin: 0; font-size: 1.1rem; }
          .error { color: #b00020; } .small { font-size: .85rem; color: #555; } a { color: #303f9f; }
        </style></head>
        <body><main>
        <h1 data-testid="pay-clinic">{{Enc(clinicName ?? "Payment link")}}</h1>
        {{body}}
        </main></body></html>
        """;

    private static string Enc(string text) => WebUtility.HtmlEncode(text);
}
