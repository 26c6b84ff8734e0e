using System.Diagnostics;
using System.Net.Sockets;
using KetamineBilling.Tests.Infrastructure;

namespace KetamineBilling.Tests.Platform;

/// <summary>The fixture's probe must answer within about a second whatever the Docker socket does.</summary>
public class finding_a_test_database
{
    [Fact]
    public async Task no_socket_means_no_docker_at_once()
    {
        var watch = Stopwatch.StartNew();

        Assert.False(await TestDatabase.DockerAnswersAsync($"unix:///tmp/no-such-docker-{Guid.NewGuid():N}.sock"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task a_socket_that_accepts_but_never_answers_is_given_up_after_the_ping_timeout()
    {
        var path = Path.Combine(Path.GetTempPath(), $"silent-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        try
        {
            var watch = Stopwatch.StartNew();

            Assert.False(await TestDatabase.DockerAnswersAsync($"unix://{path}"));
            // Bounded by the 1 s ping timeout, not by Testcontainers' minutes.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
