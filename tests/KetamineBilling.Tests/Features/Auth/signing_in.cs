using System.Net;
using System.Text.RegularExpressions;
using Alba;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Features.Auth;

public partial class signing_in(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task the_right_password_gives_a_bearer_token_that_says_who_and_which_roles()
    {
        var result = await Fixture.Call(null, s =>
        {
            s.Post.Json(new TokenRequest(As.Billing, AppFixture.Password)).ToUrl("/api/auth/token");
            s.StatusCodeShouldBeOk();
        });
        var token = (await result.ReadAsJsonAsync<TokenResponse>())!;
        Assert.True(token.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(30));

        var me = await Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token.AccessToken}");
            s.Get.Url("/api/auth/me");
        });
        var user = (await me.ReadAsJsonAsync<CurrentUser>())!;
        Assert.Equal(As.Billing, user.Email);
        Assert.Equal([Roles.BillingAdmin], user.Roles);
        Assert.Null(user.EmployerId);
    }

    [Fact]
    public async Task an_employer_token_carries_its_one_employer()
    {
        var me = await Fixture.Call(As.EmployerA, s => s.Get.Url("/api/auth/me"));

        Assert.Equal(Fixture.EmployerAId, (await me.ReadAsJsonAsync<CurrentUser>())!.EmployerId);
    }

    [Fact]
    public async Task a_wrong_password_or_an_unknown_user_is_a_401_that_does_not_say_which()
    {
        var wrongPassword = await Fixture.Call(null, s =>
        {
            s.Post.Json(new TokenRequest(As.Finance, "nope")).ToUrl("/api/auth/token");
            s.StatusCodeShouldBe(401);
        });
        var unknownUser = await Fixture.Call(null, s =>
        {
            s.Post.Json(new TokenRequest("nobody@test.local", "nope")).ToUrl("/api/auth/token");
            s.StatusCodeShouldBe(401);
        });

        Assert.Equal(
            (await wrongPassword.ReadAsJsonAsync<ProblemDetails>())!.Detail,
            (await unknownUser.ReadAsJsonAsync<ProblemDetails>())!.Detail);
    }

    [Fact]
    public async Task missing_credentials_are_a_400_naming_the_fields()
    {
        var result = await Fixture.Call(null, s =>
        {
            s.Post.Json(new TokenRequest(null, null)).ToUrl("/api/auth/token");
            s.StatusCodeShouldBe(400);
        });

        Assert.Equal(["password", "username"], (await result.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys.Order());
    }

    [Fact]
    public async Task repeated_failures_lock_the_account_with_429_even_for_the_right_password()
    {
        var accounts = Host.Services.GetRequiredService<UserAccounts>();
        var email = $"locked-{Guid.NewGuid():N}@test.local";
        await accounts.EnsureAsync(email, "Locked", AppFixture.Password, [Roles.Finance], null, [AppFixture.Clinic], DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);

        for (var i = 0; i < new LoginThrottleOptions().FailuresPerAccountAndClient; i++)
        {
            await Fixture.Call(null, s =>
            {
                s.Post.Json(new TokenRequest(email, "wrong")).ToUrl("/api/auth/token");
                s.StatusCodeShouldBe(401);
            });
        }

        var locked = await Fixture.Call(null, s =>
        {
            s.Post.Json(new TokenRequest(email, AppFixture.Password)).ToUrl("/api/auth/token");
            s.StatusCodeShouldBe(429);
        });
        Assert.True(int.Parse(locked.Context.Response.Headers.RetryAfter.ToString()) > 0);
    }

    [Fact]
    public async Task no_token_or_a_forged_token_is_a_401()
    {
        await Fixture.Call(null, s =>
        {
            s.Get.Url("/api/auth/me");
            s.StatusCodeShouldBe(401);
        });
        await Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", "Bearer CfDJ8forged-token-value");
            s.Get.Url("/api/auth/me");
            s.StatusCodeShouldBe(401);
        });
    }

    [Fact]
    public async Task an_account_without_a_role_is_refused_with_403()
    {
        await Fixture.Call(As.NoRole, s =>
        {
            s.Get.Url("/api/auth/me");
            s.StatusCodeShouldBe(403);
        });
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();

    [Fact]
    public async Task the_web_sign_in_sets_a_cookie_for_pages_that_the_api_does_not_accept()
    {
        var client = Host.Server.CreateClient();
        var ct = TestContext.Current.CancellationToken;

        var page = await client.GetAsync("/account/login", ct);
        var html = await page.Content.ReadAsStringAsync(ct);
        var antiforgeryCookie = string.Join("; ", page.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0]));
        var token = WebUtility.HtmlDecode(AntiforgeryField().Match(html).Groups[1].Value);

        var login = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token, ["username"] = As.Finance, ["password"] = AppFixture.Password, ["returnUrl"] = "/"
            })
        };
        login.Headers.Add("Cookie", antiforgeryCookie);
        var signedIn = await client.SendAsync(login, ct);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var authCookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("kb.auth=")).Split(';')[0];
        Assert.Contains("httponly", signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("kb.auth=")).ToLowerInvariant());

        // The finance dashboard opens with the cookie; a billing page is the 403 page; the keep-alive answers.
        async Task<HttpResponseMessage> WithCookie(string path)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("Cookie", authCookie);
            return await client.SendAsync(request, ct);
        }

        Assert.Equal(HttpStatusCode.OK, (await WithCookie("/finance")).StatusCode);
        var billingPage = await WithCookie("/patients");
        Assert.Equal(HttpStatusCode.Redirect, billingPage.StatusCode);
        Assert.StartsWith("http://localhost/account/denied", billingPage.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.NoContent, (await WithCookie("/account/keepalive")).StatusCode);

        var api = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me");
        api.Headers.Add("Cookie", authCookie);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(api, ct)).StatusCode);
    }

    [Fact]
    public async Task a_sign_in_form_post_without_its_antiforgery_token_is_refused()
    {
        var response = await Host.Server.CreateClient().PostAsync("/account/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = As.Finance, ["password"] = AppFixture.Password }),
            TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task pages_send_a_signed_out_visitor_to_the_sign_in_page()
    {
        foreach (var page in new[] { "/", "/patients", "/finance", "/employer" })
        {
            var response = await Host.Server.CreateClient().GetAsync(page, TestContext.Current.CancellationToken);

            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("http://localhost/account/login", response.Headers.Location!.ToString());
        }
    }
}
