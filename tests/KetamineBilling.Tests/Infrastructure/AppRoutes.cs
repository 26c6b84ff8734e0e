using System.Text;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>A route the host serves: its method, its pattern as declared, and whether it is a Blazor page.</summary>
public sealed record AppRoute(string Method, string Pattern, RoutePattern Template, bool IsPage)
{
    public IReadOnlyList<string> Parameters => Template.Parameters.Select(p => p.Name).ToList();

    /// <summary>A URL for the route, each parameter given by <paramref name="value"/> (an optional one may be "").</summary>
    public string Url(Func<RoutePatternParameterPart, string> value)
    {
        var segments = new List<string>();
        foreach (var segment in Template.PathSegments)
        {
            var text = new StringBuilder();
            foreach (var part in segment.Parts)
            {
                text.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternSeparatorPart separator => separator.Content,
                    RoutePatternParameterPart p => value(p),
                    _ => ""
                });
            }

            if (text.Length > 0) segments.Add(text.ToString());
        }

        return "/" + string.Join("/", segments);
    }
}

public static class AppRoutes
{
    /// <summary>Every route the host serves, but static files and Blazor's own plumbing (/_framework, /_blazor).</summary>
    public static List<AppRoute> All(IServiceProvider services)
    {
        var routes = new List<AppRoute>();
        foreach (var endpoint in services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>())
        {
            var pattern = endpoint.RoutePattern.RawText ?? "";
            if (!pattern.StartsWith('/')) pattern = "/" + pattern;
            if (pattern.StartsWith("/_", StringComparison.Ordinal) || IsStaticFile(endpoint)) continue;
            var isPage = endpoint.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var method = isPage ? "GET" : methods.First();
            if (routes.Any(r => r.Method == method && r.Pattern == pattern)) continue;
            routes.Add(new AppRoute(method, pattern, endpoint.RoutePattern, isPage));
        }

        return routes.OrderBy(r => r.Pattern, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal).ToList();
    }

    private static bool IsStaticFile(RouteEndpoint endpoint) =>
        endpoint.Metadata.Any(m => m.GetType().Name.Contains("StaticAsset", StringComparison.Ordinal));
}
