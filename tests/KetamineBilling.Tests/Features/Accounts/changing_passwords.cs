using System.Net;
using System.Security.Claims;
using Alba;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Ui;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace KetamineBilling.Tests.Features.Accounts;

public class password_rules
{
    [Theory]
    [InlineData("Test-pass-1", "at least 12 characters")] // the old test password: 11 characters
    [InlineData("Demo-pass-1", "at least 12 characters")]
    [InlineData("qwerty123456", "most common passwords")]
    [InlineData("QAZWSXEDCRFV", "most common passwords")] // case does not help
    [InlineData("someone.long@clinic.example", "the user name")]
    [InlineData("SOMEONE.LONG", "the user name")] // the email's local part, any case
    public void a_weak_password_is_refused_with_the_rule_it_breaks(string password, string rule) =>
        Assert.Contains(PasswordRules.Check(password, "someone.long@clinic.example"), r => r.Contains(rule));

    [Fact]
    public void a_long_uncommon_password_is_accepted_and_the_shipped_list_is_a_real_one()
    {
        Assert.Empty(PasswordRules.Check("Correct-horse-battery-7", "someone@clinic.example"));
        Assert.Empty(PasswordRules.Check(AppFixture.Password, As.Billing));
        Assert.Empty(PasswordRules.Check(KetamineBilling.Features.Demo.DemoSeeder.DefaultPassword, "billing@demo.test"));
        Assert.True(PasswordRules.CommonPasswordCount > 10_000);
        Assert.True(PasswordRules.IsCommon("password") && PasswordRules.IsCommon("iloveyou") && PasswordRules.IsCommon("1qaz2wsx3edc"));
    }
}

public class changing_own_password(AppFixture fixture) : IntegrationContext(fixture)
{
    private async Task<IScenarioResult> ChangeAsync(string token, ChangeOwnPassword command, int status) => await Host.Scenario(s =>
    {
        s.WithRequestHeader("Authorization", $"Bearer {token}");
        s.Post.Json(command).ToUrl("/api/account/password");
        s.StatusCodeShouldBe(status);
    });

    [Fact]
    public async Task a_user_changes_their_password_with_the_current_one_and_everything_issued_before_is_revoked()
    {
        var user = await Fixture.CreateUserAsync(Roles.Finance);
        var token = await Fixture.FreshTokenAsync(user.Email);
        var other = await Fixture.FreshTokenAsync(user.Email); // another device
        var cookie = await Fixture.SignInCookieAsync(user.Email);

        await ChangeAsync(token, new ChangeOwnPassword(AccountTools.Password, "My-own-new-passphrase"), 204);

        Assert.Equal(401, await Fixture.StatusWithTokenAsync(token));
        Assert.Equal(401, await Fixture.StatusWithTokenAsync(other));
        var page = await Fixture.GetWithCookieAsync(cookie, "/finance");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("http://localhost/account/login", page.Headers.Location!.ToString());
        await Host.Scenario(s => { s.Post.Json(new TokenRequest(user.Email, AccountTools.Password)).ToUrl("/api/auth/token"); s.StatusCodeShouldBe(401); });
        Assert.Equal(200, await Fixture.StatusWithTokenAsync(await Fixture.FreshTokenAsync(user.Email, "My-own-new-passphrase")));
    }

