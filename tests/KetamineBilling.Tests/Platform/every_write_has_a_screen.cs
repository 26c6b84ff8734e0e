using System.Text.RegularExpressions;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// Issue 15: every write the API offers to BillingAdmin has a screen. Each POST/PUT/DELETE route the "Roles and routes"
/// table of docs/api.md answers "ok" for BillingAdmin must be called by a page or dialog of the admin UI
/// (src/**/Pages/*.razor or the UI's shared components), found by its route template with its parameters filled in.
/// </summary>
public partial class every_write_has_a_screen
{
    /// <summary>Writes a billing administrator never makes from a screen, and why.</summary>
    private static readonly Dictionary<string, string> NotAScreen = new()
    {
        ["POST /api/auth/token"] = "the API's sign-in for programs; people sign in at /account/login",
    };

    private static DirectoryInfo Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "docs", "api.md")) && Directory.Exists(Path.Combine(dir.FullName, "src"))) return dir;
        }

        throw new DirectoryNotFoundException("the repository's root (docs/api.md) not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^\|\s*(POST|PUT|DELETE|PATCH)\s*\|\s*`(/api/[^`]+)`\s*\|([^|]*)\|([^|]*)\|")]
    private static partial Regex WriteRow();

    [GeneratedRegex(@"\\\{[^}]*\}")]
    private static partial Regex Parameter();

    [Fact]
    public void every_billing_admin_write_is_called_by_a_screen()
    {
        var root = Root();
        var writes = File.ReadAllLines(Path.Combine(root.FullName, "docs", "api.md"))
            .Select(line => WriteRow().Match(line))
            .Where(m => m.Success && m.Groups[4].Value.Trim() == "ok")
            .Select(m => (Method: m.Groups[1].Value, Route: m.Groups[2].Value))
            .Distinct()
            .ToList();
        Assert.True(writes.Count > 30, $"docs/api.md's table gave only {writes.Count} BillingAdmin writes: has its layout changed?");

        var ui = Directory.EnumerateFiles(Path.Combine(root.FullName, "src"), "*.razor", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(Path.Combine(root.FullName, "src", "KetamineBilling", "Features", "Ui"), "*.cs"))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(File.ReadAllText)
            .ToList();
        Assert.NotEmpty(ui);

        var missing = new List<string>();
        foreach (var (method, route) in writes)
        {
            if (NotAScreen.ContainsKey($"{method} {route}")) continue;
            // "/api/patients/{patientId}/void" is written "$\"/api/patients/{PatientId}/void\"" in a page: any interpolation per parameter.
            var pattern = new Regex("\"" + Parameter().Replace(Regex.Escape(route), @"\{[^}""]+\}") + @"[""?]");
            if (!ui.Any(text => pattern.IsMatch(text))) missing.Add($"{method} {route}");
        }

        Assert.True(missing.Count == 0, "BillingAdmin writes no screen calls:\n" + string.Join("\n", missing));
    }
}
