using KetamineBilling.Features.Ledger;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Patients;

/// <summary>How money is spread over a patient's charge lines: the ledger's rules (<see cref="Allocation"/>) on open amounts.</summary>
public static class LineAllocation
{
    /// <summary>Fills each target's open patient amount in order until the amount runs out.</summary>
    public static List<LineAmount> Fill(IEnumerable<(AccountSession Session, AccountLine Line)> targets, decimal amount) =>
        Fill(targets, amount, t => t.Line.Open.Patient);

    /// <summary>Fills each target's room (as the caller counts it) in order until the amount runs out.</summary>
    public static List<LineAmount> Fill(
        IEnumerable<(AccountSession Session, AccountLine Line)> targets, decimal amount, Func<(AccountSession Session, AccountLine Line), decimal> room) =>
        Allocation.FillInOrder(targets, amount, room)
            .Select(x => new LineAmount(x.Item.Session.SessionId, x.Item.Line.LineNumber, x.Amount)).ToList();

    /// <summary>Spreads an amount over lines in proportion to (and capped at) their open patient amounts.</summary>
    public static List<LineAmount> Prorate(IReadOnlyList<(AccountSession Session, AccountLine Line)> lines, decimal amount) =>
        Prorate(lines, amount, l => l.Open.Patient);

    /// <summary>The same, in proportion to (and capped at) any per-line weight.</summary>
    public static List<LineAmount> Prorate(IReadOnlyList<(AccountSession Session, AccountLine Line)> lines, decimal amount, Func<AccountLine, decimal> weight) =>
        Allocation.Prorate(lines, amount, l => weight(l.Line))
            .Select(x => new LineAmount(x.Item.Session.SessionId, x.Item.Line.LineNumber, x.Amount)).ToList();
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
