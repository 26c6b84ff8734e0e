using System.Net;
using System.Text.RegularExpressions;
using Alba;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Auth;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Accounts;

/// <summary>What the account tests share: users of their own (the fixture's accounts keep their stamps), tokens, cookies.</summary>
public static partial class AccountTools
{
    public const string Password = "Correct-horse-battery-7";

    public static async Task<UserView> CreateUserAsync(this AppFixture fixture, string role, Guid? employerId = null, string? email = null)
    {
        var result = await fixture.Call(As.Admin, s =>
        {
            s.Post.Json(new CreateUser(Guid.NewGuid(), email ?? $"user-{Guid.NewGuid():N}@test.local", "Someone", [role], employerId, Password)).ToUrl("/api/users");
            s.StatusCodeShouldBe(201);
        });
        return (await result.ReadAsJsonAsync<UserView>())!;
    }

    /// <summary>A token through the real endpoint, not the fixture's cache.</summary>
    public static async Task<string> FreshTokenAsync(this AppFixture fixture, string email, string password = Password, string? otp = null)
    {
        var result = await fixture.Host.Scenario(s =>
        {
            s.Post.Json(new TokenRequest(email, password, otp)).ToUrl("/api/auth/token");
            s.StatusCodeShouldBeOk();
        });
        return (await result.ReadAsJsonAsync<TokenResponse>())!.AccessToken;
    }

    public static async Task<int> StatusWithTokenAsync(this AppFixture fixture, string token, string url = "/api/auth/me")
    {
        var result = await fixture.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Get.Url(url);
            s.IgnoreStatusCode();
        });
        return result.Context.Response.StatusCode;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    /// <summary>Posts a sign-in form (the login page or the code page) as a browser would: its antiforgery token and cookies.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string page, Dictionary<string, string> fields, string cookies = "")
    {
        var ct = TestContext.Current.CancellationToken;
        var get = new HttpRequestMessage(HttpMethod.Get, page);
        if (cookies.Length > 0) get.Headers.Add("Cookie", cookies);
        var form = await client.SendAsync(get, ct);
        var html = await form.Content.ReadAsStringAsync(ct);
        var antiforgery = string.Join("; ", form.Headers.TryGetValues("Set-Cookie", out var set) ? set.Select(c => c.Split(';')[0]) : []);
        fields["__RequestVerificationToken"] = WebUtility.HtmlDecode(AntiforgeryField().Match(html).Groups[1].Value);
        var post = new HttpRequestMessage(HttpMethod.Post, page.Split('?')[0]) { Content = new FormUrlEncodedContent(fields) };
        post.Headers.Add("Cookie", string.Join("; ", new[] { antiforgery, cookies }.Where(c => c.Length > 0)));
        return await client.SendAsync(post, ct);
    }

    /// <summary>Signs in with the web form; the auth cookie ("kb.auth=...").</summary>
    public static async Task<string> SignInCookieAsync(this AppFixture fixture, string email, string password = Password)
    {
        var client = fixture.Host.Server.CreateClient();
        var response = await PostFormAsync(client, "/account/login", new() { ["username"] = email, ["password"] = password, ["returnUrl"] = "/" });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return Cookie(response, "kb.auth");
    }

    public static string Cookie(HttpResponseMessage response, string name) =>
        response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(name + "=", StringComparison.Ordinal)).Split(';')[0];

    public static async Task<HttpResponseMessage> GetWithCookieAsync(this AppFixture fixture, string cookie, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await fixture.Host.Server.CreateClient().SendAsync(request, TestContext.Current.CancellationToken);
    }
}
