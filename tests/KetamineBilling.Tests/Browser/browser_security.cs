using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using KetamineBilling.Features.Demo;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace KetamineBilling.Tests.Browser;

/// <summary>The UI under its Content-Security-Policy, and the server's own calls to its API under a forged Host.</summary>
[Collection("browser")]
public partial class browser_security(BrowserFixture browser)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task the_ui_works_under_its_content_security_policy_with_no_violation()
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = browser.BaseAddress.ToString(), Locale = "en-US" });
        // Devtools-injected, so not itself subject to the page's CSP: every violation is written to the console.
        await context.AddInitScriptAsync(
            "document.addEventListener('securitypolicyviolation', e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));");
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(15_000);
        var console = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Console += (_, m) => console.Enqueue($"{m.Type}: {m.Text}");
        page.PageError += (_, e) => console.Enqueue($"page error: {e}");

        var login = await page.GotoAsync("/account/login?returnUrl=%2Fpatients");
        Assert.Contains("script-src 'self'", (await login!.AllHeadersAsync())["content-security-policy"]);
        await page.FillAsync("input[name=username]", "billing@demo.test");
        await page.FillAsync("input[name=password]", DemoSeeder.DefaultPassword);
        await page.ClickAsync("button[type=submit]");
        await BrowserFixture.LiveAsync(page);

        // A search (the circuit over its WebSocket), an account page, and a MudBlazor dialog (inline styles, popovers).
        await page.GetByPlaceholder("Search by name").FillAsync("lindq");
        await page.GetByRole(AriaRole.Link, new() { Name = "Lindqvist, Avery" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/patients/"));
        await page.GotoAsync("/claims");
        await BrowserFixture.LiveAsync(page);
        await page.WaitForTimeoutAsync(500);

        var violations = console.Where(l => l.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)
                                            || l.Contains("CSP violation", StringComparison.Ordinal) || l.StartsWith("page error", StringComparison.Ordinal)).ToList();
        Assert.True(violations.Count == 0, string.Join("\n", violations));
        // The page's own script ran (the idle sign-out and the file saver are defined).
        Assert.True(await page.EvaluateAsync<bool>("typeof window.kbSave === 'function'"));
    }

    [Fact]
    public async Task the_api_reference_renders_under_its_own_policy_without_eval()
    {
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = browser.BaseAddress.ToString() });
        await context.AddInitScriptAsync(
            "document.addEventListener('securitypolicyviolation', e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));");
        var page = await context.NewPageAsync();
        var console = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Console += (_, m) => console.Enqueue($"{m.Type}: {m.Text}");

        var response = await page.GotoAsync("/reference");
        Assert.Contains("frame-ancestors 'none'", (await response!.AllHeadersAsync())["content-security-policy"]);
        // The document is read and rendered: its operations are listed.
        try
        {
            await Expect(page.GetByText("Authentication").First).ToBeVisibleAsync(new() { Timeout = 20_000 });
        }
        catch (PlaywrightException e)
        {
            throw new InvalidOperationException($"{e.Message}\nconsole:\n{string.Join("\n", console)}", e);
        }

        await page.WaitForTimeoutAsync(500);

        // Scalar's bundle tries eval once; its policy blocks it on purpose (the page renders without it). Nothing else is refused.
        var violations = console.Where(l => l.Contains("CSP violation", StringComparison.Ordinal) && !l.EndsWith("CSP violation: script-src eval", StringComparison.Ordinal)).ToList();
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [Fact]
    public async Task a_forged_host_header_makes_the_server_fetch_nothing_elsewhere()
    {
        // What a forged Host would point the server's own call at: a listener on another loopback port that counts visits.
        using var elsewhere = new TcpListener(IPAddress.Loopback, 0);
        elsewhere.Start();
        var port = ((IPEndPoint)elsewhere.LocalEndpoint).Port;
        var visits = 0;
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var socket = await elsewhere.AcceptSocketAsync(stop.Token);
                Interlocked.Increment(ref visits);
            }
        }, Ct);

        using var client = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = browser.BaseAddress, Timeout = TimeSpan.FromSeconds(20) };
        var form = await client.GetAsync("/account/login", Ct);
        var antiforgery = string.Join("; ", form.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        var token = WebUtility.HtmlDecode(AntiforgeryField().Match(await form.Content.ReadAsStringAsync(Ct)).Groups[1].Value);
        using var login = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token, ["username"] = "finance@demo.test", ["password"] = DemoSeeder.DefaultPassword, ["returnUrl"] = "/"
            })
        };
        login.Headers.Add("Cookie", antiforgery);
        var signedIn = await client.SendAsync(login, Ct);
        var cookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("kb.auth=", StringComparison.Ordinal)).Split(';')[0];

        using var download = new HttpRequestMessage(HttpMethod.Get, "/ui/download?path=" + Uri.EscapeDataString("/api/auth/me"));
        download.Headers.Host = $"127.0.0.1:{port}";
        download.Headers.Add("Cookie", cookie);
        var response = await client.SendAsync(download, Ct);
        await stop.CancelAsync();
        elsewhere.Stop();
        try { await accepting; } catch (OperationCanceledException) { } catch (SocketException) { } catch (ObjectDisposedException) { }

        Assert.Equal(0, visits);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("finance@demo.test", await response.Content.ReadAsStringAsync(Ct));
    }
}
