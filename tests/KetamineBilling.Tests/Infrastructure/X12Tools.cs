using System.Diagnostics;
using System.Text.Json;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>A third-party X12 reader (node-x12, strict) run on a file, for checking what the app writes.</summary>
public static class ThirdPartyX12Reader
{
    public sealed record Segment(string Tag, string[] Elements);

    public sealed record Transaction(string Code, string Control, Segment[] Segments);

    public sealed record Result(bool Ok, string? Error, int Groups, Transaction[]? Transactions);

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KetamineBilling.sln"))) dir = dir.Parent;
        return dir!.FullName;
    }

    public static async Task<Result> ReadAsync(string x12)
    {
        var reader = Path.Combine(RepositoryRoot(), "tests", "x12-reader");
        Assert.True(Directory.Exists(Path.Combine(reader, "node_modules", "node-x12")),
            "node-x12 is not installed: ops/test.sh runs `npm ci` in tests/x12-reader");
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, x12);
        try
        {
            var start = new ProcessStartInfo("node", $"read.js \"{file}\"") { WorkingDirectory = reader, RedirectStandardOutput = true };
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return JsonSerializer.Deserialize<Result>(output, JsonSerializerOptions.Web)!;
        }
        finally
        {
            File.Delete(file);
        }
    }
}
