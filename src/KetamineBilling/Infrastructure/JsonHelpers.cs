using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KetamineBilling.Infrastructure;

/// <summary>Accepts "a" or ["a", "b"] for a list of strings: a single value is the common case.</summary>
public sealed class StringOrListConverter : JsonConverter<IReadOnlyList<string>?>
{
    public override IReadOnlyList<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Null => null,
            JsonTokenType.String => [reader.GetString()!],
            _ => JsonSerializer.Deserialize<List<string>>(ref reader, options)
        };

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string>? value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value, options);
}

public static class DeterministicGuid
{
    /// <summary>
    /// The same id for the same (id, purpose), so an event derived from another (the cash-price discount of a
    /// session) has a stable id across replays and rebuilds. Name-based, version 5 style (SHA-1).
    /// </summary>
    public static Guid From(Guid id, string purpose)
    {
        var hash = SHA1.HashData(Encoding.UTF8.GetBytes($"{id:N}:{purpose}"));
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}

public static class Snapshot
{
    /// <summary>
    /// A deep copy, for showing the state after an event without touching the aggregate Wolverine loaded:
    /// Marten may hand that same instance to the inline projection, which applies the event itself.
    /// </summary>
    public static T Copy<T>(T value) => JsonSerializer.Deserialize<T>(JsonSerializer.Serialize(value))!;
}
