using System.Net.Sockets;
using Testcontainers.PostgreSql;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// Where the tests' PostgreSQL comes from: a Testcontainers container when a Docker engine answers a ping
/// within a second; else the database ops/test.sh provisioned (KB_TEST_CONNECTION); else a clear failure.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string ConnectionVariable = "KB_TEST_CONNECTION";

    private PostgreSqlContainer? _container;

    public string ConnectionString { get; private set; } = "";

    public string Source { get; private set; } = "";

    public async Task StartAsync()
    {
        var fromScript = Environment.GetEnvironmentVariable(ConnectionVariable);
        if (await DockerAnswersAsync(Environment.GetEnvironmentVariable("DOCKER_HOST")))
        {
            _container = new PostgreSqlBuilder("postgres:15-alpine").Build();
            await _container.StartAsync();
            (ConnectionString, Source) = (_container.GetConnectionString(), "Testcontainers");
            return;
        }

        if (!string.IsNullOrWhiteSpace(fromScript))
        {
            (ConnectionString, Source) = (fromScript, ConnectionVariable);
            return;
        }

        throw new InvalidOperationException(
            "No PostgreSQL for the tests: no Docker engine answered a ping within 1 s (for Testcontainers), and " +
            $"{ConnectionVariable} is not set. Run the tests with ops/test.sh, which starts a local cluster and sets it.");
    }

    /// <summary>
    /// A socket that accepts but never answers would make Testcontainers hang for minutes: ask /_ping first.
    /// </summary>
    public static async Task<bool> DockerAnswersAsync(string? host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            HttpMessageHandler handler;
            Uri baseUri;
            if (string.IsNullOrEmpty(host) || host.StartsWith("unix://", StringComparison.Ordinal))
            {
                var path = string.IsNullOrEmpty(host) ? "/var/run/docker.sock" : host["unix://".Length..];
                if (!File.Exists(path))
                {
                    return false;
                }

                handler = new SocketsHttpHandler
                {
                    ConnectCallback = async (_, ct) =>
                    {
                        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                };
                baseUri = new Uri("http://docker/");
            }
            else if (host.StartsWith("tcp://", StringComparison.Ordinal))
            {
                handler = new SocketsHttpHandler();
                baseUri = new Uri("http://" + host["tcp://".Length..].TrimEnd('/') + "/");
            }
            else
            {
                return false;
            }

            using var client = new HttpClient(handler) { BaseAddress = baseUri };
            using var response = await client.GetAsync("_ping", timeout.Token);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }
}
