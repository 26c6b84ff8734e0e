using System.Text.Json.Serialization;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Patients;

public static class Money
{
    public const decimal Max = 1_000_000m;

    /// <summary>Cents, half away from zero: the one rounding rule wherever a share or percentage is computed.</summary>
    public static decimal Round(decimal amount) => Math.Round(amount, 2, MidpointRounding.AwayFromZero);

    /// <summary>An amount a caller sends: more than zero, at most two decimals.</summary>
    public static void RequirePositive(this ValidationProblems problems, string field, decimal? value)
    {
        if (value is not { } amount)
        {
            problems.Add(field, "is required");
        }
        else if (amount <= 0 || amount > Max || decimal.Round(amount, 2) != amount)
        {
            problems.Add(field, $"must be more than 0 and at most {Max} with at most two decimals");
        }
    }
}

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

/// <summary>How money is spread over charge lines.</summary>
public static class Allocation
{
    /// <summary>Fills each target's open patient amount in order until the amount runs out.</summary>
    public static List<LineAmount> Fill(IEnumerable<(AccountSession Session, AccountLine Line)> targets, decimal amount)
    {
        var allocations = new List<LineAmount>();
        foreach (var (session, line) in targets)
        {
            if (amount <= 0)
            {
                break;
            }

            var take = Math.Min(amount, line.Open.Patient);
            if (take <= 0)
            {
                continue;
            }

            allocations.Add(new LineAmount(session.SessionId, line.LineNumber, take));
            amount -= take;
        }

        return allocations;
    }

    /// <summary>
    /// Spreads an amount over lines in proportion to their open patient amounts, rounding each share to the
    /// cent and giving the rounding remainder to the last line, so the shares add up to the amount exactly.
    /// </summary>
    public static List<LineAmount> Prorate(IReadOnlyList<(AccountSession Session, AccountLine Line)> lines, decimal amount) =>
        Prorate(lines, amount, l => l.Open.Patient);

    /// <summary>The same, in proportion to (and capped at) any per-line weight.</summary>
    public static List<LineAmount> Prorate(IReadOnlyList<(AccountSession Session, AccountLine Line)> lines, decimal amount, Func<AccountLine, decimal> weight)
    {
        var open = lines.Sum(l => weight(l.Line));
        var allocations = new List<LineAmount>();
        if (open <= 0 || amount <= 0)
        {
            return allocations;
        }

        amount = Math.Min(amount, open);
        var remaining = amount;
        for (var i = 0; i < lines.Count; i++)
        {
            var (session, line) = lines[i];
            var share = i == lines.Count - 1
                ? remaining
                : Math.Min(Money.Round(amount * weight(line) / open), remaining);
            share = Math.Min(share, weight(line));
            if (share > 0)
            {
                allocations.Add(new LineAmount(session.SessionId, line.LineNumber, share));
                remaining -= share;
            }
        }

        // The last line may have had less room than the remainder: give what is left to any line with room.
        for (var i = 0; remaining > 0 && i < lines.Count; i++)
        {
            var (session, line) = lines[i];
            var used = allocations.Where(a => a.SessionId == session.SessionId && a.LineNumber == line.LineNumber).Sum(a => a.Amount);
            var room = weight(line) - used;
            if (room <= 0)
            {
                continue;
            }

            var take = Math.Min(room, remaining);
            allocations.Add(new LineAmount(session.SessionId, line.LineNumber, take));
            remaining -= take;
        }

        return allocations
            .GroupBy(a => (a.SessionId, a.LineNumber))
            .Select(g => new LineAmount(g.Key.SessionId, g.Key.LineNumber, g.Sum(a => a.Amount)))
            .ToList();
    }
}

/// <summary>A line the caller names for a payment, discount or write-off.</summary>
public record LineTarget(Guid SessionId, int? LineNumber);

public static class Targets
{
    /// <summary>
    /// The lines a caller named, checked: the session exists and is not voided, the line exists. Null when
    /// nothing was named (the rule's default order applies).
    /// </summary>
    public static List<(AccountSession Session, AccountLine Line)>? Resolve(
        PatientAccount account, IReadOnlyList<LineTarget>? named, string field, ValidationProblems problems)
    {
        if (named is not { Count: > 0 })
        {
            return null;
        }

        var lines = new List<(AccountSession, AccountLine)>();
        var seen = new HashSet<(Guid, int)>();
        void Take(int index, AccountSession session, AccountLine line)
        {
            // A line named twice would be paid, discounted or written off twice.
            if (!seen.Add((session.SessionId, line.LineNumber)))
            {
                problems.Add($"{field}[{index}]", $"names line {line.LineNumber} of session {session.SessionId} a second time");
                return;
            }

            lines.Add((session, line));
        }

        for (var i = 0; i < named.Count; i++)
        {
            if (named[i] is null)
            {
                problems.Add($"{field}[{i}]", "is required: {sessionId, lineNumber?}");
                continue;
            }

            var session = account.Session(named[i].SessionId);
            if (session is null)
            {
                problems.Add($"{field}[{i}].sessionId", "is not a session of this patient");
                continue;
            }

            if (session.Voided)
            {
                problems.Add($"{field}[{i}].sessionId", "is a voided session: nothing can be applied to it");
                continue;
            }

            if (named[i].LineNumber is { } number)
            {
                var line = session.Lines.FirstOrDefault(l => l.LineNumber == number);
                if (line is null)
                {
                    problems.Add($"{field}[{i}].lineNumber", $"is not a line of session {session.SessionId}");
                    continue;
                }

                Take(i, session, line);
            }
            else
            {
                foreach (var line in session.Lines.OrderBy(l => l.LineNumber))
                {
                    Take(i, session, line);
                }
            }
        }

        return lines;
    }
}

/// <summary>
/// A request's fingerprint: the same idempotency key with the same fingerprint is a replay, with another a
/// conflict. SHA-256 of the request as the API received it (its JSON form), so every field counts.
/// </summary>
public static class Fingerprint
{
    public static string Of(object request) =>
        Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(request, request.GetType())));
}

public static class ThirdPartyShares
{
    /// <summary>
    /// What a grant or sponsor newly paid per session, spread over that session's lines where the party still
    /// has an open amount, in line order.
    /// </summary>
    public static List<LineAmount> ToLines(PatientAccount account, IEnumerable<(Guid SessionId, decimal Added)> paid, ResponsibleParty party)
    {
        var allocations = new List<LineAmount>();
        foreach (var (sessionId, amount) in paid)
        {
            var added = amount;
            foreach (var line in account.Session(sessionId)!.Lines)
            {
                if (added <= 0) break;
                var take = Math.Min(added, line.Open[party]);
                if (take <= 0) continue;
                allocations.Add(new LineAmount(sessionId, line.LineNumber, take));
                added -= take;
            }
        }

        return allocations;
    }
}
