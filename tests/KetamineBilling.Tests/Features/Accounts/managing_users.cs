using System.Net;
using Alba;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Employers;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Features.Accounts;

public class managing_users(AppFixture fixture) : IntegrationContext(fixture)
{
    private static ValidationProblemDetails Problem(IScenarioResult result) => result.ReadAsJson<ValidationProblemDetails>()!;

    private Task<IScenarioResult> Admin(Action<Scenario> configure) => Fixture.Call(As.Admin, configure);

    [Fact]
    public async Task the_administrator_creates_a_user_who_signs_in_with_that_role()
    {
        var id = Guid.NewGuid();
        var email = $"new-{Guid.NewGuid():N}@test.local";
        var command = new CreateUser(id, email, "New Finance", [Roles.Finance], null, AccountTools.Password);

        var created = await Admin(s => { s.Post.Json(command).ToUrl("/api/users"); s.StatusCodeShouldBe(201); });
        var user = (await created.ReadAsJsonAsync<UserView>())!;
        Assert.Equal((id, email, false), (user.Id, user.Email, user.Disabled));
        Assert.Equal([Roles.Finance], user.Roles);

        var token = await Fixture.FreshTokenAsync(email);
        var me = await Fixture.Host.Scenario(s => { s.WithRequestHeader("Authorization", $"Bearer {token}"); s.Get.Url("/api/auth/me"); });
        Assert.Equal([Roles.Finance], (await me.ReadAsJsonAsync<CurrentUser>())!.Roles);

        var list = await Admin(s => s.Get.Url("/api/users"));
        Assert.Contains((await list.ReadAsJsonAsync<List<UserView>>())!, u => u.Id == id);
        var one = await Admin(s => s.Get.Url($"/api/users/{id}"));
        Assert.Equal(email, (await one.ReadAsJsonAsync<UserView>())!.Email);
    }

    [Fact]
    public async Task a_create_is_idempotent_by_its_user_id_and_a_taken_email_or_other_content_is_a_409()
    {
        var id = Guid.NewGuid();
        var email = $"idem-{Guid.NewGuid():N}@test.local";
        var command = new CreateUser(id, email, "Idem", [Roles.BillingAdmin], null, AccountTools.Password);
        await Admin(s => { s.Post.Json(command).ToUrl("/api/users"); s.StatusCodeShouldBe(201); });

        var replay = await Admin(s => { s.Post.Json(command).ToUrl("/api/users"); s.StatusCodeShouldBe(200); });
        Assert.Equal(id, (await replay.ReadAsJsonAsync<UserView>())!.Id);

        await Admin(s => { s.Post.Json(command with { DisplayName = "Other" }).ToUrl("/api/users"); s.StatusCodeShouldBe(409); });
        await Admin(s => { s.Post.Json(command with { Password = "Another-long-passw0rd" }).ToUrl("/api/users"); s.StatusCodeShouldBe(409); });
        var taken = await Admin(s => { s.Post.Json(command with { UserId = Guid.NewGuid(), Email = email.ToUpperInvariant() }).ToUrl("/api/users"); s.StatusCodeShouldBe(409); });
        Assert.Contains("email", (await taken.ReadAsJsonAsync<ProblemDetails>())!.Detail);
        Assert.Single((await (await Admin(s => s.Get.Url("/api/users"))).ReadAsJsonAsync<List<UserView>>())!, u => u.Email == email);
    }

    [Fact]
    public async Task a_bad_create_is_a_400_naming_each_field_and_nothing_is_saved()
    {
        var id = Guid.NewGuid();
        var result = await Admin(s =>
        {
            s.Post.Json(new CreateUser(id, "not-an-email", " ", ["Janitor"], Guid.NewGuid(), "short")).ToUrl("/api/users");
            s.StatusCodeShouldBe(400);
        });

        var errors = Problem(result).Errors;
        Assert.Equal(["displayName", "email", "employerId", "password", "roles[0]"], errors.Keys.Order());
        Assert.Contains(errors["password"], r => r.Contains("12 characters"));
        await Admin(s => { s.Get.Url($"/api/users/{id}"); s.StatusCodeShouldBe(404); });
    }

