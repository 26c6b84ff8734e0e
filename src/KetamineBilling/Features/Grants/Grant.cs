using System.Text.Json.Serialization;
using KetamineBilling.Features.Employers;
using KetamineBilling.Features.Ledger;

namespace KetamineBilling.Features.Grants;

// The grant stream (one per award to a patient). It guards: applied never above the award (money or
// sessions); nothing after expiry; funds received once per reference and never above what was applied.

public enum GrantCoverage
{
    [JsonStringEnumMemberName("full")] Full,
    [JsonStringEnumMemberName("percentage")] Percentage,
    [JsonStringEnumMemberName("fixed-per-session")] FixedPerSession,
    [JsonStringEnumMemberName("fee-sharing")] FeeSharing
}

/// <param name="ClinicSharePercent">Fee sharing: the clinic reduces its fee by this share first.</param>
/// <param name="FoundationSharePercent">Fee sharing: the foundation pays this share of what remains.</param>
public record GrantRule(GrantCoverage Coverage, decimal? Percentage, decimal? FixedAmount, decimal? ClinicSharePercent, decimal? FoundationSharePercent);

public record GrantAwarded(
    Guid GrantId, Guid PatientId, string Organization, decimal? Amount, int? MaxSessions, GrantRule Rule, DateOnly ValidFrom, DateOnly ValidTo, DateTimeOffset AwardedAt);

/// <param name="ClinicReduction">Fee sharing: what the clinic gave up on this session.</param>
public record GrantApplied(
    Guid GrantId, Guid PatientId, Guid SessionId, DateOnly DeliveredOn, decimal Amount, IReadOnlyList<CommittedLine> Lines, decimal ClinicReduction, string? LimitedBy,
    DateTimeOffset AppliedAt);

/// <summary>The session was voided: its share returns to the award.</summary>
public record GrantReleased(Guid GrantId, Guid SessionId, string Reason, DateTimeOffset ReleasedAt);

public record GrantFundsReceived(Guid GrantId, string Reference, decimal Amount, DateOnly ReceivedOn, DateTimeOffset RecordedAt);

public sealed record GrantUse(Guid SessionId, DateOnly DeliveredOn, decimal Amount, decimal ClinicReduction, decimal Received);

public sealed class Grant
{
    public Guid Id { get; set; }
    public int Version { get; set; }
    public Guid PatientId { get; set; }
    public string Organization { get; set; } = "";
    public decimal? Amount { get; set; }
    public int? MaxSessions { get; set; }
    public GrantRule Rule { get; set; } = new(GrantCoverage.Full, null, null, null, null);
    public DateOnly ValidFrom { get; set; }
    public DateOnly ValidTo { get; set; }
    public List<GrantUse> Uses { get; set; } = [];
    public List<GrantFundsReceived> Funds { get; set; } = [];

    public decimal Applied => Uses.Sum(u => u.Amount);
    public decimal Received => Funds.Sum(f => f.Amount);
    public int SessionsUsed => Uses.Count(u => u.Amount > 0);
    public decimal? RemainingAmount => Amount is { } a ? a - Applied : null;
    public int? RemainingSessions => MaxSessions is { } m ? m - SessionsUsed : null;

    public static Grant Create(GrantAwarded e) => new()
    {
        Id = e.GrantId, PatientId = e.PatientId, Organization = e.Organization, Amount = e.Amount, MaxSessions = e.MaxSessions, Rule = e.Rule,
        ValidFrom = e.ValidFrom, ValidTo = e.ValidTo
    };

    public void Apply(GrantApplied e) => Uses.Add(new GrantUse(e.SessionId, e.DeliveredOn, e.Amount, e.ClinicReduction, 0));

    public void Apply(GrantReleased e) => Uses.RemoveAll(u => u.SessionId == e.SessionId);

    public void Apply(GrantFundsReceived e)
    {
        Funds.Add(e);
        // The oldest sessions are paid first.
        foreach (var (use, take) in Allocation.FillInOrder(Uses.ToList(), e.Amount, u => u.Amount - u.Received))
        {
            Uses[Uses.IndexOf(use)] = use with { Received = use.Received + take };
        }
    }
}

public static class GrantRules
{
    /// <summary>
    /// A session's split under a grant. Order: the clinic's fee-sharing reduction first, then the grant's share
    /// (full, a percentage, a fixed amount per session, or the foundation's share of the reduced fee), cut to what
    /// the award has left in money and sessions; the patient owes the rest. Nothing on or after expiry.
    /// </summary>
    public static (decimal Reduction, decimal Share, string? LimitedBy) Split(Grant grant, DateOnly deliveredOn, decimal charge)
    {
        if (deliveredOn < grant.ValidFrom || deliveredOn > grant.ValidTo) return (0, 0, "outside the award's dates");
        if (grant.RemainingSessions is <= 0) return (0, 0, "no sessions left");
        var rule = grant.Rule;
        var reduction = rule.Coverage == GrantCoverage.FeeSharing ? Money.Round(charge * (rule.ClinicSharePercent ?? 0) / 100m) : 0m;
        var rest = charge - reduction;
        var share = rule.Coverage switch
        {
            GrantCoverage.Full => rest,
            GrantCoverage.Percentage => Money.Round(rest * (rule.Percentage ?? 0) / 100m),
            GrantCoverage.FixedPerSession => Math.Min(rule.FixedAmount ?? 0, rest),
            _ => Money.Round(rest * (rule.FoundationSharePercent ?? 0) / 100m)
        };
        string? limitedBy = null;
        if (grant.RemainingAmount is { } left && share > left)
        {
            share = Math.Max(left, 0);
            limitedBy = "award amount used up";
        }

        return (reduction, share, limitedBy);
    }

    /// <summary>Spreads an amount over lines in proportion to their charges; the last line takes the rounding (<see cref="Allocation.Prorate"/>).</summary>
    public static List<CommittedLine> Spread(IReadOnlyList<ChargeLine> lines, decimal amount) =>
        Allocation.Prorate(lines, amount, l => l.Amount).Select(x => new CommittedLine(x.Item.LineNumber, x.Amount)).ToList();
}
