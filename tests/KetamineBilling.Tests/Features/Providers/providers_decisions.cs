using KetamineBilling.Features.Providers;
using KetamineBilling.Infrastructure;

namespace KetamineBilling.Tests.Features.Providers;

/// <summary>The pure decision behind PUT /api/providers/{id}, without a host.</summary>
public class providers_decisions
{
    [Fact]
    public void the_provider_is_the_command_trimmed_under_its_id()
    {
        var outcome = SetProviderEndpoint.Decide("dr-patel", new SetProvider("  Dr. Anika Patel ", "1234567893", " MD "));

        var provider = Assert.IsType<Provider>(Assert.IsType<Outcome.Accepted>(outcome).Answer);
        Assert.Equal(("dr-patel", "Dr. Anika Patel", "1234567893", "MD"), (provider.Id, provider.Name, provider.Npi, provider.Credentials));
        Assert.Empty(outcome.AllEvents);
    }

    [Fact]
    public void credentials_may_be_left_out()
    {
        var outcome = SetProviderEndpoint.Decide("np-lee", new SetProvider("Sam Lee", "1234567893", null));
        Assert.Null(Assert.IsType<Provider>(Assert.IsType<Outcome.Accepted>(outcome).Answer).Credentials);
    }
}
