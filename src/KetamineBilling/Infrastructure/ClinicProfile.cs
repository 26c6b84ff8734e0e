namespace KetamineBilling.Infrastructure;

/// <summary>Who the clinic is on the documents it issues (statements, receipts, later claims).</summary>
public sealed class ClinicProfile
{
    public string Name { get; set; } = "";
    public List<string> AddressLines { get; set; } = [];
    public string? Phone { get; set; }

    /// <summary>The clinic's group (type 2) NPI.</summary>
    public string Npi { get; set; } = "";

    /// <summary>The federal employer identification number FSA/HSA administrators ask for.</summary>
    public string TaxId { get; set; } = "";

    /// <summary>The provider taxonomy code printed on claims and superbills (e.g. 207RP1001X, psychiatry).</summary>
    public string Taxonomy { get; set; } = "";

    /// <summary>The National Drug Code of the product the clinic stocks, by billing code (J3490: ketamine).</summary>
    public Dictionary<string, string> Ndcs { get; set; } = [];

    /// <summary>The clinic's submitter id with its clearinghouse (ISA06 / 1000A NM109).</summary>
    public string SubmitterId { get; set; } = "";

    public IReadOnlyList<string> IssuerLines() =>
        [Name, .. AddressLines, $"NPI {Npi} · Tax ID {TaxId}", .. Phone is null ? Array.Empty<string>() : [Phone]];
}
