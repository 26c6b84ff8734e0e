using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Demo;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.PriorAuthorizations;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OtpNet;

namespace KetamineBilling.Tests.Browser;

/// <summary>
/// Issue 15, quality of the UI: EVERY page the app serves (each Blazor <c>@page</c> found in the app's endpoints, and the
/// sign-in pages) is visited as a role allowed to see it, with its ids filled from the demo data: axe-core finds no
/// serious or critical violation on it, on each of its tabs and with its main dialogs open; and nothing on it is cut off
/// at 1440x900 or 1280x720. A page added later is walked too, or the coverage test fails naming it.
/// </summary>
[Collection("browser")]
public class every_page_accessible(BrowserFixture browser)
{
    /// <summary>Routes the app serves on GET that are not pages a person reads (API, health, files, plumbing).</summary>
    private static readonly string[] NotPages =
    [
        "/api/", "/health/", "/openapi/", "/reference", "/_", "/ui/download", "/account/keepalive", "/{**path", "/pay/{token}/"
    ];

    /// <summary>
    /// The buttons that open a page's main dialogs (data-testid), by route template: each dialog is opened, checked and
    /// closed with Escape. A template missing here just has no dialog opened.
    /// </summary>
    private static readonly Dictionary<string, string[]> Dialogs = new(StringComparer.Ordinal)
    {
        ["/patients"] = ["register-patient"],
        ["/patients/{PatientId:guid}"] = ["take-payment", "record-session", "edit-details"],
        ["/employers"] = ["new-employer"],
        ["/employers/{EmployerId:guid}"] = ["enroll", "issue-invoice", "record-employer-payment"],
        ["/grants"] = ["award-grant"],
        ["/studies"] = ["register-study"],
        ["/prior-authorizations"] = ["request-authorization"],
        ["/setup/payers"] = ["new-payer"],
        ["/setup/providers"] = ["new-provider"],
        ["/setup/locations"] = ["new-location"],
        ["/setup/fee-schedule"] = ["new-price"],
        ["/prior-authorizations/{AuthorizationId:guid}"] = ["approve-authorization", "deny-authorization"],
        ["/grants/{GrantId:guid}"] = ["record-grant-funds"],
        ["/studies/{StudyId:guid}"] = ["enroll-subject", "record-sponsor-payment"],
        ["/claims/{ClaimId:guid}"] = ["post-eob", "reject", "close"],
        ["/admin/users"] = ["new-user"],
        ["/admin/clinics"] = ["onboard-clinic"],
        ["/remittances"] = ["match-item"],
    };

    /// <summary>Who may see a page, by its [Authorize] policy: each of them visits it (Home differs by role).</summary>
    private static readonly Dictionary<string, string[]> UsersByPolicy = new(StringComparer.Ordinal)
    {
        [UiRoles.Billing] = ["billing@demo.test"],
        [UiRoles.Finance] = ["finance@demo.test"],
        [UiRoles.Employer] = ["employer@demo.test"],
        [UiRoles.Administrator] = ["admin@demo.test"],
        [UiRoles.BooksClose] = ["finance@demo.test", "admin@demo.test"],
        [UiRoles.SignedIn] = ["billing@demo.test", "finance@demo.test", "employer@demo.test", "admin@demo.test"],
    };

    private const string Anonymous = "(not signed in)";

    /// <summary>The pages that are plain HTML, not Blazor: the sign-in pages and the patient payment page.</summary>
    private static bool PlainHtml(string template) =>
        template.StartsWith("/account/login", StringComparison.Ordinal) || template.StartsWith("/pay/", StringComparison.Ordinal);
    private const string TwoFactorUser = "(a user with the second factor, between password and code)";

    private sealed record Visit(string Template, string Path, string User);

    /// <summary>Sample values of route parameters, by name (any case), from the demo world through the API.</summary>
    private async Task<Dictionary<string, string>> SamplesAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var billing = await browser.ApiAsync("billing@demo.test");
        var employer = await browser.ApiAsync("employer@demo.test");
        var me = await employer.GetFromJsonAsync<JsonElement>("/api/auth/me", ct);
        var today = browser.Services.GetRequiredService<ClinicCalendar>().Today();

