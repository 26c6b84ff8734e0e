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

    public IReadOnlyList<string> IssuerLines() =>
        [Name, .. AddressLines, $"NPI {Npi} · Tax ID {TaxId}", .. Phone is null ? Array.Empty<string>() : [Phone]];
}
