using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using KetamineBilling.Features.Auth;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// The built app as a process of its own (the fault tests kill it with SIGKILL and start it again), on a free port,
/// in database schemas of its own beside the other tests' hosts.
/// </summary>
/// <param name="settings">Settings over the defaults (environment variable names: <c>Marten__DaemonMode</c>).</param>
public sealed class AppProcess(string connectionString, string schema, IReadOnlyDictionary<string, string>? settings = null) : IAsyncDisposable
{
    public const string Email = "faults@test.local";

    /// <summary>The clinic of a process's own schemas (its account works for it).</summary>
    public const string Clinic = "faults";
    public const string Password = "Fault-pass-1";

    private readonly int _port = FreePort();
    private Process? _process;

    public Uri BaseAddress => new($"http://127.0.0.1:{_port}");

    /// <summary>What the app wrote (its console log), for a failing test to show.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; } = new();

    /// <summary>The errors the app logged: the lines that name an exception.</summary>
    public string Errors() => string.Join("\n", Output.Where(l => l.Contains("Exception", StringComparison.Ordinal) && !l.TrimStart().StartsWith("at ", StringComparison.Ordinal)).Distinct().Take(12));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The app's own build output (ops/test.sh builds the whole solution, in the tests' configuration).</summary>
    private static string AppDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KetamineBilling.sln"))) dir = dir.Parent;
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        return Path.Combine(dir!.FullName, "src", "KetamineBilling", "bin", configuration, "net10.0", "KetamineBilling.dll");
    }

    private ProcessStartInfo Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(AppDll())!, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(AppDll());
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        info.Environment["ConnectionStrings__Marten"] = connectionString;
        info.Environment["Marten__Schema"] = schema;
        info.Environment["Wolverine__Schema"] = schema + "_wolverine";
        info.Environment["Marten__DaemonMode"] = "Solo";
        info.Environment["Logging__Console"] = "true";
        info.Environment["KB_USER_PASSWORD"] = Password;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) info.Environment[key] = value;
        return info;
    }

    /// <summary>Creates the billing account this process's clients sign in with (the app's add-user command).</summary>
    /// <param name="clinic">A clinic the database holds already (a restored one); else the process's own is onboarded.</param>
    public async Task AddUserAsync(string? clinic = null)
    {
        if (clinic is null)
        {
            using var onboard = Process.Start(Start("add-clinic", Clinic, "Fault tests clinic"))!;
            await onboard.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(onboard.ExitCode == 0, $"add-clinic failed: {await onboard.StandardError.ReadToEndAsync()} {await onboard.StandardOutput.ReadToEndAsync()}");
        }

        using var process = Process.Start(Start("add-user", Email, "BillingAdmin", "--name", "Fault tests", "--clinics", clinic ?? Clinic))!;
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"add-user failed: {await process.StandardError.ReadToEndAsync()} {await process.StandardOutput.ReadToEndAsync()}");
    }

    public async Task StartAsync()
    {
        _process = Process.Start(Start("--urls", BaseAddress.ToString()))!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) Output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Output.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var probe = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if ((await probe.GetAsync("/health/live")).IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            Assert.False(_process.HasExited, $"the app exited with {(_process.HasExited ? _process.ExitCode : 0)}");
            Assert.True(DateTime.UtcNow < deadline, "the app did not answer within 60 s");
            await Task.Delay(200);
        }
    }

    /// <summary>SIGKILL: no shutdown, no flush, like a power cut.</summary>
    public async Task KillAsync()
    {
        _process!.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async Task<HttpClient> ClientAsync()
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        var token = await (await client.PostAsJsonAsync("/api/auth/token", new TokenRequest(Email, Password))).Content.ReadFromJsonAsync<TokenResponse>();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token!.AccessToken);
        return client;
    }

    /// <summary>A client of this process that sends a token issued elsewhere (by another node).</summary>
    public HttpClient ClientWith(AuthenticationHeaderValue? authorization) =>
        new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(5), DefaultRequestHeaders = { Authorization = authorization } };

    /// <summary>Whether the process is still running (not killed, not exited).</summary>
    public bool Running => _process is { HasExited: false };


    /// <summary>Creates the account, starts the app and prices 96365 (450.00) with a provider: a client ready for sessions.</summary>
    public async Task<HttpClient> StartPricedAsync(string providerId, DateOnly today)
    {
        await AddUserAsync();
        await StartAsync();
        var api = await ClientAsync();
        var ct = TestContext.Current.CancellationToken;
        (await api.PutAsJsonAsync("/api/fee-schedule/96365", new KetamineBilling.Features.Fees.SetFeePrice("IV infusion", 450m, today.AddYears(-1)), ClientCommands.Json, ct)).EnsureSuccessStatusCode();
        (await api.PutAsJsonAsync($"/api/providers/{providerId}", new KetamineBilling.Features.Providers.SetProvider("Fault Provider", "1234567893", "MD"), ClientCommands.Json, ct)).EnsureSuccessStatusCode();
        return api;
    }


    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false }) await KillAsync();
        _process?.Dispose();
    }
}
