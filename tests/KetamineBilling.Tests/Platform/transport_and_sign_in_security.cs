using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Alba;
using KetamineBilling.Features.Auth;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Builder;

namespace KetamineBilling.Tests.Platform;

/// <summary>Security headers, the sign-in's returnUrl, credential and body limits, and Data Protection keys at rest.</summary>
public partial class transport_and_sign_in_security(AppFixture fixture)
{
    private IAlbaHost Host => fixture.Host;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task every_answer_carries_the_security_headers_api_sign_in_page_static_file_and_404()
    {
        var client = Host.Server.CreateClient();
        var token = await fixture.TokenFor(As.Billing);
        foreach (var (path, status, signedIn) in new[]
                 {
                     ("/api/auth/me", HttpStatusCode.Unauthorized, false),
                     ("/api/auth/me", HttpStatusCode.OK, true),
                     ("/account/login", HttpStatusCode.OK, false),
                     ("/js/kb-session.js", HttpStatusCode.OK, false),
                     ($"/api/patients/{Guid.NewGuid()}", HttpStatusCode.NotFound, true),
                     ("/health/live", HttpStatusCode.OK, false)
                 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (signedIn) request.Headers.Authorization = new("Bearer", token);
            using var response = await client.SendAsync(request, Ct);
            Assert.True(status == response.StatusCode, $"{path}: {response.StatusCode}");
            string Header(string name) => response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : "";

            var csp = Header("Content-Security-Policy");
            Assert.Contains("default-src 'self'", csp);
            Assert.Contains("script-src 'self';", csp);
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.Contains("object-src 'none'", csp);
            Assert.DoesNotContain("unsafe-eval", csp);
            Assert.Equal("nosniff", Header("X-Content-Type-Options"));
            Assert.Equal("DENY", Header("X-Frame-Options"));
            Assert.Equal("same-origin", Header("Referrer-Policy"));
            Assert.Contains("camera=()", Header("Permissions-Policy"));
            // HTTP here (no proxy said https): HSTS only goes with HTTPS answers.
            Assert.Equal("", Header("Strict-Transport-Security"));
        }

        // The page script is a file of this origin: nothing inline for the CSP to allow.
        Assert.Contains("kbSave", await client.GetStringAsync("/js/kb-session.js", Ct));
    }

    [Fact]
    public async Task outside_development_the_sign_in_cookies_are_secure()
    {
        var (client, antiforgery, token) = await LoginFormAsync();

        var signedIn = await PostLoginAsync(client, antiforgery.Pair, token.Value, As.Finance, AppFixture.Password, "/finance");
        var auth = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("kb.auth=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("; secure", auth);
        Assert.Contains("; httponly", auth);
    }

    public static TheoryData<string> ForeignReturnUrls =>
    [
        "//evil.example/x",
        "/\\evil.example/x",
        "/%09/evil.example/x",
        "/\t/evil.example/x",
        "%2F%2Fevil.example",
        "/%2F/evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "evil.example",
        " /patients"
    ];

    [Theory]
    [MemberData(nameof(ForeignReturnUrls))]
    public async Task a_return_url_that_is_not_a_local_path_lands_on_the_home_page_on_get_and_post(string returnUrl)
    {
        var (client, antiforgery, token) = await LoginFormAsync(returnUrl);
        Assert.Equal("/", token.ReturnUrl);

        var signedIn = await PostLoginAsync(client, antiforgery.Pair, token.Value, As.Finance, AppFixture.Password, returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", signedIn.Headers.Location!.OriginalString);

        // A wrong password comes back to the form with the home page as its returnUrl, not the foreign one.
        var failed = await PostLoginAsync(client, antiforgery.Pair, token.Value, As.Finance, "wrong-password", returnUrl);
        Assert.Equal("/account/login?error=invalid&returnUrl=%2F", failed.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task a_local_return_url_is_kept()
    {
        var (client, antiforgery, token) = await LoginFormAsync("/patients?page=2");
        Assert.Equal("/patients?page=2", token.ReturnUrl);

        var signedIn = await PostLoginAsync(client, antiforgery.Pair, token.Value, As.Billing, AppFixture.Password, "/patients?page=2");
        Assert.Equal("/patients?page=2", signedIn.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task user_names_and_passwords_over_the_limit_are_a_400_naming_the_field()
    {
        var result = await Host.Scenario(s =>
        {
            s.Post.Json(new TokenRequest(new string('a', LoginThrottleOptions.MaxUsernameLength + 1) + "@test.local", new string('p', LoginThrottleOptions.MaxPasswordLength + 1)))
                .ToUrl("/api/auth/token");
            s.StatusCodeShouldBe(400);
        });
        var problem = (await result.ReadAsJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal(["password", "username"], problem.Errors.Keys.Order());
        Assert.Contains("at most 256", problem.Errors["username"][0]);

        var (client, antiforgery, token) = await LoginFormAsync();
        var form = await PostLoginAsync(client, antiforgery.Pair, token.Value, new string('a', 300), "x", "/");
        Assert.Equal(HttpStatusCode.BadRequest, form.StatusCode);
        Assert.Contains("username", await form.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task thirty_sign_ins_with_25_mb_user_names_are_refused_and_leave_the_memory_where_it_was()
    {
        // One 25 MB body of each kind, made before the first measurement: what is measured is what the node keeps.
        var name = new string('a', 25 * 1024 * 1024);
        var json = Encoding.UTF8.GetBytes($$"""{"username":"{{name}}","password":"x"}""");
        var formBody = Encoding.ASCII.GetBytes("username=" + name + "&password=x");
        name = null;
        var client = Host.Server.CreateClient();
        for (var i = 0; i < 2; i++) await SendAsync(i); // warm-up: code paths, pools

        var before = Memory();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++) statuses.Add(await SendAsync(i));
        var after = Memory();

        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.BadRequest, $"{s}"));
        Assert.True(after.Managed - before.Managed < 20 * 1024 * 1024,
            $"managed memory grew by {(after.Managed - before.Managed) / 1024 / 1024} MB (before {before.Managed / 1024 / 1024} MB)");
        Assert.True(after.WorkingSet - before.WorkingSet < 150 * 1024 * 1024,
            $"working set grew by {(after.WorkingSet - before.WorkingSet) / 1024 / 1024} MB (before {before.WorkingSet / 1024 / 1024} MB)");
        GC.KeepAlive(json);
        GC.KeepAlive(formBody);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"memory before {before.Managed / 1024 / 1024} MB managed / {before.WorkingSet / 1024 / 1024} MB working set, after {after.Managed / 1024 / 1024} / {after.WorkingSet / 1024 / 1024}");
        return;

        async Task<HttpStatusCode> SendAsync(int i)
        {
            using var content = i % 2 == 0 ? new ByteArrayContent(json) : new ByteArrayContent(formBody);
            content.Headers.ContentType = new(i % 2 == 0 ? "application/json" : "application/x-www-form-urlencoded");
            using var response = await client.PostAsync(i % 2 == 0 ? "/api/auth/token" : "/account/login", content, Ct);
            return response.StatusCode;
        }

        static (long Managed, long WorkingSet) Memory()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            using var process = System.Diagnostics.Process.GetCurrentProcess();
            return (GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
        }
    }

    [Fact]
    public async Task a_body_over_the_anonymous_cap_is_a_413_before_it_is_read()
    {
        var body = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"username":"{{new string('a', 20_000)}}","password":"x"}"""));
        body.Headers.ContentType = new("application/json");
        using var response = await Host.Server.CreateClient().PostAsync("/api/auth/token", body, Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("body", (await response.Content.ReadFromJsonAsync<ProblemDetails>(Ct))!.Detail);
    }

    [Fact]
    public async Task the_stored_data_protection_keys_hold_no_plain_key_material_and_tokens_still_work()
    {
        // A token issued now, through the encrypted key ring, is read back.
        var issued = await Host.Scenario(s =>
        {
            s.Post.Json(new TokenRequest(As.Billing, AppFixture.Password)).ToUrl("/api/auth/token");
            s.StatusCodeShouldBeOk();
        });
        var token = (await issued.ReadAsJsonAsync<TokenResponse>())!.AccessToken;
        await Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Get.Url("/api/auth/me");
            s.StatusCodeShouldBeOk();
        });

        await using var session = fixture.Global.QuerySession();
        var keys = await session.Query<DataProtectionKey>().ToListAsync(Ct);
        Assert.NotEmpty(keys);
        // Keys an earlier run stored before the keys were encrypted stay readable; every key this code made is encrypted.
        var newest = keys.Select(k => System.Xml.Linq.XElement.Parse(k.Xml)).OrderByDescending(x => (DateTimeOffset)x.Element("creationDate")!).First();
        var xml = newest.ToString();
        Assert.Contains("<encryptedSecret", xml);
        Assert.DoesNotContain("<masterKey", xml);
        Assert.Contains("EncryptedData", xml);
    }

    [Theory]
    [InlineData("Production", true)]
    [InlineData("Testing", true)]
    [InlineData("Development", false)]
    public async Task outside_development_a_missing_data_protection_certificate_stops_the_start_with_a_clear_message(string environment, bool stops)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.Configuration["DataProtection:Certificate:Path"] = "";
        builder.AddAuth();

        var required = builder.Services.Where(d => d.ImplementationType == typeof(DataProtectionCertificateRequired)).ToList();
        Assert.Equal(stops ? 1 : 0, required.Count);
        if (stops)
        {
            // The first hosted service: the start stops before anything else starts.
            Assert.Same(required[0], builder.Services.First(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService)));
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => new DataProtectionCertificateRequired().StartAsync(Ct));
            Assert.Contains("DataProtection:Certificate:Path is not set", error.Message);
        }
    }

    [Fact]
    public void a_configured_certificate_that_does_not_exist_is_named_in_the_error()
    {
        var missing = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["DataProtection:Certificate:Path"] = "/nope/dp.pfx" }).Build();
        Assert.Contains("/nope/dp.pfx", Assert.Throws<InvalidOperationException>(() => DataProtectionCertificate.Load(missing)).Message);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [GeneratedRegex("name=\"returnUrl\" value=\"([^\"]*)\"")]
    private static partial Regex ReturnUrlField();

    private async Task<(HttpClient Client, (string Pair, string Cookie) Antiforgery, (string Value, string ReturnUrl) Token)> LoginFormAsync(string? returnUrl = null)
    {
        var client = Host.Server.CreateClient();
        var page = await client.GetAsync("/account/login" + (returnUrl is null ? "" : "?returnUrl=" + Uri.EscapeDataString(returnUrl)), Ct);
        var html = await page.Content.ReadAsStringAsync(Ct);
        var cookie = page.Headers.GetValues("Set-Cookie").First();
        return (client, (cookie.Split(';')[0], cookie),
            (WebUtility.HtmlDecode(AntiforgeryField().Match(html).Groups[1].Value), WebUtility.HtmlDecode(ReturnUrlField().Match(html).Groups[1].Value)));
    }

    private static async Task<HttpResponseMessage> PostLoginAsync(HttpClient client, string antiforgeryCookie, string token, string username, string password, string returnUrl)
    {
        var login = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token, ["username"] = username, ["password"] = password, ["returnUrl"] = returnUrl
            })
        };
        login.Headers.Add("Cookie", antiforgeryCookie);
        return await client.SendAsync(login, Ct);
    }
}
