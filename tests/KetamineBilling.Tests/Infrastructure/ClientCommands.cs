using System.Net;
using System.Net.Http.Json;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>What the tests' own HTTP clients (browser set-up, app processes) send, as the API's clients do.</summary>
public static class ClientCommands
{
    /// <summary>The API's JSON: web defaults, enums as strings.</summary>
    public static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() }
    };

    /// <summary>A command that must succeed at once: a race with the platform's own cascades is decided again by the server.</summary>
    public static async Task<T> PostAsync<T>(HttpClient api, string url, object body)
    {
        var ct = TestContext.Current.CancellationToken;
        var response = await api.PostAsJsonAsync(url, body, Json, ct);
        Assert.True(response.IsSuccessStatusCode, $"POST {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
    }
}