        async Task<string> First(string url)
        {
            var page = await billing.GetFromJsonAsync<JsonElement>(url, ct);
            var items = page.ValueKind == JsonValueKind.Array ? page : page.GetProperty("items");
            Assert.True(items.GetArrayLength() > 0, $"the demo world has nothing at {url} to fill a page's id with");
            return items[0].GetProperty("id").GetString()!;
        }

        return new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            // The patient with the most sessions (a full ledger), a paid claim, the newest remittance.
            ["PatientId"] = await First("/api/patients?sort=-sessions&pageSize=1"),
            ["ClaimId"] = await First("/api/claims?sort=-paid&pageSize=1"),
            ["RemittanceId"] = await First("/api/remittances?pageSize=1"),
            // The employer user's own employer (its statements are the Employer role's; billing administers it).
            ["EmployerId"] = me.GetProperty("employerId").GetString()!,
            ["Month"] = today.AddMonths(-1).ToString("yyyy-MM"),
            ["GrantId"] = await First("/api/grants"),
            ["StudyId"] = await First("/api/studies"),
            ["AuthorizationId"] = await AuthorizationAsync(),
            ["RunId"] = (await ClientCommands.PostAsync<KetamineBilling.Features.PatientBilling.StatementRunView>(billing, "/api/statement-runs",
                new KetamineBilling.Features.PatientBilling.RunStatements(Guid.NewGuid()))).RunId.ToString(),
            // A payment link as an email carries it: the page asks for the date of birth before it shows anything.
            ["Token"] = browser.Services.GetRequiredService<KetamineBilling.Features.PatientBilling.StatementLinks>()
                .Token(DemoSeeder.Lakeside, Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow.AddDays(1)),
        };

        // A prior authorization: the demo's if it has one, else one requested here for an insured patient, as billing would.
        async Task<string> AuthorizationAsync()
        {
            var list = await billing.GetFromJsonAsync<JsonElement>("/api/prior-authorizations/list?pageSize=1", ct);
            if (list.GetProperty("items").GetArrayLength() > 0) return list.GetProperty("items")[0].GetProperty("id").GetString()!;
            var patient = (await ClientCommands.PostAsync<PatientCreated>(billing, "/api/patients",
                new RegisterPatient("Walk", "Authorization", new DateOnly(1980, 2, 3), null, null))).Id;
            await ClientCommands.PostAsync<CoverageRecorded>(billing, $"/api/patients/{patient}/coverages",
                new RecordCoverage(null, DemoIds.BluePrairie, "BPH55501", "primary", "GRP-1", CoinsurancePercent: 20m, ActiveFrom: today.AddDays(-100)));
            var id = Guid.NewGuid();
            await ClientCommands.PostAsync<AuthorizationView>(billing, "/api/prior-authorizations", new RequestPriorAuthorization(id, patient, DemoIds.BluePrairie,
                ["96365"], 6, ["F33.2"], new MedicalNecessityEvidence(["sertraline 150 mg, 10 weeks", "bupropion 300 mg, 8 weeks"], 20, null, null), today.AddDays(-3)));
            return id.ToString();
        }
    }

    /// <summary>
    /// Every page the app serves on GET, as each role allowed to see it, with its path filled in; and what cannot be
    /// visited (an unknown policy, a parameter without a sample), each with how to fix the test.
    /// </summary>
    private (List<Visit> Visits, List<string> Uncovered) Pages(Dictionary<string, string> samples)
    {
        var visits = new List<Visit>();
        var uncovered = new List<string>();
        var endpoints = browser.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>().ToList();
        foreach (var endpoint in endpoints)
        {
            var template = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods;
            var component = endpoint.Metadata.GetMetadata<ComponentTypeMetadata>()?.Type;
            if (component is null && (methods is null || !methods.Contains("GET"))) continue;
            if (component is null && (NotPages.Any(p => template.StartsWith(p, StringComparison.Ordinal)) ||
                                      endpoint.Metadata.Any(m => m.GetType().Name.Contains("StaticAsset", StringComparison.Ordinal)))) continue;
            if (visits.Any(v => v.Template == template) || uncovered.Any(u => u.StartsWith(template + " ", StringComparison.Ordinal))) continue;

            string[] users;
            if (component is null)
            {
                // The sign-in pages (plain HTML, not Blazor).
                users = template switch
                {
                    "/account/login" => [Anonymous],
                    "/account/login/code" => [TwoFactorUser],
                    "/pay/{token}" => [Anonymous],
                    _ => []
                };
                if (users.Length == 0)
                {
                    uncovered.Add($"{template} (a GET route that is not a Blazor page): add it to every_page_accessible.NotPages if it is no page, " +
                                  "or say in Pages() who visits it");
                    continue;
                }
            }
            else if (component.GetCustomAttribute<AllowAnonymousAttribute>() is not null)
            {
                users = [Anonymous];
            }
            else if (component.GetCustomAttribute<AuthorizeAttribute>()?.Policy is { } policy && UsersByPolicy.TryGetValue(policy, out var allowed))
            {
                // A page every signed-in user sees is the same page for each but Home (which differs by role): each role's
                // own menu is checked there, so the others are visited once.
                users = policy == UiRoles.SignedIn && template != "/" ? [allowed[0]] : allowed;
            }
            else
            {
                uncovered.Add($"{template} ({component.Name}): its [Authorize] policy '{component.GetCustomAttribute<AuthorizeAttribute>()?.Policy}' " +
                              "has no demo user in every_page_accessible.UsersByPolicy");
                continue;
            }

            var missing = endpoint.RoutePattern.Parameters.Where(p => !p.IsOptional && !samples.ContainsKey(p.Name)).Select(p => p.Name).ToList();
            if (missing.Count > 0)
            {
                uncovered.Add($"{template} ({component?.Name}): no sample value for {string.Join(", ", missing.Select(m => "{" + m + "}"))}: " +
                              "add one to every_page_accessible.SamplesAsync (an id of the demo world read through the API)");
                continue;
            }

            var path = Fill(endpoint.RoutePattern, samples);
            visits.AddRange(users.Select(u => new Visit(template, path, u)));
        }

        // KB_WALK_ONLY=/claims,/employer: walk only these page templates (to fix one page quickly; never set in CI).
        if (Environment.GetEnvironmentVariable("KB_WALK_ONLY") is { Length: > 0 } only)
            visits = visits.Where(v => only.Split(',').Contains(v.Template, StringComparer.Ordinal)).ToList();
        return (visits.OrderBy(v => v.User).ThenBy(v => v.Template, StringComparer.Ordinal).ToList(), uncovered);
    }

    private static string Fill(RoutePattern pattern, Dictionary<string, string> samples) =>
        "/" + string.Join("/", pattern.PathSegments.Select(s => string.Concat(s.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart p => samples.GetValueOrDefault(p.Name, ""),
            _ => ""
        }))).Where(s => s.Length > 0));

    [Fact]
    public async Task every_page_the_app_serves_is_walked_by_these_tests()
    {
        var (visits, uncovered) = Pages(await SamplesAsync());
        Assert.True(uncovered.Count == 0, "pages the accessibility and cut-off walks cannot visit:\n" + string.Join("\n", uncovered));
        // The walk found the app's pages (not an empty list passing by accident).
        var pages = typeof(Program).Assembly.GetTypes().Where(t => typeof(IComponent).IsAssignableFrom(t))
            .SelectMany(t => t.GetCustomAttributes<RouteAttribute>()).Select(r => r.Template).ToHashSet();
        Assert.True(pages.Count > 15, "the app's pages were not found");
        Assert.Subset(visits.Select(v => v.Template).ToHashSet(), pages);
        Assert.Contains(visits, v => v.Template == "/account/login");
        Assert.Contains(visits, v => v.Template == "/account/login/code");
    }

    /// <summary>
    /// One visit per page does every check: at 1440x900 axe on the page, each tab and each main dialog, and the cut-off check on
    /// the page and each tab; then the same cut-off checks at 1280x720.
    /// </summary>
    [Fact]
    public async Task every_page_with_its_tabs_and_main_dialogs_has_no_serious_accessibility_violation_and_nothing_cut_off_at_1440x900_or_1280x720()
    {
        var (visits, _) = Pages(await SamplesAsync());
        var failures = new List<string>();
        await WalkAsync(visits, 1440, 900, failures, async (page, visit) =>
        {
            await Check(failures, () => page.AssertAccessibleAsync($"{visit.Template} as {visit.User}", blazor: !PlainHtml(visit.Template)));
            await CutOffAsync(page, visit, "1440x900", failures);
            foreach (var tab in await TabsAsync(page))
            {
                await page.GetByRole(AriaRole.Tab, new() { Name = tab, Exact = true }).ClickAsync();
                await SettledAsync(page);
                await Check(failures, () => page.AssertAccessibleAsync($"{visit.Template} as {visit.User}, tab {tab}"));
                await CutOffAsync(page, visit, $"1440x900, tab {tab}", failures);
            }

            foreach (var opener in Dialogs.GetValueOrDefault(visit.Template) ?? [])
            {
                var button = page.GetByTestId(opener).First;
                if (await button.CountAsync() == 0 || !await button.IsEnabledAsync()) continue;
                await button.ClickAsync();
                await page.Locator(".mud-dialog").First.WaitForAsync();
                await SettledAsync(page);
                await Check(failures, () => page.AssertAccessibleAsync($"{visit.Template} as {visit.User}, dialog opened by {opener}"));
                // A dialog closes with Escape (keyboard users have no other quick way out).
                await page.Keyboard.PressAsync("Escape");
                await page.Locator(".mud-dialog").WaitForAsync(new() { State = WaitForSelectorState.Detached, Timeout = 5_000 });
            }

            // The smaller screen, on the same visit: the page and each tab again.
            await page.SetViewportSizeAsync(1280, 720);
            try
            {
                await SettledAsync(page);
                await CutOffAsync(page, visit, "1280x720", failures);
                foreach (var tab in await TabsAsync(page))
                {
                    await page.GetByRole(AriaRole.Tab, new() { Name = tab, Exact = true }).ClickAsync();
                    await SettledAsync(page);
                    await CutOffAsync(page, visit, $"1280x720, tab {tab}", failures);
                }
            }
            finally
            {
                await page.SetViewportSizeAsync(1440, 900);
            }
        });
        Assert.True(failures.Count == 0, $"{failures.Count} problem(s):\n\n" + string.Join("\n\n", failures));
    }

    private static async Task CutOffAsync(IPage page, Visit visit, string where, List<string> failures) =>
        failures.AddRange((await ClippedAsync(page)).Select(c => $"{visit.Template} as {visit.User} at {where}: {c}"));

    private static async Task Check(List<string> failures, Func<Task> check)
    {
        try
        {
            await check();
        }
        catch (Xunit.Sdk.XunitException e)
        {
            failures.Add(e.Message);
        }
    }

    /// <summary>Visits each page in a browser of that size, one context per user, and runs <paramref name="check"/> on it.</summary>
    /// A page that cannot be checked (it fails to load, a tab or dialog does not open or close) is a failure too, and the walk goes on.
    private async Task WalkAsync(List<Visit> visits, int width, int height, List<string> failures, Func<IPage, Visit, Task> check)
    {
        foreach (var group in visits.GroupBy(v => v.User))
        {
            var page = await PageForAsync(group.Key, width, height);
            try
            {
                foreach (var visit in group)
                {
                    try
                    {
                        await page.GotoAsync(visit.Path);
                        if (!PlainHtml(visit.Template)) await BrowserFixture.LiveAsync(page);
                        await SettledAsync(page);
                        Assert.False(page.Url.Contains("/account/denied", StringComparison.Ordinal) && visit.Template != "/account/denied",
                            $"{visit.User} was refused {visit.Path}: the walk visits each page as a role allowed to see it");
                        await check(page, visit);
                    }
                    catch (Exception e) when (e is TimeoutException or PlaywrightException or Xunit.Sdk.XunitException)
                    {
                        failures.Add($"{visit.Template} as {visit.User} at {width}x{height} could not be checked: {e.Message}");
                    }
                }
            }
            finally
            {
                await page.Context.CloseAsync();
            }
        }
    }

    /// <summary>A browser page of that size for the user: signed in, anonymous, or between password and second factor.</summary>
    private async Task<IPage> PageForAsync(string user, int width, int height)
    {
        IPage page;
        if (user is Anonymous or TwoFactorUser)
        {
            var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions
            {
                BaseURL = browser.BaseAddress.ToString(), Locale = "en-US", ViewportSize = new() { Width = width, Height = height }
            });
            page = await context.NewPageAsync();
            page.SetDefaultTimeout(15_000);
            if (user == TwoFactorUser) await HalfSignedInAsync(page);
        }
        else
        {
            page = await browser.SignedInAsync(user);
            await page.SetViewportSizeAsync(width, height);
        }

        return page;
    }

    /// <summary>A new user with the second factor on signs in with the password: the browser is on the code page.</summary>
    private async Task HalfSignedInAsync(IPage page)
    {
        var ct = TestContext.Current.CancellationToken;
        var email = $"second-factor-{Guid.NewGuid():N}@demo.test";
        var admin = await browser.ApiAsync("admin@demo.test");
        (await admin.PostAsJsonAsync("/api/users", new CreateUser(null, email, "Second Factor", [Roles.BillingAdmin], null, DemoSeeder.DefaultPassword), ct))
            .EnsureSuccessStatusCode();
        var user = await browser.ApiAsync(email);
        var setup = (await (await user.PostAsJsonAsync("/api/account/two-factor/setup", new { }, ct)).Content.ReadFromJsonAsync<TwoFactorSetup>(ct))!;
        var code = new Totp(Base32Encoding.ToBytes(setup.Secret)).ComputeTotp();
        (await user.PostAsJsonAsync("/api/account/two-factor/confirm", new ConfirmTwoFactor(code), ct)).EnsureSuccessStatusCode();

        await page.GotoAsync("/account/login");
        await page.FillAsync("input[name=username]", email);
        await page.FillAsync("input[name=password]", DemoSeeder.DefaultPassword);
        await page.ClickAsync("button[type=submit]");
        // The first sign-in of a run may meet the app's cold start (a password hash, the login page compiled): a minute, not
        // the default wait, before calling it a failure.
        await page.WaitForURLAsync(url => url.Contains("/account/login/code", StringComparison.Ordinal), new() { Timeout = 60_000 });
    }

    /// <summary>Waits until the page has loaded what it shows (no progress bar, no table loading), at most a few seconds.</summary>
    private static async Task SettledAsync(IPage page)
    {
        try
        {
            await page.WaitForFunctionAsync(
                "() => !document.querySelector('.mud-progress-linear, .mud-table-loading, .mud-progress-circular, .mud-skeleton')",
                null, new PageWaitForFunctionOptions { Timeout = 3_000 });
        }
        catch (TimeoutException)
        {
            // A page that shows progress for good (a running rebuild) is checked as it is.
        }

        await page.WaitForTimeoutAsync(250);
    }

    /// <summary>The names of the page's tabs but the selected one (it is checked with the page).</summary>
    private static async Task<IReadOnlyList<string>> TabsAsync(IPage page) =>
        (await page.Locator("[role=tab]:not([aria-selected=true])").AllTextContentsAsync()).Select(t => t.Trim()).Where(t => t.Length > 0).ToList();

    /// <summary>
    /// What is cut off on the page as it is: the page scrolling sideways, and every element showing text whose content is
    /// larger than its box where the box hides the rest (overflow hidden or clip, or an ellipsis): chips, buttons and
    /// cells narrower than their text.
    /// </summary>
    private static async Task<IReadOnlyList<string>> ClippedAsync(IPage page) =>
        await page.EvaluateAsync<string[]>("""
            () => {
              const found = [];
              const doc = document.documentElement;
              if (doc.scrollWidth > doc.clientWidth + 1)
                found.push(`the page scrolls sideways: ${doc.scrollWidth}px of content in a ${doc.clientWidth}px window`);
              const name = el => {
                let s = el.tagName.toLowerCase();
                const id = el.getAttribute('data-testid');
                if (id) s += `[data-testid=${id}]`;
                const classes = [...el.classList].filter(c => c.startsWith('mud-') || c.startsWith('kb-')).slice(0, 3);
                if (classes.length) s += '.' + classes.join('.');
                return s;
              };
              const path = el => {
                const parts = [];
                for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) parts.unshift(name(e));
                return parts.join(' > ');
              };
              for (const el of document.body.querySelectorAll('*')) {
                // Text meant for screen readers only (1x1 px on purpose) and what is hidden is no cut.
                if (el.closest('[aria-hidden=true], svg, script, style, template, .mud-sr-only')) continue;
                if (el.clientWidth <= 1 || el.clientHeight <= 1) continue;
                const text = (el.innerText || '').trim();
                if (!text) continue;
                const css = getComputedStyle(el);
                if (css.display === 'none' || css.visibility === 'hidden') continue;
                const hidesX = css.overflowX === 'hidden' || css.overflowX === 'clip' || css.textOverflow === 'ellipsis';
                const hidesY = css.overflowY === 'hidden' || css.overflowY === 'clip';
                // A chip, button or tab shows its text whole inside its own box, whatever its overflow.
                const control = el.matches('.mud-chip, .mud-button-root, .mud-tab');
                if (!hidesX && !hidesY && !control) continue;
                // Where the text is laid out (not the box's scroll size, which a click's ripple also grows) against the inside of the box.
                // Only the text itself: a ripple's circle or an icon is no text that could be cut.
                const rects = [];
                const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
                for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                  if (!node.textContent.trim() || node.parentElement.closest('.mud-sr-only, [aria-hidden=true]')) continue;
                  const range = document.createRange();
                  range.selectNodeContents(node);
                  rects.push(...[...range.getClientRects()].filter(r => r.width > 0 && r.height > 0));
                }
                if (!rects.length) continue;
                const box = el.getBoundingClientRect();
                const inner = { left: box.left + el.clientLeft, top: box.top + el.clientTop };
                inner.right = inner.left + el.clientWidth;
                inner.bottom = inner.top + el.clientHeight;
                const left = Math.min(...rects.map(r => r.left)), right = Math.max(...rects.map(r => r.right));
                const top = Math.min(...rects.map(r => r.top)), bottom = Math.max(...rects.map(r => r.bottom));
                const cutX = left < inner.left - 1 || right > inner.right + 1;
                const cutY = top < inner.top - 2 || bottom > inner.bottom + 2;
                if (((hidesX || control) && cutX) || ((hidesY || control) && cutY))
                  found.push(`${path(el)} shows ${Math.round(inner.right - inner.left)}x${Math.round(inner.bottom - inner.top)}px of its text's ${Math.round(right - left)}x${Math.round(bottom - top)}px: "${text.replace(/\s+/g, ' ').slice(0, 80)}"`);
                else if (el.matches('.mud-chip') && bottom - top > 1.6 * Math.max(...rects.map(r => r.height)))
                  found.push(`${path(el)} breaks its text onto several lines: "${text.replace(/\s+/g, ' ').slice(0, 80)}"`);
              }
              return found;
            }
            """);
}
