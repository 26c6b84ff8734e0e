using System.Text.Json.Serialization;
using KetamineBilling.Features.Claims;
using Marten;

namespace KetamineBilling.Features.Remittances;

/// <summary>What posting does with a payer's adjustment (a CAS group and reason code).</summary>
public enum AdjustmentTreatment
{
    /// <summary>Written off as the contract's reduction (CO-45, CO-253...).</summary>
    [JsonStringEnumMemberName("contractual")] Contractual,

    /// <summary>Kept open with the payer as a denial, to correct and resubmit, appeal or write off by decision.</summary>
    [JsonStringEnumMemberName("denial")] Denial,

    /// <summary>Moved to the patient (deductible, coinsurance, copay: the PR group).</summary>
    [JsonStringEnumMemberName("patient")] Patient,

    /// <summary>Recorded only: moves nothing (OA-23, the impact of a prior payer's adjudication).</summary>
    [JsonStringEnumMemberName("informational")] Informational
}

/// <summary>The clinic set how posting treats one group and reason code.</summary>
public record ReasonCodeTreatmentSet(Guid TableId, string Group, string Reason, AdjustmentTreatment Treatment, DateTimeOffset SetAt);

/// <summary>The clinic set how a line the payer paid nothing on, adjusted in full with CO-45, posts: a denial (the default) or a write-off.</summary>
public record ZeroPaidContractualRuleSet(Guid TableId, AdjustmentTreatment Treatment, DateTimeOffset SetAt);

/// <summary>A clinic's own treatments of reason codes, over the shipped defaults (<see cref="ReasonCodes"/>). One stream a clinic.</summary>
public sealed class ReasonCodeTable
{
    public static readonly Guid StreamId = new("7a3e9c51-2b84-4f0d-a6c7-d1e2f3a4b5c6");

    public Guid Id { get; set; }
    public int Version { get; set; }

    /// <summary>The clinic's treatments, by "GROUP-REASON" (CO-45).</summary>
    public Dictionary<string, AdjustmentTreatment> Set { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A zero-paid line fully adjusted with CO-45: a denial unless the clinic said write it off.</summary>
    public AdjustmentTreatment ZeroPaidContractual { get; set; } = AdjustmentTreatment.Denial;

    public static ReasonCodeTable Create(ReasonCodeTreatmentSet e) => new ReasonCodeTable { Id = e.TableId }.With(e);

    public static ReasonCodeTable Create(ZeroPaidContractualRuleSet e) => new ReasonCodeTable { Id = e.TableId }.With(e);

    public void Apply(ReasonCodeTreatmentSet e) => With(e);

    public void Apply(ZeroPaidContractualRuleSet e) => With(e);

    private ReasonCodeTable With(ReasonCodeTreatmentSet e)
    {
        Set[ReasonCodes.Key(e.Group, e.Reason)] = e.Treatment;
        return this;
    }

    private ReasonCodeTable With(ZeroPaidContractualRuleSet e)
    {
        ZeroPaidContractual = e.Treatment;
        return this;
    }

    public static Task<ReasonCodeTable?> LoadAsync(IQuerySession session, CancellationToken ct) => session.LoadAsync<ReasonCodeTable>(StreamId, ct);
}

/// <param name="Overridden">True when the clinic set it; <paramref name="Default"/> is what ships.</param>
public sealed record ReasonCodeRow(string Group, string Reason, string Description, AdjustmentTreatment Treatment, AdjustmentTreatment Default, bool Overridden);

/// <param name="ZeroPaidContractual">How a zero-paid line fully adjusted with CO-45 posts: denial (the default) or contractual.</param>
public sealed record ReasonCodeTableView(IReadOnlyList<ReasonCodeRow> Codes, AdjustmentTreatment ZeroPaidContractual);

/// <summary>
/// The shipped treatments of claim adjustment reason codes (X12 code list 139) by group (CAS01), and the clinic's table over
/// them. PR is the patient's whatever the code; OA-23 is informational; the codes whose fix is a correction, an appeal or
/// another payer are denials kept open with the payer; every other CO, OA or PI code is the contract's write-off. Sources
/// and the reasoning behind each are in docs/x12.md ("Posting by reason code").
/// </summary>
public static class ReasonCodes
{
    public static readonly string[] Groups = ["CO", "OA", "PI", "PR"];

    /// <summary>CO/OA/PI codes that deny the service rather than reduce it: kept open with the payer.</summary>
    public static readonly IReadOnlySet<string> Denials = new HashSet<string>(StringComparer.Ordinal)
    {
        "4", "5", "6", "11", "15", "16", "18", "22", "26", "27", "29", "31", "50", "55", "96", "109", "119", "129", "151", "167", "170", "197", "198",
        "204", "236", "242"
    };

    public static string Key(string group, string reason) => $"{group}-{reason}";

    /// <summary>What ships: PR the patient's; OA-23 informational; the denial codes kept open; the rest written off.</summary>
    public static AdjustmentTreatment Default(string group, string reason) =>
        group == "PR" ? AdjustmentTreatment.Patient
        : reason == "23" ? AdjustmentTreatment.Informational
        : Denials.Contains(reason) ? AdjustmentTreatment.Denial
        : AdjustmentTreatment.Contractual;

    /// <summary>The clinic's treatment of a group and reason, else the default.</summary>
    public static AdjustmentTreatment Treatment(ReasonCodeTable? table, string group, string reason) =>
        table?.Set.TryGetValue(Key(group, reason), out var own) == true ? own : Default(group, reason);

    /// <summary>Every known code under every group, and any other the clinic set, with its treatment now.</summary>
    public static ReasonCodeTableView View(ReasonCodeTable? table)
    {
        var keys = Groups.SelectMany(g => Carc.Known.Select(r => (Group: g, Reason: r)))
            .Concat((table?.Set.Keys.ToList() ?? []).Select(k => k.Split('-', 2)).Select(p => (Group: p[0], Reason: p[1])))
            .Distinct()
            .OrderBy(k => Array.IndexOf(Groups, k.Group)).ThenBy(k => int.TryParse(k.Reason, out var n) ? n : int.MaxValue).ThenBy(k => k.Reason, StringComparer.Ordinal);
        return new ReasonCodeTableView(keys.Select(k =>
        {
            var own = table?.Set.TryGetValue(Key(k.Group, k.Reason), out var t) == true ? t : (AdjustmentTreatment?)null;
            var fallback = Default(k.Group, k.Reason);
            return new ReasonCodeRow(k.Group, k.Reason, Carc.Describe(k.Reason), own ?? fallback, fallback, own is not null);
        }).ToList(), table?.ZeroPaidContractual ?? AdjustmentTreatment.Denial);
    }
}
