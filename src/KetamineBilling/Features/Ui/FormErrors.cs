using System.Text.RegularExpressions;

namespace KetamineBilling.Features.Ui;

/// <summary>
/// A form's errors in a billing clerk's words (issue 21): each next to its field ("First name is required"), once. The API
/// names fields in its own terms (<c>firstName</c>, <c>address.postalCode</c>); a form says which of them it shows and
/// under what label. A problem no field of the form shows is the form's own message (<see cref="Form"/>).
/// </summary>
public sealed partial class FormErrors
{
    private readonly Dictionary<string, string> _labels;
    private readonly Dictionary<string, string> _fields = new(StringComparer.Ordinal);

    /// <param name="labels">The API's field name and the label the form shows for it.</param>
    public FormErrors(params (string Field, string Label)[] labels) =>
        _labels = labels.ToDictionary(l => l.Field, l => l.Label, StringComparer.Ordinal);

    /// <summary>The message for the whole form: a problem that belongs to no field of it.</summary>
    public string? Form { get; private set; }

    public bool Any => _fields.Count > 0 || Form is not null;

    public bool Has(string field) => _fields.ContainsKey(field);

    /// <summary>The field's message, or null.</summary>
    public string? this[string field] => _fields.GetValueOrDefault(field);

    public void Clear()
    {
        _fields.Clear();
        Form = null;
    }

    /// <summary>A message of the form's own (a check made before sending), in full words.</summary>
    public void Set(string field, string message) => _fields[field] = message;

    /// <summary>Shows what the API refused: each field's rule at its field, the rest as the form's message.</summary>
    public void Show<T>(ApiResult<T> result) => Show(result.Errors, result.Problem);

    public void Show(FormResult result) => Show(result.Errors, result.Error);

    private void Show(IReadOnlyDictionary<string, string[]>? errors, string? problem)
    {
        Clear();
        if (errors is not { Count: > 0 })
        {
            Form = problem;
            return;
        }

        var rest = new List<string>();
        foreach (var (field, rules) in errors)
        {
            if (_labels.TryGetValue(field, out var label)) _fields[field] = Sentence(label, rules);
            else rest.Add(Sentence(Words(field), rules));
        }

        Form = rest.Count > 0 ? string.Join(" · ", rest) : null;
    }

    /// <summary>"First name" and ["is required"]: "First name is required".</summary>
    public static string Sentence(string label, IEnumerable<string> rules) =>
        $"{label} {string.Join("; ", rules.Select(r => FormatHint().Replace(r, "").Trim()).Distinct())}";

    /// <summary>An API field name in words: <c>firstName</c> "First name", <c>lines[1].units</c> "Line 2 units", <c>address.postalCode</c> "ZIP code".</summary>
    public static string Words(string field)
    {
        var parts = new List<string>();
        foreach (var segment in field.Split('.'))
        {
            var indexed = Indexed().Match(segment);
            var name = indexed.Success ? indexed.Groups[1].Value : segment;
            if (name == "address" && field.Contains('.')) continue;
            var words = Known.TryGetValue(name, out var known) ? known : Camel().Replace(name, " $1").ToLowerInvariant();
            if (indexed.Success)
            {
                words = (words.EndsWith('s') ? words[..^1] : words) + " " + (int.Parse(indexed.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture) + 1);
            }

            parts.Add(words);
        }

        var text = string.Join(" ", parts);
        return text.Length == 0 ? field : char.ToUpperInvariant(text[0]) + text[1..];
    }

    private static readonly Dictionary<string, string> Known = new(StringComparer.Ordinal)
    {
        ["postalCode"] = "ZIP code", ["line1"] = "address line 1", ["line2"] = "address line 2", ["dateOfBirth"] = "date of birth",
        ["olderThanDays"] = "older than (days)", ["receivedOn"] = "received on", ["durationMinutes"] = "duration (minutes)",
        ["plannedSessions"] = "planned sessions", ["diagnosisCodes"] = "diagnosis codes", ["sessionIds"] = "sessions"
    };

    [GeneratedRegex(@"^(\w+)\[(\d+)\]$")]
    private static partial Regex Indexed();

    [GeneratedRegex("(?<=[a-z0-9])([A-Z])")]
    private static partial Regex Camel();

    /// <summary>The API's hint of its own wire format, which a clerk does not type: " (yyyy-MM-dd)".</summary>
    [GeneratedRegex(@"\s*\(yyyy-MM-dd\)")]
    private static partial Regex FormatHint();
}

/// <summary>The checks a form makes on a number field before it sends anything: the value stays as typed, the field says why (issue 21).</summary>
public static class MoneyField
{
    /// <summary>True (and the field's message set) when the amount is missing, not above zero, or has more than two decimals.</summary>
    public static bool Refuse(FormErrors errors, string field, string label, decimal? amount, bool required = true)
    {
        var message = amount switch
        {
            null when required => $"{label} is required",
            null => null,
            <= 0 => $"{label} must be more than {Fmt.Money(0m)}",
            { } a when decimal.Round(a, 2) != a => $"{label} must be in whole cents",
            _ => null
        };
        if (message is not null) errors.Set(field, message);
        return message is not null;
    }

    /// <summary>True (and the field's message set) when a whole number is missing or outside [min, max].</summary>
    public static bool RefuseCount(FormErrors errors, string field, string label, int? value, int min, int? max = null, bool required = true)
    {
        var message = value switch
        {
            null when required => $"{label} is required",
            null => null,
            { } v when v < min || v > max => max is { } m ? $"{label} must be from {min} to {m}" : $"{label} must be {min} or more",
            _ => null
        };
        if (message is not null) errors.Set(field, message);
        return message is not null;
    }
}
