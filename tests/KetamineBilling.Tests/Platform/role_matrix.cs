using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// Issue 13: every route (API and page) is called as each role, as an account without a role and signed out, and
/// what it answers is compared with the "Roles and routes" table of docs/api.md. A route without a row fails, and so
/// does a row for a route that does not exist.
/// </summary>
public partial class role_matrix(AppFixture fixture) : IntegrationContext(fixture)
{
    /// <summary>The table's columns, in order: a column heading and the account it is called as (null: signed out).</summary>
    private static readonly (string Column, string? User)[] Callers =
    [
        ("Anonymous", null), ("BillingAdmin", As.Billing), ("Finance", As.Finance), ("Employer", As.EmployerA),
        ("Administrator", As.Admin), ("No role", As.NoRole)
    ];

    private const string Section = "## Roles and routes";

    private sealed record Route(string Method, string Pattern, string Url, bool IsPage);

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    private static string DocsApi()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "docs", "api.md");
            if (File.Exists(path)) return path;
        }

        throw new FileNotFoundException("docs/api.md not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The table: (method, route) to the expected answer per column.</summary>
    private static Dictionary<(string Method, string Route), Dictionary<string, string>> Table()
    {
        var lines = File.ReadAllLines(DocsApi());
        var start = Array.FindIndex(lines, l => l.Trim() == Section);
        Assert.True(start >= 0, $"docs/api.md has no '{Section}' section");
        var header = lines.Skip(start + 1).First(l => l.StartsWith("| Method", StringComparison.Ordinal));
        var columns = Cells(header);
        Assert.Equal(["Method", "Route", .. Callers.Select(c => c.Column)], columns);
        var table = new Dictionary<(string, string), Dictionary<string, string>>();
        foreach (var line in lines.Skip(Array.IndexOf(lines, header, start) + 2).TakeWhile(l => l.StartsWith('|')))
        {
            var cells = Cells(line);
            Assert.True(cells.Count == columns.Count, $"docs/api.md row has {cells.Count} cells, not {columns.Count}: {line}");
            var key = (cells[0], cells[1].Trim('`'));
            Assert.False(table.ContainsKey(key), $"docs/api.md lists {key} twice");
            table[key] = columns.Skip(2).Zip(cells.Skip(2)).ToDictionary(p => p.First, p => p.Second);
        }

        return table;
    }

    private static List<string> Cells(string line) => line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToList();

    /// <summary>Every route the host serves; ids in its URL are new GUIDs (so nothing is found or changed), months and dates well formed.</summary>
    private List<Route> Routes() =>
        AppRoutes.All(Host.Services).Select(r => new Route(r.Method, r.Pattern, r.Url(Value), r.IsPage)).ToList();

    private string Value(RoutePatternParameterPart parameter) => parameter.Name.ToLowerInvariant() switch
    {
        "employerid" => Fixture.EmployerAId.ToString(),
        "code" => "96365",
        "month" => "2026-01",
        "dateofservice" => "2026-01-05",
        "documentname" => "v1",
        "name" => "NoSuchReadModel",
        _ when parameter.IsOptional => "",
        _ => Guid.NewGuid().ToString()
    };

    /// <summary>The sign-in cookie of an account, through the sign-in form as a browser gets it.</summary>
    private async Task<string> CookieFor(string user, HttpClient client, CancellationToken ct)
    {
        var page = await client.GetAsync("/account/login", ct);
        var html = await page.Content.ReadAsStringAsync(ct);
        var antiforgery = string.Join("; ", page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        var token = WebUtility.HtmlDecode(AntiforgeryField().Match(html).Groups[1].Value);
        using var login = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token, ["username"] = user, ["password"] = AppFixture.Password, ["returnUrl"] = "/"
            })
        };
        login.Headers.Add("Cookie", antiforgery);
        var signedIn = await client.SendAsync(login, ct);
        var cookie = signedIn.Headers.TryGetValues("Set-Cookie", out var set) ? set.FirstOrDefault(c => c.StartsWith("kb.auth=", StringComparison.Ordinal)) : null;
        Assert.True(cookie is not null, $"{user} could not sign in: {(int)signedIn.StatusCode} {signedIn.Headers.Location}");
        return cookie.Split(';')[0];
    }

    /// <summary>What the answer means for access: ok (authorized, whatever the handler then said), 401, 403, login or denied.</summary>
    private static string Outcome(HttpResponseMessage response)
    {
        var location = response.Headers.Location?.ToString() ?? "";
        return (int)response.StatusCode switch
        {
            401 => "401",
            403 => "403",
            302 when location.Contains("/account/login", StringComparison.Ordinal) && !location.Contains("error=", StringComparison.Ordinal) => "login",
            302 when location.Contains("/account/denied", StringComparison.Ordinal) => "denied",
            _ => "ok"
        };
    }

    [Fact]
    public async Task every_route_answers_each_role_as_the_table_in_docs_api_md_says()
    {
        var ct = TestContext.Current.CancellationToken;
        var table = Table();
        var routes = Routes();
        Assert.True(routes.Count(r => r.Pattern.StartsWith("/api/", StringComparison.Ordinal)) > 80, "the API's endpoints were not found");
        // Every @page of the app is among them (a page the endpoint list missed would be walked by no one).
        var pages = typeof(Program).Assembly.GetTypes().Where(t => typeof(IComponent).IsAssignableFrom(t))
            .SelectMany(t => t.GetCustomAttributes(typeof(RouteAttribute), false).Cast<RouteAttribute>()).Select(r => r.Template).ToHashSet();
        Assert.True(pages.Count > 15, "the pages were not found");
        Assert.Equal(pages.Order(StringComparer.Ordinal), routes.Where(r => r.IsPage).Select(r => r.Pattern).Order(StringComparer.Ordinal));

        var client = Host.Server.CreateClient();
        var cookies = new Dictionary<string, string>();
        foreach (var (_, user) in Callers.Where(c => c.User is not null)) cookies[user!] = await CookieFor(user!, client, ct);

        var mismatches = new List<string>();
        var missing = new List<string>();
        // Cookie calls that could end the session (sign-out) go last.
        foreach (var route in routes.OrderBy(r => r.Pattern.StartsWith("/account/logout", StringComparison.Ordinal)))
        {
            var actual = new Dictionary<string, string>();
            foreach (var (column, user) in Callers)
            {
                using var request = new HttpRequestMessage(new HttpMethod(route.Method), route.Url);
                if (route.Method is "POST" or "PUT" or "PATCH") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                if (user is not null)
                {
                    if (route.Pattern.StartsWith("/api/", StringComparison.Ordinal)) request.Headers.Add("Authorization", $"Bearer {await Fixture.TokenFor(user)}");
                    else request.Headers.Add("Cookie", cookies[user]);
                }

                using var response = await client.SendAsync(request, ct);
                actual[column] = Outcome(response);
            }

            var row = $"| {route.Method} | `{route.Pattern}` | {string.Join(" | ", Callers.Select(c => actual[c.Column]))} |";
            if (!table.Remove((route.Method, route.Pattern), out var expected)) missing.Add(row);
            else if (Callers.Any(c => expected[c.Column] != actual[c.Column])) mismatches.Add($"{row}   (table: {string.Join(" | ", Callers.Select(c => expected[c.Column]))})");
        }

        var message = new StringBuilder();
        if (missing.Count > 0) message.AppendLine($"Routes without a row in docs/api.md '{Section}' (as they answer now):").AppendJoin('\n', missing).AppendLine();
        if (mismatches.Count > 0) message.AppendLine("Routes answering otherwise than the table says:").AppendJoin('\n', mismatches).AppendLine();
        if (table.Count > 0) message.AppendLine("Rows for routes that do not exist:").AppendJoin('\n', table.Keys.Select(k => $"{k.Method} {k.Route}")).AppendLine();
        Assert.True(message.Length == 0, message.ToString());
    }
}
