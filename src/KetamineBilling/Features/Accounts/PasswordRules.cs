using System.Reflection;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Accounts;

/// <summary>
/// The rules every new password meets, wherever it is set (an administrator creating an account or resetting its
/// password, a user changing their own, the add-user command): at least 12 characters, not the user name (the
/// email or its local part, ignoring case), and not one of the common passwords shipped with the app.
/// </summary>
/// <remarks>
/// The list (<c>common-passwords.txt</c>, 49,233 entries, lower-cased, most frequent first) is the password
/// dictionary of the npm package @zxcvbn-ts/language-common 4.1.3 (MIT, see common-passwords.LICENSE.txt), itself
/// built from leaked-password frequency lists. It is compared ignoring case.
/// </remarks>
public static class PasswordRules
{
    public const int MinimumLength = 12;

    /// <summary>Longer passwords add nothing and cost hashing time: refused at 128.</summary>
    public const int MaximumLength = 128;

    private static readonly Lazy<HashSet<string>> Common = new(Load);

    public static int CommonPasswordCount => Common.Value.Count;

    /// <summary>Each rule the password breaks, in words a person can act on; empty when it is acceptable.</summary>
    public static IReadOnlyList<string> Check(string? password, string? email)
    {
        var broken = new List<string>();
        if (string.IsNullOrEmpty(password))
        {
            broken.Add("is required");
            return broken;
        }

        if (password.Length < MinimumLength) broken.Add($"must have at least {MinimumLength} characters");
        if (password.Length > MaximumLength) broken.Add($"must have at most {MaximumLength} characters");
        if (!string.IsNullOrWhiteSpace(email))
        {
            var trimmed = email.Trim();
            var at = trimmed.IndexOf('@');
            var local = at > 0 ? trimmed[..at] : trimmed;
            if (string.Equals(password, trimmed, StringComparison.OrdinalIgnoreCase) || string.Equals(password, local, StringComparison.OrdinalIgnoreCase))
                broken.Add("must not be the user name");
        }

        if (IsCommon(password)) broken.Add("is one of the most common passwords: choose another");
        return broken;
    }

    public static void Validate(ValidationProblems problems, string field, string? password, string? email)
    {
        foreach (var rule in Check(password, email)) problems.Add(field, rule);
    }

    public static bool IsCommon(string password) => Common.Value.Contains(password.Trim().ToLowerInvariant());

    private static HashSet<string> Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("KetamineBilling.CommonPasswords.txt")
            ?? throw new InvalidOperationException("The embedded list of common passwords is missing.");
        using var reader = new StreamReader(stream);
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0) set.Add(line);
        }

        return set;
    }
}