    [Fact]
    public async Task a_wrong_current_password_or_a_weak_new_one_is_a_400_and_changes_nothing()
    {
        var user = await Fixture.CreateUserAsync(Roles.BillingAdmin);
        var token = await Fixture.FreshTokenAsync(user.Email);

        var wrong = await ChangeAsync(token, new ChangeOwnPassword("not-my-password", "My-own-new-passphrase"), 400);
        Assert.Equal(["currentPassword"], (await wrong.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        var missing = await ChangeAsync(token, new ChangeOwnPassword(null, "My-own-new-passphrase"), 400);
        Assert.Equal(["currentPassword"], (await missing.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        var weak = await ChangeAsync(token, new ChangeOwnPassword(AccountTools.Password, "123456789012"), 400);
        Assert.Equal(["newPassword"], (await weak.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        var name = await ChangeAsync(token, new ChangeOwnPassword(AccountTools.Password, user.Email.ToUpperInvariant()), 400);
        Assert.Contains((await name.ReadAsJsonAsync<ValidationProblemDetails>())!.Errors["newPassword"], r => r.Contains("user name"));

        Assert.Equal(200, await Fixture.StatusWithTokenAsync(token));
        await Fixture.FreshTokenAsync(user.Email); // the old password still signs in
        await Host.Scenario(s => { s.Post.Json(new ChangeOwnPassword(AccountTools.Password, "My-own-new-passphrase")).ToUrl("/api/account/password"); s.StatusCodeShouldBe(401); });
    }
}

public class revoking_ui_sessions(AppFixture fixture) : IntegrationContext(fixture)
{
    private static ClaimsPrincipal CookieUser(UserAccount user) => IssueTokenEndpoint.PrincipalFor(user, AuthSchemes.Cookie);

    [Fact]
    public async Task an_open_circuit_is_signed_out_at_its_next_revalidation_after_a_role_change()
    {
        var created = await Fixture.CreateUserAsync(Roles.BillingAdmin);
        var accounts = Host.Services.GetRequiredService<UserAccounts>();
        var state = new AuthenticationState(CookieUser((await accounts.LoadAsync(created.Id, TestContext.Current.CancellationToken))!));
        var provider = new RevalidatingAccountStateProvider(NullLoggerFactory.Instance, Host.Services.GetRequiredService<IServiceScopeFactory>(),
            Host.Services.GetRequiredService<RevocationOptions>());

        Assert.True(await provider.ValidateAsync(state, TestContext.Current.CancellationToken));
        await Fixture.Call(As.Admin, s => s.Put.Json(new ChangeRoles([Roles.Finance], null)).ToUrl($"/api/users/{created.Id}/roles"));
        Assert.False(await provider.ValidateAsync(state, TestContext.Current.CancellationToken));

        // Within a minute: the circuit checks every 30 s, and another node trusts its cached stamp 15 s at most.
        var options = Host.Services.GetRequiredService<RevocationOptions>();
        Assert.True(options.CircuitRevalidation + options.CacheFor <= TimeSpan.FromMinutes(1));
        Assert.IsType<RevalidatingAccountStateProvider>(Host.Services.CreateScope().ServiceProvider.GetRequiredService<AuthenticationStateProvider>());
    }

    [Fact]
    public async Task the_tokens_the_ui_makes_for_its_api_calls_carry_the_stamp_and_are_revoked_with_the_account()
    {
        var created = await Fixture.CreateUserAsync(Roles.BillingAdmin);
        var accounts = Host.Services.GetRequiredService<UserAccounts>();
        var uiToken = Host.Services.GetRequiredService<ApiTokens>().For(CookieUser((await accounts.LoadAsync(created.Id, TestContext.Current.CancellationToken))!)).Token;
        Assert.Equal(200, await Fixture.StatusWithTokenAsync(uiToken, "/api/patients"));

        await Fixture.Call(As.Admin, s => s.Post.Url($"/api/users/{created.Id}/disable"));

        Assert.Equal(401, await Fixture.StatusWithTokenAsync(uiToken, "/api/patients"));
    }

    [Fact]
    public async Task a_token_without_a_stamp_is_refused()
    {
        var created = await Fixture.CreateUserAsync(Roles.BillingAdmin);
        var principal = CookieUser((await Host.Services.GetRequiredService<UserAccounts>().LoadAsync(created.Id, TestContext.Current.CancellationToken))!);
        var stampless = new ClaimsPrincipal(new ClaimsIdentity(principal.Claims.Where(c => c.Type != UserClaims.SecurityStamp), AuthSchemes.Cookie, UserClaims.UserId, UserClaims.Role));

        Assert.Equal(401, await Fixture.StatusWithTokenAsync(Host.Services.GetRequiredService<ApiTokens>().For(stampless).Token, "/api/patients"));
    }
}
