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

    /// <summary>A command that must succeed; a 409 from a racing cascade is retried with the same body (and key).</summary>
    public static async Task<T> PostAsync<T>(HttpClient api, string url, object body)
    {
        var ct = TestContext.Current.CancellationToken;
        for (var attempt = 0; ; attempt++)
        {
            var response = await api.PostAsJsonAsync(url, body, Json, ct);
            if (response.StatusCode == HttpStatusCode.Conflict && attempt < 10)
            {
                await Task.Delay(50 * (attempt + 1), ct);
                continue;
            }

            Assert.True(response.IsSuccessStatusCode, $"POST {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            return (await response.Content.ReadFromJsonAsync<T>(Json, ct))!;
        }
    }
}
