using System.Text.Json.Serialization;

namespace KetamineBilling.Features.Ledger;

// The ledger's vocabulary: charge lines, amounts on them and who owes them. Every area that moves money speaks it;
// the patient account (Features/Patients) is the stream that records it.

/// <summary>Who owes an open amount now.</summary>
public enum ResponsibleParty
{
    [JsonStringEnumMemberName("patient")] Patient,
    [JsonStringEnumMemberName("insurance")] Insurance,
    [JsonStringEnumMemberName("employer")] Employer,
    [JsonStringEnumMemberName("grant")] Grant,
    [JsonStringEnumMemberName("sponsor")] Sponsor,
    /// <summary>A collection agency the patient's balance was placed with (after the final notice): it collects for the clinic.</summary>
    [JsonStringEnumMemberName("collections")] Collections
}

/// <summary>One priced line of a delivered session. Amount = UnitPrice x Units, exact.</summary>
/// <param name="Modifiers">Up to four CPT/HCPCS modifiers, in billing order (pricing modifiers first); null when none.</param>
/// <param name="Drug">The drug given on this line as claims identify it (2410 LIN/CTP); null when none.</param>
public record ChargeLine(
    int LineNumber, string Code, string Description, int Units, decimal UnitPrice, decimal Amount, IReadOnlyList<string>? Modifiers = null,
    DrugGiven? Drug = null)
{
    /// <summary>The modifiers, never null.</summary>
    [JsonIgnore] public IReadOnlyList<string> ModifierList => Modifiers ?? [];

    // A record compares lists by reference: two requests naming the same modifiers are the same line.
    public virtual bool Equals(ChargeLine? other) =>
        other is not null && LineNumber == other.LineNumber && Code == other.Code && Description == other.Description && Units == other.Units
        && UnitPrice == other.UnitPrice && Amount == other.Amount && ModifierList.SequenceEqual(other.ModifierList) && Drug == other.Drug;

    public override int GetHashCode() => HashCode.Combine(LineNumber, Code, Units, Amount, string.Join(':', ModifierList), Drug);
}

/// <summary>
/// A drug as a claim line identifies it: the 11-digit National Drug Code (5-4-2), and the quantity given in the NDC's
/// own unit of measure (not the HCPCS billing units): UN unit, ML millilitre, GR gram, ME milligram, F2 international unit.
/// </summary>
public sealed record DrugGiven(string Ndc, decimal Quantity, string Unit);

/// <summary>An amount put on (or taken off) one charge line.</summary>
public record LineAmount(Guid SessionId, int LineNumber, decimal Amount);

/// <summary>Part of a line's open amount passed from one party to another.</summary>
public record ResponsibilityMove(Guid SessionId, int LineNumber, ResponsibleParty From, ResponsibleParty To, decimal Amount);

/// <summary>Open amounts by who owes them.</summary>
public sealed class PartyAmounts
{
    public decimal Patient { get; set; }
    public decimal Insurance { get; set; }
    public decimal Employer { get; set; }
    public decimal Grant { get; set; }
    public decimal Sponsor { get; set; }
    public decimal Collections { get; set; }

    public decimal Total => Patient + Insurance + Employer + Grant + Sponsor + Collections;

    public decimal this[ResponsibleParty party]
    {
        get => party switch
        {
            ResponsibleParty.Patient => Patient,
            ResponsibleParty.Insurance => Insurance,
            ResponsibleParty.Employer => Employer,
            ResponsibleParty.Grant => Grant,
            ResponsibleParty.Sponsor => Sponsor,
            ResponsibleParty.Collections => Collections,
            _ => throw new ArgumentOutOfRangeException(nameof(party), party, null)
        };
        set
        {
            switch (party)
            {
                case ResponsibleParty.Patient: Patient = value; break;
                case ResponsibleParty.Insurance: Insurance = value; break;
                case ResponsibleParty.Employer: Employer = value; break;
                case ResponsibleParty.Grant: Grant = value; break;
                case ResponsibleParty.Sponsor: Sponsor = value; break;
                case ResponsibleParty.Collections: Collections = value; break;
                default: throw new ArgumentOutOfRangeException(nameof(party), party, null);
            }
        }
    }

    public void Add(PartyAmounts other)
    {
        foreach (var party in Enum.GetValues<ResponsibleParty>())
        {
            this[party] += other[party];
        }
    }

    public PartyAmounts Copy() => new() { Patient = Patient, Insurance = Insurance, Employer = Employer, Grant = Grant, Sponsor = Sponsor, Collections = Collections };
}
