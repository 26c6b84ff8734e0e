using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace KetamineBilling.Tests.Infrastructure;

/// <summary>
/// The Data Protection certificate of the test run: outside Development the app refuses to start without one. Made
/// with CertificateRequest once (kept beside the test binaries, so keys stored by an earlier run stay readable) and
/// handed to every host of the run through the environment: the Alba and browser hosts read it, and the app
/// processes the fault tests start inherit it.
/// </summary>
public static class TestCertificates
{
    public const string Password = "kb-test-dataprotection";

    public static string DataProtectionPath { get; } = Path.Combine(AppContext.BaseDirectory, "dataprotection-test.pfx");

    [ModuleInitializer]
    internal static void UseForEveryHost()
    {
        if (!File.Exists(DataProtectionPath))
        {
            var temporary = DataProtectionPath + "." + Environment.ProcessId;
            File.WriteAllBytes(temporary, Make("CN=KetamineBilling tests data protection").Export(X509ContentType.Pkcs12, Password));
            File.Move(temporary, DataProtectionPath, overwrite: true);
        }

        Environment.SetEnvironmentVariable("DataProtection__Certificate__Path", DataProtectionPath);
        Environment.SetEnvironmentVariable("DataProtection__Certificate__Password", Password);
    }

    /// <summary>A self-signed RSA certificate for key encipherment (what ProtectKeysWithCertificate needs).</summary>
    public static X509Certificate2 Make(string subject)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DigitalSignature, critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
    }
}
