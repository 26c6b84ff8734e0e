using Alba;
using KetamineBilling.Infrastructure;
using KetamineBilling.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Platform;

/// <summary>Default deny: every API endpoint needs a signed-in user with a role, whatever it does.</summary>
public class api_authorization(AppFixture fixture) : IntegrationContext(fixture)
{
    private static readonly string[] Anonymous = ["/api/auth/token"];

    private IReadOnlyList<RouteEndpoint> ApiEndpoints() => Host.Services.GetServices<EndpointDataSource>()
        .SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
        .Where(e => e.RoutePattern.RawText?.StartsWith("/api/") == true)
        .ToList();

    private static (string Method, string Url) Request(RouteEndpoint endpoint)
    {
        var method = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.First();
        var url = "/" + string.Join("/", endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
            Microsoft.AspNetCore.Routing.Patterns.RoutePatternParameterPart p when p.Name == "code" => "96365",
            _ => Guid.NewGuid().ToString()
        }))));
        return (method, url);
    }

    [Fact]
    public void every_api_endpoint_names_a_role_policy_or_is_the_sign_in()
    {
        var endpoints = ApiEndpoints();
        Assert.True(endpoints.Count >= 9, $"only {endpoints.Count} API endpoints found");

        foreach (var endpoint in endpoints)
        {
            var route = endpoint.RoutePattern.RawText!;
            if (Anonymous.Contains(route))
            {
                Assert.NotNull(endpoint.Metadata.GetMetadata<IAllowAnonymous>());
                continue;
            }

            Assert.Null(endpoint.Metadata.GetMetadata<IAllowAnonymous>());
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            Assert.True(policies.Count > 0 && policies.All(p => p?.StartsWith("api:") == true), $"{route} names no API policy");
        }
    }

    [Fact]
    public async Task every_api_endpoint_answers_401_without_a_token()
    {
        foreach (var endpoint in ApiEndpoints().Where(e => !Anonymous.Contains(e.RoutePattern.RawText)))
        {
            var (method, url) = Request(endpoint);
            await Host.Scenario(s =>
            {
                s.ConfigureHttpContext(c =>
                {
                    c.Request.Method = method;
                    c.Request.Path = url;
                });
                s.StatusCodeShouldBe(401);
            });
        }
    }

    [Theory]
    [InlineData(As.Finance)]
    [InlineData(As.EmployerA)]
    [InlineData(As.NoRole)]
    [InlineData(As.Admin)]
    public async Task billing_only_endpoints_answer_403_to_other_roles(string user)
    {
        var billingOnly = ApiEndpoints().Where(e =>
            e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == Policies.BillingAdmin));
        foreach (var endpoint in billingOnly)
        {
            var (method, url) = Request(endpoint);
            await Fixture.Call(user, s =>
            {
                if (method is "POST" or "PUT")
                {
                    s.WriteJson(new { }, null);
                }

                s.ConfigureHttpContext(c =>
                {
                    c.Request.Method = method;
                    c.Request.Path = url;
                });
                s.StatusCodeShouldBe(403);
            });
        }
    }

    [Fact]
    public async Task an_employer_cannot_read_the_fee_schedule()
    {
        await Fixture.Call(As.EmployerA, s =>
        {
            s.Get.Url("/api/fee-schedule");
            s.StatusCodeShouldBe(403);
        });
    }
}
