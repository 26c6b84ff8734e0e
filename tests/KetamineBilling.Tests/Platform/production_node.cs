using System.Diagnostics;
using Alba;
using KetamineBilling.Features.Auth;
using KetamineBilling.Features.Fees;
using KetamineBilling.Features.Patients;
using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// Production as deployed: the schema comes only from `resources setup` (the app does not evolve it), the
/// app checks it on start, and Wolverine runs the pre-generated code (TypeLoadMode.Static; ops/codegen.sh
/// check proves that code current, this proves it serves). Schemas of its own keep it apart from the run.
/// </summary>
public class production_node : IntegrationContext
{
    private readonly string _schema = $"prod_{Guid.NewGuid():N}"[..20];

    private readonly Dictionary<string, string> _settings;

    public production_node(AppFixture fixture) : base(fixture) => _settings = new()
    {
        ["ConnectionStrings__Marten"] = Fixture.ConnectionString,
        ["Marten__Schema"] = _schema,
        ["Wolverine__Schema"] = _schema + "_w",
        ["Marten__DaemonMode"] = "Disabled",
        ["Logging__Console"] = "false",
        ["ASPNETCORE_ENVIRONMENT"] = "Production"
    };

    private Dictionary<string, string> Settings => _settings;

    /// <summary>The app's own build output (its deps.json, not the test runner's), same configuration as the tests.</summary>
    private static string AppBinary()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = testBin.Parent!.Name;
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "KetamineBilling.sln")))
        {
            root = root.Parent;
        }

        var path = Path.Combine(root!.FullName, "src", "KetamineBilling", "bin", configuration, testBin.Name, "KetamineBilling.dll");
        Assert.True(File.Exists(path), $"the app is not built at {path}");
        return path;
    }

    private async Task<int> RunCommand(string arguments, string? password = null)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{AppBinary()}\" {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true
        };
        foreach (var (key, value) in Settings)
        {
            start.Environment[key] = value;
        }

        if (password is not null)
        {
            start.Environment["KB_USER_PASSWORD"] = password;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        TestContext.Current.TestOutputHelper?.WriteLine(await output + await errors);
        return process.ExitCode;
    }

    [Fact]
    public async Task after_resources_setup_a_production_node_serves_the_slice_from_pregenerated_code()
    {
        Assert.Equal(0, await RunCommand("resources setup"));
        Assert.Equal(0, await RunCommand("add-clinic prod \"Production Clinic\""));
        Assert.Equal(0, await RunCommand("add-user admin@prod.test BillingAdmin --name Admin --clinics prod", AppFixture.Password));

        await using var node = await AlbaHost.For<Program>(builder =>
        {
            builder.UseEnvironment("Production");
            foreach (var (key, value) in Settings.Where(s => s.Key != "ASPNETCORE_ENVIRONMENT"))
            {
                builder.UseSetting(key.Replace("__", ":"), value);
            }
        });
        var tokenResult = await node.Scenario(s => s.Post.Json(new TokenRequest("admin@prod.test", AppFixture.Password)).ToUrl("/api/auth/token"));
        var token = (await tokenResult.ReadAsJsonAsync<TokenResponse>())!.AccessToken;

        await node.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Put.Json(new SetFeePrice("IV infusion", 450m, new DateOnly(2025, 1, 1))).ToUrl("/api/fee-schedule/96365");
        });
        await node.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Put.Json(new SetProvider("Test Provider", "1234567893", "MD")).ToUrl($"/api/providers/{AppFixture.ProviderId}");
        });
        var created = await node.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Post.Json(new RegisterPatient("Prod", "Node", new DateOnly(1990, 1, 1), null, null)).ToUrl("/api/patients");
            s.StatusCodeShouldBe(201);
        });
        var patient = (await created.ReadAsJsonAsync<PatientCreated>())!.Id;
        await node.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Post.Json(Scenarios.Session()).ToUrl($"/api/patients/{patient}/sessions");
            s.StatusCodeShouldBe(201);
        });
        var balance = await node.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Get.Url($"/api/patients/{patient}/balance");
        });

        Assert.Equal(450m, (await balance.ReadAsJsonAsync<PatientBalance>())!.TotalCharged);

        // A Production node prepares the statements it repeats (ADR 0017): a second session and more reads run on
        // statements prepared by the first ones, and answer the same.
        Assert.Equal(100, new NpgsqlConnectionStringBuilder(node.Services.GetRequiredService<ClinicDatabases>().Master).MaxAutoPrepare);
        await node.Scenario(s =>
        {
            s.WithRequestHeader("Authorization", $"Bearer {token}");
            s.Post.Json(Scenarios.Session()).ToUrl($"/api/patients/{patient}/sessions");
            s.StatusCodeShouldBe(201);
        });
        for (var i = 0; i < 3; i++)
        {
            balance = await node.Scenario(s =>
            {
                s.WithRequestHeader("Authorization", $"Bearer {token}");
                s.Get.Url($"/api/patients/{patient}/balance");
            });
            Assert.Equal(900m, (await balance.ReadAsJsonAsync<PatientBalance>())!.TotalCharged);
        }
    }

    [Fact]
    public void automatic_preparation_is_added_unless_the_connection_string_says_otherwise()
    {
        const string Given = "Host=db;Database=kb;Username=kb_app";
        Assert.Equal(100, new NpgsqlConnectionStringBuilder(Persistence.WithAutoPrepare(Given)).MaxAutoPrepare);
        Assert.Equal(0, new NpgsqlConnectionStringBuilder(Persistence.WithAutoPrepare(Given + ";Max Auto Prepare=0")).MaxAutoPrepare);
        Assert.Equal(20, new NpgsqlConnectionStringBuilder(Persistence.WithAutoPrepare(Given + ";MaxAutoPrepare=20")).MaxAutoPrepare);
    }

    [Fact]
    public async Task add_user_refuses_a_short_password_an_unknown_role_and_an_employer_without_its_employer()
    {
        Assert.Equal(0, await RunCommand("resources setup"));

        Assert.NotEqual(0, await RunCommand("add-user someone@new.test Finance", "short"));
        // The password rules of every other place: 12 characters, not the user name, not a common password.
        Assert.NotEqual(0, await RunCommand("add-user someone@new.test Finance", "qwerty123456"));
        Assert.NotEqual(0, await RunCommand("add-user someone.else@new.test Finance", "someone.else@new.test"));
        Assert.NotEqual(0, await RunCommand("add-user someone@new.test Janitor", AppFixture.Password));
        Assert.NotEqual(0, await RunCommand("add-user someone@new.test Employer --clinics prod", AppFixture.Password));
        // Every account works for a clinic that exists.
        Assert.NotEqual(0, await RunCommand("add-user someone@new.test Finance", AppFixture.Password));
        Assert.NotEqual(0, await RunCommand("add-user someone@new.test Finance --clinics nowhere", AppFixture.Password));
        // A clinic's code is [a-z0-9_]: a bad one is refused before anything is written.
        Assert.NotEqual(0, await RunCommand("add-clinic Prod-1 \"Bad code\""));
        Assert.Equal(0, await RunCommand("add-clinic prod \"Production Clinic\""));
        Assert.Equal(0, await RunCommand("add-clinic prod \"Production Clinic\""));
        Assert.NotEqual(0, await RunCommand("add-clinic prod \"Another name\""));
        Assert.Equal(0, await RunCommand("add-user someone@new.test Finance --clinics prod", AppFixture.Password));
        Assert.NotEqual(0, await RunCommand("add-user someone@new.test Finance --clinics prod", AppFixture.Password));
    }

    public override async ValueTask DisposeAsync()
    {
        await TestSchemas.DropAsync(Fixture.ConnectionString, _schema, _schema + "_w");
    }
}
