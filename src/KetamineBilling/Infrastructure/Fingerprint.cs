namespace KetamineBilling.Infrastructure;

/// <summary>
/// A request's fingerprint: the same idempotency key with the same fingerprint is a replay, with another a
/// conflict. SHA-256 of the request as the API received it (its JSON form), so every field counts.
/// </summary>
public static class Fingerprint
{
    public static string Of(object request) =>
        Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(request, request.GetType())));
}
