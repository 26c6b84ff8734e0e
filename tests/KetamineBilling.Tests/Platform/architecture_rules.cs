using System.Reflection;
using System.Text.RegularExpressions;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Tests.Platform;

/// <summary>
/// Issue 14: the shape every area keeps, checked on the source (src/KetamineBilling) and on the compiled assembly, without
/// a host. Each failure names exactly the files (with lines) or types that break the rule.
/// </summary>
public class architecture_rules
{
    private static readonly Assembly App = typeof(Outcome).Assembly;

    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KetamineBilling.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException($"no KetamineBilling.sln above {AppContext.BaseDirectory}");
    });

    private static string Src => Path.Combine(Root.Value, "src", "KetamineBilling");

    private static string Features => Path.Combine(Src, "Features");

    /// <summary>A source file: its path from the repository root, its area (the Features folder it is in; null outside Features) and its lines.</summary>
    private sealed record SourceFile(string Path, string? Area, string[] Lines)
    {
        public string Text => string.Join('\n', Lines);
    }

    private static readonly Lazy<IReadOnlyList<SourceFile>> Sources = new(() =>
        Directory.EnumerateFiles(Src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Relative(f, Src).StartsWith("Internal/", StringComparison.Ordinal)
                        && !Relative(f, Src).StartsWith("obj/", StringComparison.Ordinal) && !Relative(f, Src).StartsWith("bin/", StringComparison.Ordinal))
            .Select(f => new SourceFile(Relative(f, Root.Value), AreaOf(f), File.ReadAllLines(f)))
            .ToList());

    private static string Relative(string path, string from) => System.IO.Path.GetRelativePath(from, path).Replace('\\', '/');

    private static string? AreaOf(string file)
    {
        var relative = Relative(file, Features);
        return relative.StartsWith("..", StringComparison.Ordinal) || !relative.Contains('/') ? null : relative[..relative.IndexOf('/')];
    }

    private static IEnumerable<(SourceFile File, int Line)> Matches(SourceFile file, Regex pattern) =>
        file.Lines.Select((text, i) => (text, i)).Where(l => pattern.IsMatch(l.text)).Select(l => (file, l.i + 1));

    private static string List(IEnumerable<string> offenders) => string.Join("\n", offenders.Select(o => "  " + o));

    /// <summary>
    /// The event types Marten knows: what the aggregates and projections of Features take in their public Create, Apply
    /// and Project methods (the first parameter, or T of IEvent&lt;T&gt;), when declared in the application itself.
    /// </summary>
    internal static IReadOnlyList<Type> EventTypes() =>
        App.GetTypes()
            .Where(t => t.Namespace?.StartsWith("KetamineBilling.Features.", StringComparison.Ordinal) == true)
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.Name is "Create" or "Apply" or "Project" && m.GetParameters().Length > 0)
            .Select(m => m.GetParameters()[0].ParameterType)
            .Select(p => p.IsGenericType && p.GetGenericTypeDefinition().Name == "IEvent`1" ? p.GetGenericArguments()[0] : p)
            .Where(p => p.Assembly == App && p.Namespace?.StartsWith("KetamineBilling.Features.", StringComparison.Ordinal) == true && !p.IsInterface)
            .Distinct()
            .OrderBy(p => p.FullName, StringComparer.Ordinal)
            .ToList();

    /// <summary>The area that owns a type: the Features folder of the file that declares it (its namespace when no file says).</summary>
    private static string OwnerOf(Type type)
    {
        var declaration = new Regex($@"\b(record|class|struct)\s+{Regex.Escape(type.Name)}\b");
        var declaredIn = Sources.Value.Where(f => f.Area is not null && f.Lines.Any(declaration.IsMatch)).Select(f => f.Area!).Distinct().ToList();
        return declaredIn.Count == 1 ? declaredIn[0] : type.Namespace!.Split('.')[2];
    }

    [Fact]
    public void the_event_types_are_found()
    {
        var events = EventTypes().Select(t => t.Name).ToList();
        Assert.Contains("FeePriceSet", events);
        Assert.Contains("DepositRecorded", events);
        Assert.Contains("DepositMatched", events);
        Assert.Contains("SessionDelivered", events);
        Assert.True(events.Count > 30, $"only {events.Count} event types found: {string.Join(", ", events)}");
    }

    [Fact]
    public void a_streams_events_are_made_only_by_its_own_area()
    {
        var offenders = new List<string>();
        foreach (var type in EventTypes())
        {
            var owner = OwnerOf(type);
            var construction = new Regex($@"\bnew\s+(?:[\w.]+\.)?{Regex.Escape(type.Name)}\s*\(");
            offenders.AddRange(Sources.Value.Where(f => f.Area != owner)
                .SelectMany(f => Matches(f, construction))
                .Select(m => $"{m.File.Path}:{m.Line} makes {type.Name} ({owner}'s event)"));
        }

        Assert.True(offenders.Count == 0, $"Events made outside the area that owns their stream ({offenders.Count}):\n{List(offenders)}");
    }

    [Fact]
    public void every_decide_is_called_from_a_test()
    {
        var tests = Directory.EnumerateFiles(Path.Combine(Root.Value, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal) && !f.EndsWith("architecture_rules.cs", StringComparison.Ordinal))
            .Select(File.ReadAllText)
            .ToList();
        var decides = App.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.Name == "Decide" && m.ReturnType == typeof(Outcome))
            .Select(m => m.DeclaringType!)
            .Distinct()
            .ToList();
        Assert.NotEmpty(decides);
        var missing = decides.Where(t => !tests.Any(text => text.Contains($"{t.Name}.Decide(", StringComparison.Ordinal)))
            .Select(t => $"{t.FullName}.Decide (no test calls {t.Name}.Decide()")
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToList();
        Assert.True(missing.Count == 0, $"Decide functions no test calls ({missing.Count}):\n{List(missing)}");
    }

    private static readonly Regex Route = new(@"\[Wolverine(Get|Post|Put|Delete|Patch)\s*\(");

    private static readonly Regex Handler = new(@"^\s*public\s+(static\s+)?(async\s+)?[\w<>\[\](),.?\s]*\s(Handle|HandleAsync|Consume|ConsumeAsync)\s*\(");

    [Fact]
    public void every_area_registers_itself_in_its_module_and_program_lists_the_modules()
    {
        var problems = new List<string>();
        var areas = Sources.Value.Where(f => f.Area is not null && f.Lines.Any(l => Route.IsMatch(l) || Handler.IsMatch(l)))
            .Select(f => f.Area!).Distinct().OrderBy(a => a, StringComparer.Ordinal);
        foreach (var area in areas)
        {
            if (!File.Exists(Path.Combine(Features, area, $"{area}Module.cs")))
                problems.Add($"src/KetamineBilling/Features/{area} has endpoints or handlers but no {area}Module.cs");
        }

        var program = File.ReadAllText(Path.Combine(Src, "Program.cs"));
        var addMethod = new Regex(@"public\s+static\s+void\s+(Add\w+)\s*\(\s*this\s+WebApplicationBuilder");
        foreach (var module in Sources.Value.Where(f => f.Area is not null && f.Path.EndsWith("Module.cs", StringComparison.Ordinal)))
        {
            foreach (Match add in addMethod.Matches(module.Text))
            {
                if (!program.Contains($"builder.{add.Groups[1].Value}();", StringComparison.Ordinal))
                    problems.Add($"{module.Path}: Program.cs does not call builder.{add.Groups[1].Value}()");
            }
        }

        var registration = new Regex(@"ConfigureMarten|[Ss]ervices\.Add|opts\.Projections");
        problems.AddRange(Sources.Value
            .Where(f => !(f.Area is not null && f.Path.EndsWith("Module.cs", StringComparison.Ordinal))
                        && !f.Path.StartsWith("src/KetamineBilling/Infrastructure/", StringComparison.Ordinal)
                        && f.Path != "src/KetamineBilling/Program.cs")
            .SelectMany(f => Matches(f, registration))
            .Select(m => $"{m.File.Path}:{m.Line} registers outside a Module file: {m.File.Lines[m.Line - 1].Trim()}"));
        Assert.True(problems.Count == 0, $"Registration out of place ({problems.Count}):\n{List(problems)}");
    }

    [Fact]
    public void claims_does_not_use_remittances()
    {
        var uses = new Regex(@"KetamineBilling\.Features\.Remittances\b");
        var offenders = Sources.Value.Where(f => f.Area == "Claims").SelectMany(f => Matches(f, uses)).Select(m => $"{m.File.Path}:{m.Line}").ToList();
        Assert.True(offenders.Count == 0, $"Claims uses Remittances ({offenders.Count}):\n{List(offenders)}");
    }

    [Fact]
    public void one_command_per_file()
    {
        var command = new Regex(@"\[Wolverine(Post|Put|Delete)\s*\(");
        var offenders = Sources.Value.Where(f => f.Area is not null)
            .Select(f => (File: f, Routes: Matches(f, command).Select(m => m.Line).ToList()))
            .Where(f => f.Routes.Count > 1)
            .Select(f => $"{f.File.Path} has {f.Routes.Count} command routes (lines {string.Join(", ", f.Routes)})")
            .ToList();
        Assert.True(offenders.Count == 0, $"Files with more than one command ({offenders.Count}):\n{List(offenders)}");
    }
}
