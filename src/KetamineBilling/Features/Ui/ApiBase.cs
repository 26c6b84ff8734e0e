using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace KetamineBilling.Features.Ui;

/// <summary>
/// Where the UI's server-side calls reach the API: <c>Ui:ApiBaseUrl</c> when set, else this node's own listener on
/// loopback (from the server's addresses). Never the request's Host header nor the circuit's base URI, which the
/// client chooses: a forged Host would otherwise make the server send the user's bearer token elsewhere.
/// </summary>
public sealed class ApiBase(IConfiguration configuration, IServer server)
{
    private Uri? _uri;

    public Uri Uri => _uri ??= Resolve();

    private Uri Resolve()
    {
        if (configuration["Ui:ApiBaseUrl"] is { Length: > 0 } configured)
        {
            return new Uri(configured.TrimEnd('/') + "/", UriKind.Absolute);
        }

        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        // Plain HTTP first: a loopback call needs no TLS, and a certificate made for a public name would not match 127.0.0.1.
        foreach (var address in addresses.OrderBy(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? 1 : 0))
        {
            var binding = BindingAddress.Parse(address);
            if (binding.IsUnixPipe || binding.Port <= 0) continue;
            var host = binding.Host switch
            {
                "+" or "*" or "0.0.0.0" or "localhost" => "127.0.0.1",
                "[::]" or "::" => "[::1]",
                var own => own
            };
            return new Uri($"{binding.Scheme}://{host}:{binding.Port}/", UriKind.Absolute);
        }

        throw new InvalidOperationException(
            "Ui:ApiBaseUrl is not set and the server names no TCP address it listens on: set Ui:ApiBaseUrl to this node's own API address.");
    }
}
