using System.Net;
using Alba;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Auth;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Marten;
using Microsoft.AspNetCore.Mvc;
using OtpNet;

namespace KetamineBilling.Tests.Features.Accounts;

public class two_factor(AppFixture fixture) : IntegrationContext(fixture)
{
    /// <summary>A user with the second factor on, and their key as the authenticator app holds it.</summary>
    private async Task<(UserView User, Totp App)> EnrolledUserAsync(string role = Roles.BillingAdmin)
    {
        var user = await Fixture.CreateUserAsync(role);
        var token = await Fixture.FreshTokenAsync(user.Email);
        var setup = await Host.Scenario(s => { s.WithRequestHeader("Authorization", $"Bearer {token}"); s.Post.Url("/api/account/two-factor/setup"); });
        var shown = (await setup.ReadAsJsonAsync<TwoFactorSetup>())!;
        Assert.StartsWith("otpauth://totp/", shown.OtpAuthUri);
        Assert.Contains($"secret={shown.Secret}", shown.OtpAuthUri);
        var app = new Totp(Base32Encoding.ToBytes(shown.Secret));

        var wrong = await Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Post.Json(new ConfirmTwoFactor(((int.Parse(app.ComputeTotp()) + 1) % 1_000_000).ToString("D6"))).ToUrl("/api/account/two-factor/confirm");
            s.StatusCodeShouldBe(422);
        });
        Assert.Contains("code", (await wrong.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        await Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Post.Json(new ConfirmTwoFactor(app.ComputeTotp())).ToUrl("/api/account/two-factor/confirm");
        });
        return (user, app);
    }

    /// <summary>The code of the next time step: the confirming code's step is used up, and the next one is accepted (one step of drift).</summary>
    private static string NextCode(Totp app) => app.ComputeTotp(DateTime.UtcNow.AddSeconds(30));

    [Fact]
    public async Task with_the_second_factor_on_the_token_endpoint_wants_the_current_code_once()
    {
        var (user, app) = await EnrolledUserAsync();

        var missing = await Host.Scenario(s => { s.Post.Json(new TokenRequest(user.Email, AccountTools.Password)).ToUrl("/api/auth/token"); s.StatusCodeShouldBe(401); });
        var problem = (await missing.ReadAsJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal("One-time code required", problem.Title);
        Assert.Equal(["otp"], problem.Errors.Keys);

        var stale = app.ComputeTotp(DateTime.UtcNow.AddMinutes(-5));
        var wrong = await Host.Scenario(s => { s.Post.Json(new TokenRequest(user.Email, AccountTools.Password, stale)).ToUrl("/api/auth/token"); s.StatusCodeShouldBe(401); });
        Assert.Equal("Wrong one-time code", (await wrong.ReadAsJsonAsync<ProblemDetails>())!.Title);

        var code = NextCode(app);
        var token = await Fixture.FreshTokenAsync(user.Email, AccountTools.Password, code);
        Assert.Equal(200, await Fixture.StatusWithTokenAsync(token, "/api/patients"));

        // The same code again, within its window: refused (replay).
        await Host.Scenario(s => { s.Post.Json(new TokenRequest(user.Email, AccountTools.Password, code)).ToUrl("/api/auth/token"); s.StatusCodeShouldBe(401); });
        // And a wrong password with the right code is still the plain 401.
        await Host.Scenario(s => { s.Post.Json(new TokenRequest(user.Email, "Not-the-password-1", NextCode(app))).ToUrl("/api/auth/token"); s.StatusCodeShouldBe(401); });
    }

    [Fact]
    public async Task the_key_is_stored_protected_not_in_plain_text()
    {
        var user = await Fixture.CreateUserAsync(Roles.Finance);
        var token = await Fixture.FreshTokenAsync(user.Email);
        var setup = await Host.Scenario(s => { s.WithRequestHeader("Authorization", $"Bearer {token}"); s.Post.Url("/api/account/two-factor/setup"); });
        var secret = (await setup.ReadAsJsonAsync<TwoFactorSetup>())!.Secret;
        var app = new Totp(Base32Encoding.ToBytes(secret));
        await Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Post.Json(new ConfirmTwoFactor(app.ComputeTotp())).ToUrl("/api/account/two-factor/confirm");
        });

        await using var session = Global.QuerySession();
        var raw = await session.Json.FindByIdAsync<UserAccount>(user.Id, TestContext.Current.CancellationToken);
        Assert.Contains("TotpSecret", raw!);
        Assert.DoesNotContain(secret, raw, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Convert.ToBase64String(Base32Encoding.ToBytes(secret)), raw);
    }

    [Fact]
    public async Task the_web_sign_in_asks_for_the_code_in_a_second_step()
    {
        var (user, app) = await EnrolledUserAsync(Roles.Finance);
        var client = Host.Server.CreateClient();

        var password = await AccountTools.PostFormAsync(client, "/account/login", new() { ["username"] = user.Email, ["password"] = AccountTools.Password, ["returnUrl"] = "/finance" });
        Assert.Equal(HttpStatusCode.Redirect, password.StatusCode);
        Assert.StartsWith(TwoFactorSignIn.CodePage, password.Headers.Location!.ToString());
        Assert.DoesNotContain(password.Headers.GetValues("Set-Cookie"), c => c.StartsWith("kb.auth=", StringComparison.Ordinal));
        var pending = AccountTools.Cookie(password, TwoFactorSignIn.PendingCookie);

        var wrong = await AccountTools.PostFormAsync(client, password.Headers.Location.ToString(), new() { ["code"] = "000000", ["returnUrl"] = "/finance" }, pending);
        Assert.Contains("error=invalid", wrong.Headers.Location!.ToString());

        var right = await AccountTools.PostFormAsync(client, password.Headers.Location.ToString(), new() { ["code"] = NextCode(app), ["returnUrl"] = "/finance" }, pending);
        Assert.Equal("/finance", right.Headers.Location!.ToString());
        var cookie = AccountTools.Cookie(right, "kb.auth");
        Assert.Equal(HttpStatusCode.OK, (await Fixture.GetWithCookieAsync(cookie, "/finance")).StatusCode);
    }

    [Fact]
    public async Task a_role_that_requires_the_second_factor_makes_its_users_enrol_before_anything_else()
    {
        try
        {
            var user = await Fixture.CreateUserAsync(Roles.Finance);
            var token = await Fixture.FreshTokenAsync(user.Email);
            Assert.Equal(200, await Fixture.StatusWithTokenAsync(token, "/api/payers"));

            var bad = await Fixture.Call(As.Admin, s => { s.Put.Json(new SetTwoFactorPolicy(["Finance", "Janitor"])).ToUrl("/api/two-factor-policy"); s.StatusCodeShouldBe(400); });
            Assert.Contains("requiredRoles[1]", (await bad.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
            await Fixture.Call(As.Admin, s => s.Put.Json(new SetTwoFactorPolicy([Roles.Finance])).ToUrl("/api/two-factor-policy"));

            var refused = await Host.Scenario(s =>
            {
                s.WithRequestHeader("Authorization", $"Bearer {token}");
                s.Get.Url("/api/payers");
                s.StatusCodeShouldBe(403);
            });
            Assert.Equal("Two-factor sign-in required", (await refused.ReadAsJsonAsync<ProblemDetails>())!.Title);
            var status = await Host.Scenario(s => { s.WithRequestHeader("Authorization", $"Bearer {token}"); s.Get.Url("/api/account/two-factor"); });
            Assert.Equal(new TwoFactorStatus(false, true, false), await status.ReadAsJsonAsync<TwoFactorStatus>());
            var cookie = await Fixture.SignInCookieAsync(user.Email);
            var page = await Fixture.GetWithCookieAsync(cookie, "/finance");
            Assert.Equal(TwoFactorEnrolmentGate.EnrolPage, page.Headers.Location!.ToString());

            var setup = await Host.Scenario(s => { s.WithRequestHeader("Authorization", $"Bearer {token}"); s.Post.Url("/api/account/two-factor/setup"); });
            var app = new Totp(Base32Encoding.ToBytes((await setup.ReadAsJsonAsync<TwoFactorSetup>())!.Secret));
            await Host.Scenario(s => { s.WithRequestHeader("Authorization", $"Bearer {token}"); s.Post.Json(new ConfirmTwoFactor(app.ComputeTotp())).ToUrl("/api/account/two-factor/confirm"); });

            Assert.Equal(200, await Fixture.StatusWithTokenAsync(token, "/api/payers"));
            // Required: the user cannot turn it off; a BillingAdmin (not required) is not held up.
            await Host.Scenario(s =>
            {
                s.WithRequestHeader("Authorization", $"Bearer {token}");
                s.Post.Json(new TurnOffTwoFactor(AccountTools.Password)).ToUrl("/api/account/two-factor/disable");
                s.StatusCodeShouldBe(422);
            });
            await Fixture.Call(As.Billing, s => s.Get.Url("/api/patients"));
        }
        finally
        {
            await Fixture.Call(As.Admin, s => s.Put.Json(new SetTwoFactorPolicy([])).ToUrl("/api/two-factor-policy"));
        }
    }

    [Fact]
    public async Task the_administrator_resets_a_lost_second_factor()
    {
        var (user, _) = await EnrolledUserAsync();
        await Fixture.Call(As.Admin, s => s.Post.Url($"/api/users/{user.Id}/two-factor/reset"));

        Assert.Equal(200, await Fixture.StatusWithTokenAsync(await Fixture.FreshTokenAsync(user.Email), "/api/patients"));
    }
}

public class two_factor_code_page
{
    [Theory]
    [InlineData("//evil.example/x")]
    [InlineData("/\\evil.example/x")]
    [InlineData("/%09/evil.example/x")]
    [InlineData("/\t/evil.example/x")]
    [InlineData("/%2F/evil.example")]
    [InlineData("https://evil.example/")]
    [InlineData("")]
    public void its_return_url_is_a_local_path_or_the_home_page(string returnUrl) =>
        Assert.Equal("/", KetamineBilling.Features.Auth.SignIn.LocalOnly(returnUrl));

    [Fact]
    public void a_local_path_is_kept() => Assert.Equal("/claims?status=filed", KetamineBilling.Features.Auth.SignIn.LocalOnly("/claims?status=filed"));
}
