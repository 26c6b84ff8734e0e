using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace KetamineBilling.Features.Ui;

/// <summary>What the API answered: the value, or the problem it named (status, title, and each field's rule).</summary>
/// <param name="Problem">The problem in words, each part once: the fields' rules ("First name is required"), else the detail or title.</param>
/// <param name="Errors">The API's field errors as it named them (for <see cref="FormErrors"/> to place at their fields).</param>
public sealed record ApiResult<T>(T? Value, int Status, string? Problem, IReadOnlyDictionary<string, string[]>? Errors = null)
{
    public bool Ok => Status is >= 200 and < 300;

    public bool NotFound => Status == 404;
}

/// <summary>
/// The pages' way to the API, with the signed-in user's own rights (a bearer token made from their sign-in).
/// Every command a page sends goes through the same validation, idempotency and authorization as any API client's.
/// </summary>
public sealed class ApiClient(
    IHttpClientFactory factory, AuthenticationStateProvider authentication, ApiBase apiBase, ApiTokens tokens,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
{
    public const string HttpClientName = "ui-api";

    private (string Token, DateTimeOffset ExpiresAt)? _token;

    private JsonSerializerOptions Json => json.Value.SerializerOptions;

    private async Task<HttpClient> ClientAsync()
    {
        if (_token is not { } token || token.ExpiresAt < DateTimeOffset.UtcNow.AddMinutes(2))
        {
            var user = (await authentication.GetAuthenticationStateAsync()).User;
            _token = token = tokens.For(user);
        }

        var client = factory.CreateClient(HttpClientName);
        // This node's own API (ApiBase): never the circuit's base URI, which comes from the browser's Host header.
        client.BaseAddress = apiBase.Uri;
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        return client;
    }

    public async Task<ApiResult<T>> GetAsync<T>(string url)
    {
        using var response = await (await ClientAsync()).GetAsync(url);
        return await ReadAsync<T>(response);
    }

    /// <summary>
    /// Sends a command. A race with the platform's own follow-up work is decided again by the server
    /// (<c>DecideAgainMiddleware</c>): a 409 here is a real conflict, shown as it is.
    /// </summary>
    public async Task<ApiResult<T>> PostAsync<T>(string url, object body)
    {
        using var response = await (await ClientAsync()).PostAsJsonAsync(url, body, Json);
        return await ReadAsync<T>(response);
    }

    public async Task<ApiResult<T>> PutAsync<T>(string url, object body)
    {
        using var response = await (await ClientAsync()).PutAsJsonAsync(url, body, Json);
        return await ReadAsync<T>(response);
    }

    public async Task<ApiResult<T>> PostContentAsync<T>(string url, HttpContent content)
    {
        using var response = await (await ClientAsync()).PostAsync(url, content);
        return await ReadAsync<T>(response);
    }

    /// <summary>A command whose answer is a text file (the 837P of a claim batch).</summary>
    public async Task<ApiResult<string>> PostForTextAsync(string url, object body)
    {
        using var response = await (await ClientAsync()).PostAsJsonAsync(url, body, Json);
        if (response.IsSuccessStatusCode) return new ApiResult<string>(await response.Content.ReadAsStringAsync(), (int)response.StatusCode, null);
        var failed = await ReadAsync<string>(response);
        return failed;
    }

    /// <summary>A link that downloads an API file (CSV, PDF) with the user's sign-in.</summary>
    public static string Download(string apiPath) => $"/ui/download?path={Uri.EscapeDataString(apiPath)}";

    private async Task<ApiResult<T>> ReadAsync<T>(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            var value = response.Content.Headers.ContentLength == 0 ? default : await response.Content.ReadFromJsonAsync<T>(Json);
            return new ApiResult<T>(value, status, null);
        }

        string problem;
        IReadOnlyDictionary<string, string[]>? errors = null;
        try
        {
            var details = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>(Json);
            // The detail of a validation problem repeats its field errors in the API's terms: words for each field, once.
            if (details?.Errors is { Count: > 0 } fields)
            {
                errors = fields.ToDictionary(e => e.Key, e => e.Value);
                problem = string.Join(" · ", fields.Select(e => FormErrors.Sentence(FormErrors.Words(e.Key), e.Value)));
            }
            else
            {
                problem = (string.IsNullOrWhiteSpace(details?.Detail) ? details?.Title : details.Detail) ?? "";
            }
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            problem = "";
        }

        return new ApiResult<T>(default, status, problem.Length > 0 ? problem : $"The server answered {status.ToString(CultureInfo.InvariantCulture)}.", errors);
    }
}