    [Fact]
    public async Task an_employer_user_needs_exactly_one_employer_that_exists()
    {
        var employerId = Guid.NewGuid();
        await Fixture.Post<EmployerCreated>("/api/employers", new CreateEmployer("Bound Co", null, 300m, null, null, null, null, EmployerId: employerId));

        var none = await Admin(s =>
        {
            s.Post.Json(new CreateUser(Guid.NewGuid(), $"hr-{Guid.NewGuid():N}@test.local", "HR", [Roles.Employer], null, AccountTools.Password)).ToUrl("/api/users");
            s.StatusCodeShouldBe(400);
        });
        Assert.Contains("employerId", Problem(none).Errors.Keys);

        var withOtherRole = await Admin(s =>
        {
            s.Post.Json(new CreateUser(Guid.NewGuid(), $"hr-{Guid.NewGuid():N}@test.local", "HR", [Roles.Employer, Roles.Finance], employerId, AccountTools.Password)).ToUrl("/api/users");
            s.StatusCodeShouldBe(400);
        });
        Assert.Contains("roles", Problem(withOtherRole).Errors.Keys);

        var unknown = await Admin(s =>
        {
            s.Post.Json(new CreateUser(Guid.NewGuid(), $"hr-{Guid.NewGuid():N}@test.local", "HR", [Roles.Employer], Guid.NewGuid(), AccountTools.Password)).ToUrl("/api/users");
            s.StatusCodeShouldBe(422);
        });
        Assert.Contains("employerId", Problem(unknown).Errors.Keys);

        var bound = await Fixture.CreateUserAsync(Roles.Employer, employerId);
        var token = await Fixture.FreshTokenAsync(bound.Email);
        var me = await Fixture.Host.Scenario(s => { s.WithRequestHeader("Authorization", $"Bearer {token}"); s.Get.Url("/api/auth/me"); });
        Assert.Equal(employerId, (await me.ReadAsJsonAsync<CurrentUser>())!.EmployerId);

        // Rebinding to another employer: the old token (which names the old employer) stops working.
        var other = Guid.NewGuid();
        await Fixture.Post<EmployerCreated>("/api/employers", new CreateEmployer("Other Co", null, 300m, null, null, null, null, EmployerId: other));
        await Admin(s => { s.Put.Json(new ChangeRoles([Roles.Employer], other)).ToUrl($"/api/users/{bound.Id}/roles"); });
        Assert.Equal(401, await Fixture.StatusWithTokenAsync(token));
        var fresh = await Fixture.FreshTokenAsync(bound.Email);
        var rebound = await Fixture.Host.Scenario(s => { s.WithRequestHeader("Authorization", $"Bearer {fresh}"); s.Get.Url("/api/auth/me"); });
        Assert.Equal(other, (await rebound.ReadAsJsonAsync<CurrentUser>())!.EmployerId);
    }

    [Fact]
    public async Task disabling_revokes_the_users_tokens_and_refuses_sign_in_until_enabled()
    {
        var user = await Fixture.CreateUserAsync(Roles.BillingAdmin);
        var token = await Fixture.FreshTokenAsync(user.Email);
        Assert.Equal(200, await Fixture.StatusWithTokenAsync(token, "/api/patients"));

        var disabled = await Admin(s => s.Post.Url($"/api/users/{user.Id}/disable"));
        Assert.True((await disabled.ReadAsJsonAsync<UserView>())!.Disabled);

        Assert.Equal(401, await Fixture.StatusWithTokenAsync(token, "/api/patients"));
        await Fixture.Host.Scenario(s => { s.Post.Json(new TokenRequest(user.Email, AccountTools.Password)).ToUrl("/api/auth/token"); s.StatusCodeShouldBe(401); });

        await Admin(s => s.Post.Url($"/api/users/{user.Id}/enable"));
        Assert.Equal(401, await Fixture.StatusWithTokenAsync(token, "/api/patients")); // what was issued before stays revoked
        Assert.Equal(200, await Fixture.StatusWithTokenAsync(await Fixture.FreshTokenAsync(user.Email), "/api/patients"));
    }

    [Fact]
    public async Task disabling_drops_the_users_web_sign_in()
    {
        var user = await Fixture.CreateUserAsync(Roles.Finance);
        var cookie = await Fixture.SignInCookieAsync(user.Email);
        Assert.Equal(HttpStatusCode.OK, (await Fixture.GetWithCookieAsync(cookie, "/finance")).StatusCode);

        await Admin(s => s.Post.Url($"/api/users/{user.Id}/disable"));

        var page = await Fixture.GetWithCookieAsync(cookie, "/finance");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("http://localhost/account/login", page.Headers.Location!.ToString());
    }

    [Fact]
    public async Task a_password_reset_revokes_tokens_and_cookies_and_the_new_password_signs_in()
    {
        var user = await Fixture.CreateUserAsync(Roles.Finance);
        var token = await Fixture.FreshTokenAsync(user.Email);
        var cookie = await Fixture.SignInCookieAsync(user.Email);

        var weak = await Admin(s => { s.Post.Json(new ResetPassword("password")).ToUrl($"/api/users/{user.Id}/password"); s.StatusCodeShouldBe(400); });
        Assert.Contains("newPassword", Problem(weak).Errors.Keys);
        Assert.Equal(200, await Fixture.StatusWithTokenAsync(token)); // a refused reset changes nothing

        await Admin(s => s.Post.Json(new ResetPassword("Fresh-start-2026-ok")).ToUrl($"/api/users/{user.Id}/password"));

        Assert.Equal(401, await Fixture.StatusWithTokenAsync(token));
        Assert.Equal(HttpStatusCode.Redirect, (await Fixture.GetWithCookieAsync(cookie, "/account/keepalive")).StatusCode);
        await Fixture.Host.Scenario(s => { s.Post.Json(new TokenRequest(user.Email, AccountTools.Password)).ToUrl("/api/auth/token"); s.StatusCodeShouldBe(401); });
        Assert.Equal(200, await Fixture.StatusWithTokenAsync(await Fixture.FreshTokenAsync(user.Email, "Fresh-start-2026-ok")));
    }

