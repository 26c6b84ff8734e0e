using System.Text.Json.Serialization;

namespace KetamineBilling.Infrastructure;

/// <summary>Reads the kebab-case names the API uses for enums, with a field-specific error for anything else.</summary>
public static class ApiEnum
{
    public static T? Parse<T>(ValidationProblems problems, string field, string? value, bool required = true) where T : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                problems.Add(field, $"is required: one of {string.Join(", ", Names<T>())}");
            }

            return null;
        }

        foreach (var member in Enum.GetValues<T>())
        {
            if (string.Equals(Name(member), value.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return member;
            }
        }

        problems.Add(field, $"must be one of {string.Join(", ", Names<T>())}");
        return null;
    }

    public static string Name<T>(T member) where T : struct, Enum =>
        typeof(T).GetField(member.ToString())!.GetCustomAttributes(typeof(JsonStringEnumMemberNameAttribute), false)
            .OfType<JsonStringEnumMemberNameAttribute>().FirstOrDefault()?.Name ?? member.ToString();

    public static IEnumerable<string> Names<T>() where T : struct, Enum => Enum.GetValues<T>().Select(m => Name(m));
}
