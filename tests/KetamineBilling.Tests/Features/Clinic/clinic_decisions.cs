using KetamineBilling.Features.Clinic;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace KetamineBilling.Tests.Features.Clinic;

/// <summary>The pure decision behind PUT /api/clinic/profile, without a host.</summary>
public class clinic_decisions
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 15, 0, 0, TimeSpan.Zero);

    private static readonly ClinicProfile Configured = new()
    {
        Name = "Lakeside Ketamine Clinic", AddressLines = ["1200 Lakeshore Drive, Suite 300", "Chicago, IL 60611-2013"], Phone = "(312) 555-0142",
        Npi = "1543210987", TaxId = "36-1234567", Taxonomy = "2084P0800X", SubmitterId = "LAKESIDEKC01", Ndcs = new() { ["J3490"] = "00409205101" }
    };

    private static SetClinicProfile Same => new(Configured.Name, Configured.AddressLines, Configured.Phone, Configured.Npi, Configured.TaxId, Configured.Taxonomy,
        Configured.SubmitterId);

    [Fact]
    public void the_profile_as_it_is_records_nothing()
    {
        var outcome = SetClinicProfileEndpoint.Decide(Configured, Same, "America/Chicago", Now);

        var view = Assert.IsType<ClinicProfileView>(Assert.IsType<Outcome.Replayed>(outcome).Answer);
        Assert.Equal("Lakeside Ketamine Clinic", view.Name);
    }

    [Fact]
    public void a_change_records_the_whole_profile_trimmed_and_keeps_the_configured_ndcs()
    {
        var outcome = SetClinicProfileEndpoint.Decide(Configured,
            Same with { Name = " Lakeside Ketamine Clinic PLLC ", AddressLines = ["400 N Michigan Ave", " Floor 2 ", "Chicago, IL 60611", " "], Taxonomy = "2084p0800x" }, "America/Chicago", Now);

        var changed = Assert.IsType<ClinicProfileChanged>(Assert.Single(outcome.EventsFor(ClinicProfileState.StreamId)));
        Assert.Equal(("Lakeside Ketamine Clinic PLLC", "2084P0800X", "1543210987", Now), (changed.Name, changed.Taxonomy, changed.Npi, changed.ChangedAt));
        Assert.Equal(["400 N Michigan Ave", "Floor 2", "Chicago, IL 60611"], changed.AddressLines);
        var state = new ClinicProfileProjection().Create(changed);
        Assert.Equal("00409205101", state.Over(Configured).Ndcs["J3490"]);
        Assert.Equal(Now, Assert.IsType<ClinicProfileView>(Assert.IsType<Outcome.Accepted>(outcome).Answer).ChangedAt);
    }

    [Fact]
    public void a_bad_npi_tax_id_taxonomy_submitter_or_city_line_is_refused_naming_each_field()
    {
        var problem = SetClinicProfileEndpoint.Validate(Same with
        {
            Npi = "1543210988", TaxId = "36-12345", Taxonomy = "2084P0800", SubmitterId = "LAKESIDE KC 01", AddressLines = ["1200 Lakeshore Drive", "Chicago IL"], Phone = "555-0142"
        });

        var errors = Assert.IsType<HttpValidationProblemDetails>(problem).Errors;
        Assert.Equal(["addressLines[1]", "npi", "phone", "submitterId", "taxId", "taxonomy"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("check digit", errors["npi"][0]);
    }
}
