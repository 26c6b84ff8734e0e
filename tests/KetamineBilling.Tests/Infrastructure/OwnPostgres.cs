using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>A PostgreSQL cluster of a test's own (ops/postgres.sh on its own folder and port), to stop and start at will.</summary>
public sealed class OwnPostgres : IAsyncDisposable
{
    private readonly string _base = Path.Combine(Path.GetTempPath(), $"kb-pg-{Guid.NewGuid():N}"[..18]);
    private readonly int _port;

    public OwnPostgres()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _port = ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(dir!.FullName, "KetamineBilling.sln"))) dir = dir.Parent;
        return dir.FullName;
    }

    private async Task<string> Run(params string[] arguments)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root() };
        info.ArgumentList.Add(Path.Combine(Root(), "ops", "postgres.sh"));
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment["KB_PG_MODE"] = "local";
        info.Environment["KB_PG_PORT"] = _port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["KB_PG_BASE"] = _base;
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"ops/postgres.sh {string.Join(' ', arguments)}: {errors}");
        return output.Trim();
    }

    /// <summary>Starts the cluster with a database and returns its connection string.</summary>
    public async Task<string> StartAsync(string database)
    {
        Directory.CreateDirectory(_base);
        await Run("start");
        await Run("ensure-db", database);
        return await Run("url", database);
    }

    public Task StopAsync() => Run("stop");

    public Task StartAgainAsync() => Run("start");

    public async ValueTask DisposeAsync()
    {
        try { await Run("stop"); } catch (Exception) { /* the folder goes anyway */ }
        try { Directory.Delete(_base, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