    [Fact]
    public async Task a_role_change_revokes_the_old_token_and_the_new_one_carries_the_new_roles()
    {
        var user = await Fixture.CreateUserAsync(Roles.BillingAdmin);
        var token = await Fixture.FreshTokenAsync(user.Email);

        var changed = await Admin(s => s.Put.Json(new ChangeRoles([Roles.Finance], null)).ToUrl($"/api/users/{user.Id}/roles"));
        Assert.Equal([Roles.Finance], (await changed.ReadAsJsonAsync<UserView>())!.Roles);

        Assert.Equal(401, await Fixture.StatusWithTokenAsync(token, "/api/patients"));
        var fresh = await Fixture.FreshTokenAsync(user.Email);
        Assert.Equal(403, await Fixture.StatusWithTokenAsync(fresh, "/api/patients"));

        var unknown = await Admin(s => { s.Put.Json(new ChangeRoles(["Root"], null)).ToUrl($"/api/users/{user.Id}/roles"); s.StatusCodeShouldBe(400); });
        Assert.Contains("roles[0]", Problem(unknown).Errors.Keys);
        // The same roles again change nothing: the fresh token keeps working.
        await Admin(s => s.Put.Json(new ChangeRoles([Roles.Finance], null)).ToUrl($"/api/users/{user.Id}/roles"));
        Assert.Equal(200, await Fixture.StatusWithTokenAsync(fresh));
    }

    [Fact]
    public async Task saving_an_account_read_before_another_change_fails_instead_of_undoing_that_change()
    {
        var created = await Fixture.CreateUserAsync(Roles.Finance);
        var accounts = Host.Services.GetRequiredService<UserAccounts>();
        var ct = TestContext.Current.CancellationToken;
        var readEarlier = (await accounts.LoadAsync(created.Id, ct))!;

        await Admin(s => s.Post.Url($"/api/users/{created.Id}/disable"));
        readEarlier.DisplayName = "Renamed on a stale copy";

        await Assert.ThrowsAsync<JasperFx.ConcurrencyException>(() => accounts.SaveAsync(readEarlier, ct));
        Assert.True((await accounts.LoadAsync(created.Id, ct))!.Disabled);
    }

    [Fact]
    public async Task an_administrator_cannot_lock_themself_out()
    {
        var admin = await Fixture.CreateUserAsync(Roles.Administrator);
        var token = await Fixture.FreshTokenAsync(admin.Email);

        var disable = await Fixture.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Post.Url($"/api/users/{admin.Id}/disable");
            s.StatusCodeShouldBe(422);
        });
        Assert.Contains("userId", Problem(disable).Errors.Keys);
        await Fixture.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Put.Json(new ChangeRoles([Roles.Finance], null)).ToUrl($"/api/users/{admin.Id}/roles");
            s.StatusCodeShouldBe(422);
        });
    }

    [Fact]
    public async Task an_unknown_user_is_a_404_and_only_the_administrator_manages_users()
    {
        var unknown = Guid.NewGuid();
        await Admin(s => { s.Post.Url($"/api/users/{unknown}/disable"); s.StatusCodeShouldBe(404); });
        await Admin(s => { s.Post.Json(new ResetPassword("Fresh-start-2026-ok")).ToUrl($"/api/users/{unknown}/password"); s.StatusCodeShouldBe(404); });
        await Admin(s => { s.Put.Json(new ChangeRoles([Roles.Finance], null)).ToUrl($"/api/users/{unknown}/roles"); s.StatusCodeShouldBe(404); });

        foreach (var who in new[] { As.Billing, As.Finance, As.EmployerA })
        {
            await Fixture.Call(who, s => { s.Get.Url("/api/users"); s.StatusCodeShouldBe(403); });
            await Fixture.Call(who, s =>
            {
                s.Post.Json(new CreateUser(Guid.NewGuid(), "x@test.local", "X", [Roles.Administrator], null, AccountTools.Password)).ToUrl("/api/users");
                s.StatusCodeShouldBe(403);
            });
        }

        await Fixture.Call(null, s => { s.Get.Url("/api/users"); s.StatusCodeShouldBe(401); });
    }
}
