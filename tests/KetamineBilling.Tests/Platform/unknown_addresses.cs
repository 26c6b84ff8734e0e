using System.Net;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Platform;

/// <summary>Issue 21: an unknown address is the app's not-found page (404), not a bare 401; /api stays the API's.</summary>
public class unknown_addresses(AppFixture fixture) : IntegrationContext(fixture)
{
    [Fact]
    public async Task an_unknown_page_signed_out_is_the_not_found_page_and_an_unknown_api_path_a_401_or_404()
    {
        var ct = TestContext.Current.CancellationToken;
        var client = Host.Server.CreateClient();

        using var page = await client.GetAsync("/no-such-page/anywhere", ct);
        var html = await page.Content.ReadAsStringAsync(ct);
        Assert.True(page.StatusCode == HttpStatusCode.NotFound, $"{(int)page.StatusCode} {html[..Math.Min(html.Length, 500)]}");
        // The app's own page (the circuit renders the not-found view: the browser journey checks it), not a bare status.
        Assert.Contains("_framework/blazor.web.js", html);

        using var api = await client.GetAsync("/api/no-such-thing", ct);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/no-such-thing");
        request.Headers.Add("Authorization", $"Bearer {await Fixture.TokenFor(As.Billing)}");
        using var signedIn = await client.SendAsync(request, ct);
        Assert.Equal(HttpStatusCode.NotFound, signedIn.StatusCode);
        Assert.DoesNotContain("not-found", await signedIn.Content.ReadAsStringAsync(ct));
    }
}
