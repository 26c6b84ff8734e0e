using System.Xml.Linq;
using Marten;
using Microsoft.AspNetCore.DataProtection.Repositories;

using KetamineBilling.Infrastructure;

namespace KetamineBilling.Features.Auth;

/// <summary>A Data Protection key, kept in PostgreSQL so tokens and cookies outlive a restart.</summary>
public sealed class DataProtectionKey
{
    public string Id { get; set; } = "";

    public string Xml { get; set; } = "";
}

/// <remarks>
/// IXmlRepository is synchronous and Marten 9 only reads asynchronously: the calls block, which is
/// acceptable because Data Protection reads the key ring rarely (it caches it) and writes a key every 90 days.
/// </remarks>
public sealed class MartenXmlRepository(IGlobalStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => Task.Run(async () =>
    {
        await using var session = store.QuerySession();
        var keys = await session.Query<DataProtectionKey>().ToListAsync();
        return (IReadOnlyCollection<XElement>)keys.Select(k => XElement.Parse(k.Xml)).ToList();
    }).GetAwaiter().GetResult();

    public void StoreElement(XElement element, string friendlyName) => Task.Run(async () =>
    {
        await using var session = store.LightweightSession();
        session.Store(new DataProtectionKey { Id = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        await session.SaveChangesAsync();
    }).GetAwaiter().GetResult();
}

/// <summary>
/// The certificate that encrypts the Data Protection keys at rest (ProtectKeysWithCertificate): section
/// <c>DataProtection:Certificate</c> with <c>Path</c> (a PKCS#12 .pfx, with <c>Password</c>), or <c>Path</c> to a
/// PEM certificate with <c>KeyPath</c> to its PEM private key. ops/run.sh makes one under .data/ for local runs.
/// </summary>
public static class DataProtectionCertificate
{
    public const string Missing =
        "DataProtection:Certificate:Path is not set: outside Development the Data Protection keys (which protect sign-in " +
        "cookies and API tokens) must be encrypted at rest with a certificate. Set DataProtection__Certificate__Path " +
        "(a .pfx, with DataProtection__Certificate__Password; or a PEM certificate with DataProtection__Certificate__KeyPath); " +
        "see docs/runbook.md.";

    /// <summary>The configured certificate; null when none is configured (a configured one that cannot be read throws).</summary>
    public static System.Security.Cryptography.X509Certificates.X509Certificate2? Load(IConfiguration configuration)
    {
        var section = configuration.GetSection("DataProtection:Certificate");
        var path = section["Path"];
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }

        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"DataProtection:Certificate:Path names {path}, which does not exist (see docs/runbook.md).");
        }

        var certificate = section["KeyPath"] is { Length: > 0 } keyPath
            ? System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(path, keyPath)
            : System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(path, section["Password"]);
        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"The Data Protection certificate {path} has no private key: the keys could be encrypted but never read back.");
        }

        return certificate;
    }
}

/// <summary>
/// Outside Development without a Data Protection certificate the app does not start: this fails the host's start
/// with <see cref="DataProtectionCertificate.Missing"/>. A hosted service, so commands that build the host without
/// serving (codegen, resources setup, add-user) still run.
/// </summary>
public sealed class DataProtectionCertificateRequired : IHostedService
{
    public Task StartAsync(CancellationToken ct) => throw new InvalidOperationException(DataProtectionCertificate.Missing);

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// Two nodes starting together against an empty key ring would each make a first key, and each would refuse the other's
/// tokens until it read the ring again. The first start here makes (or reads) the ring under <see cref="KetamineBilling.Infrastructure.StartupLock"/>,
/// before ASP.NET Core's own start reads it, so the second node finds the first node's key.
/// </summary>
public sealed class KeyRingAtStart(Microsoft.AspNetCore.DataProtection.IDataProtectionProvider provider, IGlobalStore store) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        await using var held = await KetamineBilling.Infrastructure.StartupLock.TakeAsync(store, ct);
        // Protecting anything resolves the ring: read from PostgreSQL, or a first key made and stored.
        Microsoft.AspNetCore.DataProtection.DataProtectionCommonExtensions.Protect(provider.CreateProtector("KetamineBilling.KeyRingAtStart"), "ring");
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

