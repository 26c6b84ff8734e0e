using System.Net;
using Alba;
using KetamineBilling.Features.Accounts;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Features.Accounts;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Features.Clinic;

/// <summary>Issue 16: an administrator onboards clinics and says which clinics each account works for.</summary>
public class onboarding_clinics(AppFixture fixture) : IntegrationContext(fixture)
{
    private static OnboardClinic Command(string code, string name = "Riverside Infusion", string? database = null) => new(code, name, database, null);

    private static ClinicRecord Existing(string code, string name, string database) =>
        new() { Id = code, Name = name, Database = database, CreatedAt = DateTimeOffset.UnixEpoch };

    [Fact]
    public void a_new_clinic_goes_to_the_named_database_or_the_default_and_a_code_is_its_id_for_good()
    {
        string[] databases = ["shared", "group"];
        Assert.Equal("shared", Assert.IsType<Outcome.Accepted>(OnboardClinicEndpoint.Decide(Command("riverside"), null, databases, "shared")).Answer);
        Assert.Equal("group", Assert.IsType<Outcome.Accepted>(OnboardClinicEndpoint.Decide(Command("riverside", database: "GROUP"), null, databases, "shared")).Answer);
        var unknown = Assert.IsType<Outcome.Rejected>(OnboardClinicEndpoint.Decide(Command("riverside", database: "elsewhere"), null, databases, "shared"));
        Assert.Equal((422, "database"), (unknown.Status, unknown.Errors.Keys.Single()));

        var existing = Existing("riverside", "Riverside Infusion", "group");
        Assert.IsType<Outcome.Replayed>(OnboardClinicEndpoint.Decide(Command("riverside"), existing, databases, "shared"));
        Assert.IsType<Outcome.Replayed>(OnboardClinicEndpoint.Decide(Command("riverside", database: "group"), existing, databases, "shared"));
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(OnboardClinicEndpoint.Decide(Command("riverside", "Another name"), existing, databases, "shared")).Status);
        Assert.Equal(409, Assert.IsType<Outcome.Rejected>(OnboardClinicEndpoint.Decide(Command("riverside", database: "shared"), existing, databases, "shared")).Status);
    }

    [Fact]
    public void an_administrator_sets_the_clinics_they_work_for_and_leaves_the_account_s_others()
    {
        var user = new UserAccount { Id = Guid.NewGuid(), Email = "x@test.local", Clinics = ["north", "east"] };
        var changed = Assert.IsType<Outcome.Accepted>(ChangeClinicsEndpoint.Decide(user, ["west"], ["north", "west"], DateTimeOffset.UnixEpoch));
        // "east" is not the administrator's to take; "north" is theirs and was left out; "west" is added.
        Assert.Equal(["east", "west"], ((Saved<UserAccount>)changed.Answer!).Document.Clinics);
        Assert.Equal(["north", "east"], user.Clinics);
        Assert.IsType<Outcome.Replayed>(ChangeClinicsEndpoint.Decide(user, ["north"], ["north"], DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public async Task an_onboarded_clinic_is_empty_its_own_and_its_administrator_works_for_it()
    {
        var code = $"riverside_{Guid.NewGuid():N}"[..24];
        var created = await Fixture.Post<ClinicView>("/api/clinics", new OnboardClinic(code, "Riverside Infusion", ClinicDatabases.Group, null), 201, As.Admin);
        Assert.Equal((code, "Riverside Infusion", ClinicDatabases.Group), (created.Code, created.Name, created.Database));
        // The same again: nothing changes; another name under the code: 409.
        Assert.Equal(created, await Fixture.Post<ClinicView>("/api/clinics", new OnboardClinic(code, "Riverside Infusion", null, null), 200, As.Admin));
        await Fixture.Call(As.Admin, s =>
        {
            s.Post.Json(new OnboardClinic(code, "Riverside Two", null, null)).ToUrl("/api/clinics");
            s.StatusCodeShouldBe(409);
        });
        Assert.Contains(await Fixture.Get<List<ClinicView>>("/api/clinics", As.Admin), c => c.Code == code);
        Assert.Contains(await Fixture.Get<List<ClinicDatabaseView>>("/api/clinics/databases", As.Admin), d => d.Id == ClinicDatabases.Group && d.Clinics >= 2);

        // The onboarding administrator works for it now, and hands it to a billing administrator, who sees an empty clinic.
        var admin = (await Fixture.Get<CurrentUser>("/api/auth/me", As.Admin)).Id;
        Assert.Contains(code, (await Fixture.Get<UserView>($"/api/users/{admin}", As.Admin)).Clinics);
        var biller = await Fixture.CreateUserAsync(Roles.BillingAdmin);
        var moved = await Fixture.Call(As.Admin, s =>
        {
            s.Put.Json(new ChangeClinics([AppFixture.Clinic, code])).ToUrl($"/api/users/{biller.Id}/clinics");
            s.StatusCodeShouldBeOk();
        });
        Assert.Equal([AppFixture.Clinic, code], (await moved.ReadAsJsonAsync<UserView>())!.Clinics);
        var patientInA = await Fixture.RegisteredPatient("Ada", "Clinica");
        var token = await TokenAsync(biller.Email, code);
        var me = await Get<CurrentUser>(token, "/api/auth/me");
        Assert.Equal(code, me.Clinic);
        Assert.Contains(me.Clinics, c => c.Code == code && c.Name == "Riverside Infusion");
        Assert.Equal(0, (await Get<PatientPage>(token, "/api/patients")).TotalCount);
        Assert.Equal(404, await Fixture.StatusWithTokenAsync(token, $"/api/patients/{patientInA}/balance"));
    }

    [Fact]
    public async Task bad_onboarding_is_refused_naming_the_field_and_writes_nothing()
    {
        foreach (var (body, status, field) in new (OnboardClinic Body, int Status, string Field)[]
                 {
                     (new OnboardClinic("Bad-Code", "Name", null, null), 400, "code"),
                     (new OnboardClinic("x", "Name", null, null), 400, "code"),
                     (new OnboardClinic("good_code", "", null, null), 400, "name"),
                     (new OnboardClinic("good_code", "Name", "nowhere", null), 422, "database"),
                     (new OnboardClinic("good_code", "Name", null, new SetClinicProfile("Name", ["1 Main St"], null, "123", null, null, null)), 400, "profile.npi")
                 })
        {
            var result = await Fixture.Call(As.Admin, s =>
            {
                s.Post.Json(body).ToUrl("/api/clinics");
                s.StatusCodeShouldBe(status);
            });
            Assert.Contains($"\"{field}\"", await result.ReadAsTextAsync(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(await Fixture.Get<List<ClinicView>>("/api/clinics", As.Admin), c => c.Code == "good_code");
        await Fixture.Call(As.Billing, s =>
        {
            s.Post.Json(new OnboardClinic("billing_try", "Name", null, null)).ToUrl("/api/clinics");
            s.StatusCodeShouldBe(403);
        });
    }

    [Fact]
    public async Task a_token_acts_for_one_of_the_account_s_clinics_and_taking_a_clinic_away_revokes_it()
    {
        var biller = await Fixture.CreateUserAsync(Roles.BillingAdmin);
        Assert.Equal([AppFixture.Clinic], biller.Clinics);
        var refused = await Fixture.Host.Scenario(s =>
        {
            s.Post.Json(new TokenRequest(biller.Email, AccountTools.Password, null, AppFixture.OtherClinic)).ToUrl("/api/auth/token");
            s.StatusCodeShouldBe(403);
        });
        Assert.Contains("clinic", await refused.ReadAsTextAsync(), StringComparison.Ordinal);

        // An administrator gives only their own clinics.
        await Fixture.Call(As.Admin, s =>
        {
            s.Put.Json(new ChangeClinics(["no_such_clinic"])).ToUrl($"/api/users/{biller.Id}/clinics");
            s.StatusCodeShouldBe(422);
        });
        await Fixture.Call(As.Admin, s =>
        {
            s.Put.Json(new ChangeClinics([AppFixture.Clinic, AppFixture.OtherClinic])).ToUrl($"/api/users/{biller.Id}/clinics");
            s.StatusCodeShouldBeOk();
        });
        var inB = await TokenAsync(biller.Email, AppFixture.OtherClinic);
        Assert.Equal(200, await Fixture.StatusWithTokenAsync(inB, "/api/patients"));

        await Fixture.Call(As.Admin, s =>
        {
            s.Put.Json(new ChangeClinics([AppFixture.Clinic])).ToUrl($"/api/users/{biller.Id}/clinics");
            s.StatusCodeShouldBeOk();
        });
        Assert.Equal(401, await Fixture.StatusWithTokenAsync(inB, "/api/patients"));
        Assert.Equal(200, await Fixture.StatusWithTokenAsync(await TokenAsync(biller.Email, AppFixture.Clinic), "/api/patients"));
    }

    [Fact]
    public async Task an_administrator_sees_and_manages_only_the_accounts_of_their_own_clinics()
    {
        // A clinic-B user, made by the administrator of both clinics; an administrator of clinic A alone.
        var inB = await Fixture.Post<UserView>("/api/users", new CreateUser(Guid.NewGuid(), $"b-{Guid.NewGuid():N}@test.local", "Clinic B Staff",
            [Roles.Finance], null, AccountTools.Password, [AppFixture.OtherClinic]), 201, As.Admin);
        var adminA = await Fixture.Post<UserView>("/api/users", new CreateUser(Guid.NewGuid(), $"admin-a-{Guid.NewGuid():N}@test.local", "Clinic A Admin",
            [Roles.Administrator], null, AccountTools.Password, [AppFixture.Clinic]), 201, As.Admin);
        var token = await TokenAsync(adminA.Email, AppFixture.Clinic);

        Assert.Equal(404, await Fixture.StatusWithTokenAsync(token, $"/api/users/{inB.Id}"));
        Assert.DoesNotContain(await Get<List<UserView>>(token, "/api/users"), u => u.Id == inB.Id);
        Assert.Contains(await Get<List<UserView>>(token, "/api/users"), u => u.Id == adminA.Id);
        var disable = await Fixture.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Post.Json(new { }).ToUrl($"/api/users/{inB.Id}/disable");
            s.StatusCodeShouldBe(404);
        });
        Assert.False((await Fixture.Get<UserView>($"/api/users/{inB.Id}", As.Admin)).Disabled);
    }

    [Fact]
    public async Task an_employer_account_works_for_exactly_the_clinic_of_its_employer()
    {
        await Fixture.ResetDataAsync();
        var employer = (await Fixture.Post<KetamineBilling.Features.Employers.EmployerCreated>("/api/employers",
            new KetamineBilling.Features.Employers.CreateEmployer("Clinic Employer", null, 300m, null, null, null, null))).Id;
        var result = await Fixture.Call(As.Admin, s =>
        {
            s.Post.Json(new CreateUser(Guid.NewGuid(), $"hr-{Guid.NewGuid():N}@test.local", "HR", [Roles.Employer], employer, AccountTools.Password,
                [AppFixture.Clinic, AppFixture.OtherClinic])).ToUrl("/api/users");
            s.StatusCodeShouldBe(422);
        });
        Assert.Contains("\"clinics\"", await result.ReadAsTextAsync(), StringComparison.Ordinal);
    }

    private async Task<string> TokenAsync(string email, string clinic)
    {
        var result = await Fixture.Host.Scenario(s =>
        {
            s.Post.Json(new TokenRequest(email, AccountTools.Password, null, clinic)).ToUrl("/api/auth/token");
            s.StatusCodeShouldBeOk();
        });
        return (await result.ReadAsJsonAsync<TokenResponse>())!.AccessToken;
    }

    private async Task<T> Get<T>(string token, string url)
    {
        var result = await Fixture.Host.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Get.Url(url);
            s.StatusCodeShouldBeOk();
        });
        return (await result.ReadAsJsonAsync<T>())!;
    }
}
