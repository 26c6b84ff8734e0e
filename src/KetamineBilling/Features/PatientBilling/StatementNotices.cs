using System.Net.Sockets;
using System.Security.Cryptography;
using KetamineBilling.Features.Clinic;
using KetamineBilling.Features.Patients;
using KetamineBilling.Infrastructure;
using KetamineBilling.Features.Ui;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Marten;
using Microsoft.AspNetCore.DataProtection;
using MimeKit;

namespace KetamineBilling.Features.PatientBilling;

/// <summary>
/// Where the platform's email goes (<c>Mail</c> section): an SMTP server (<c>Mail:Smtp:Host</c>, <c>Port</c>, <c>Security</c>,
/// <c>UserName</c>, <c>Password</c>), or, for a local set-up, a pickup folder of .eml files (<c>Mail:PickupDirectory</c>).
/// <c>Mail:From</c> is the sender's address; the clinic's name is its display name. <c>App:PublicBaseUrl</c> is the address
/// patients open links at.
/// </summary>
public sealed class MailOptions
{
    public string? SmtpHost { get; init; }
    public int SmtpPort { get; init; } = 587;
    public SecureSocketOptions Security { get; init; } = SecureSocketOptions.StartTlsWhenAvailable;
    public string? UserName { get; init; }
    public string? Password { get; init; }
    public string? PickupDirectory { get; init; }
    public string From { get; init; } = "statements@localhost";
    public Uri PublicBaseUrl { get; init; } = new("http://localhost:5080/");

    public static MailOptions FromConfiguration(IConfiguration configuration) => new()
    {
        SmtpHost = configuration["Mail:Smtp:Host"] is { Length: > 0 } host ? host : null,
        SmtpPort = int.TryParse(configuration["Mail:Smtp:Port"], out var port) ? port : 587,
        Security = Enum.TryParse<SecureSocketOptions>(configuration["Mail:Smtp:Security"], true, out var security) ? security : SecureSocketOptions.StartTlsWhenAvailable,
        UserName = configuration["Mail:Smtp:UserName"] is { Length: > 0 } user ? user : null,
        Password = configuration["Mail:Smtp:Password"],
        PickupDirectory = configuration["Mail:PickupDirectory"] is { Length: > 0 } pickup ? pickup : null,
        From = configuration["Mail:From"] is { Length: > 0 } from ? from : "statements@localhost",
        PublicBaseUrl = new Uri((configuration["App:PublicBaseUrl"] is { Length: > 0 } url ? url : configuration["Urls"]?.Split(';')[0] ?? "http://localhost:5080").TrimEnd('/') + "/")
    };
}

/// <summary>A notice of a new statement: the clinic's name and the link, nothing of the patient's health or money.</summary>
public sealed record StatementNotice(string To, string ClinicName, string? ClinicPhone, Uri Link, DateOnly LinkValidUntil, DunningStage Stage = DunningStage.Statement);

/// <summary>The mail failed in a way a person can act on (the server down or refusing): recorded, not retried by itself.</summary>
public sealed class MailNotSent(string reason, Exception? inner = null) : Exception(reason, inner);

public sealed class StatementMailer(MailOptions options)
{
    public static MimeMessage Compose(StatementNotice notice, string from)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress(notice.ClinicName, from));
        message.To.Add(MailboxAddress.Parse(notice.To));
        // The stage is in the subject and the first line, in words that say nothing of what was owed or for what.
        var (subject, opening) = notice.Stage switch
        {
            DunningStage.Reminder => ($"A reminder from {notice.ClinicName}", $"This is a reminder: a statement from {notice.ClinicName} is past due."),
            DunningStage.FinalNotice => ($"Final notice from {notice.ClinicName}",
                $"This is a final notice: a statement from {notice.ClinicName} is seriously past due. Please pay or call us within 30 days."),
            _ => ($"A new statement from {notice.ClinicName}", $"A new statement from {notice.ClinicName} is ready.")
        };
        message.Subject = subject;
        var call = notice.ClinicPhone is null ? "" : $" Questions? Call us at {notice.ClinicPhone}.";
        var until = Fmt.Date(notice.LinkValidUntil);
        var text = $"Hello,\n\n{opening} View it and pay online:\n\n{notice.Link}\n\n" +
                   $"The link works until {until}.{call}\n\n{notice.ClinicName}\n";
        var html = $"<p>Hello,</p><p>{System.Net.WebUtility.HtmlEncode(opening)}</p>" +
                   $"<p><a href=\"{System.Net.WebUtility.HtmlEncode(notice.Link.ToString())}\">View your statement and pay online</a></p>" +
                   $"<p>The link works until {until}.{System.Net.WebUtility.HtmlEncode(call)}</p><p>{System.Net.WebUtility.HtmlEncode(notice.ClinicName)}</p>";
        message.Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody();
        return message;
    }

    public async Task SendAsync(StatementNotice notice, CancellationToken ct)
    {
        var message = Compose(notice, options.From);
        if (options.SmtpHost is null)
        {
            if (options.PickupDirectory is null) throw new MailNotSent("no mail server is configured (Mail:Smtp:Host)");
            Directory.CreateDirectory(options.PickupDirectory);
            await message.WriteToAsync(Path.Combine(options.PickupDirectory, $"{Guid.CreateVersion7():N}.eml"), ct);
            return;
        }

        using var client = new SmtpClient { Timeout = 30_000 };
        try
        {
            await client.ConnectAsync(options.SmtpHost, options.SmtpPort, options.Security, ct);
            if (options.UserName is not null) await client.AuthenticateAsync(options.UserName, options.Password ?? "", ct);
            await client.SendAsync(message, ct);
            await client.DisconnectAsync(true, ct);
        }
        // The server's own words can name the address: the reason keeps its codes only.
        catch (SmtpCommandException e) { throw new MailNotSent($"the mail server refused the message ({(int)e.StatusCode} {e.ErrorCode})", e); }
        catch (AuthenticationException e) { throw new MailNotSent("the mail server did not accept the configured user name and password", e); }
        catch (Exception e) when (e is SocketException or IOException or SmtpProtocolException or SslHandshakeException or TimeoutException or ServiceNotConnectedException)
        {
            throw new MailNotSent($"the mail server could not be reached ({e.GetType().Name})", e);
        }
    }
}

/// <summary>
/// Payment links: a signed, expiring token for one statement (Data Protection, the platform's shared key ring), opened without
/// an account. It names the clinic, the run, the statement and the patient; tampered, expired or from another key ring it
/// opens nothing.
/// </summary>
public sealed class StatementLinks(IDataProtectionProvider protection, MailOptions options)
{
    public sealed record Target(string Clinic, Guid RunId, Guid StatementId, Guid PatientId, DateTimeOffset Expires);

    private readonly ITimeLimitedDataProtector _protector =
        protection.CreateProtector("KetamineBilling.Statements.PaymentLink.v1").ToTimeLimitedDataProtector();

    public string Token(string clinic, Guid runId, Guid statementId, Guid patientId, DateTimeOffset expires) =>
        _protector.Protect($"{clinic}|{runId:N}|{statementId:N}|{patientId:N}", expires);

    public Uri Link(string token) => new(options.PublicBaseUrl, $"pay/{token}");

    private readonly ITimeLimitedDataProtector _verified =
        protection.CreateProtector("KetamineBilling.Statements.PaymentPageVerified.v1").ToTimeLimitedDataProtector();

    /// <summary>The payment page's proof that the date of birth was given for a statement, until <paramref name="until"/>.</summary>
    public string Verified(Guid statementId, DateTimeOffset until) => _verified.Protect(statementId.ToString("N"), until);

    public bool IsVerified(string? proof, Guid statementId, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(proof)) return false;
        try
        {
            return _verified.Unprotect(proof, out var until) == statementId.ToString("N") && until > now;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    public Target? Open(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 1000) return null;
        try
        {
            var parts = _protector.Unprotect(token, out var expires).Split('|');
            return parts.Length == 4 && Guid.TryParseExact(parts[1], "N", out var run) && Guid.TryParseExact(parts[2], "N", out var statement)
                   && Guid.TryParseExact(parts[3], "N", out var patient)
                ? new Target(parts[0], run, statement, patient, expires)
                : null;
        }
        catch (CryptographicException)
        {
            return null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>
/// Sends one statement's notice, once: a notice already sent (a redelivered message) or no longer pending is left alone. A mail
/// failure is recorded on the run, for a person to send again; the log names the run and the statement, never the patient.
/// </summary>
public static class SendStatementNoticeHandler
{
    public static async Task Handle(
        SendStatementNotice message, IDocumentSession session, StatementMailer mailer, StatementLinks links, ClinicProfiles profiles, ClinicZones zones,
        TimeProvider clock, ILogger<SendStatementNotice> logger, CancellationToken ct)
    {
        var run = await session.LoadAsync<StatementRun>(message.RunId, ct);
        if (run?.Statement(message.StatementId) is not { Notice: NoticeState.Pending } item) return;
        var account = await session.LoadAsync<PatientAccount>(item.PatientId, ct);
        var now = clock.GetUtcNow();
        if (account?.Email is not { Length: > 0 } email)
        {
            await RecordAsync(session.DocumentStore, session.TenantId, message,
                new StatementNoticeFailed(message.RunId, message.StatementId, "the account has no email address any more", now), ct);
            return;
        }

        var policy = await StatementPolicy.CurrentAsync(session, ct);
        var clinic = await profiles.CurrentAsync(session, ct);
        var zone = await zones.ZoneOfAsync(session.TenantId, ct);
        var expires = now.AddDays(policy.LinkValidDays);
        var link = links.Link(links.Token(session.TenantId, message.RunId, message.StatementId, item.PatientId, expires));
        object result;
        try
        {
            await mailer.SendAsync(new StatementNotice(email, clinic.Name, clinic.Phone, link, DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(expires, zone).DateTime), item.Stage), ct);
            result = new StatementNoticeSent(message.RunId, message.StatementId, now);
        }
        catch (MailNotSent e)
        {
            logger.LogWarning("The notice of statement {StatementId} of run {RunId} was not sent: {Reason}", message.StatementId, message.RunId, e.Message);
            result = new StatementNoticeFailed(message.RunId, message.StatementId, e.Message, now);
        }

        await RecordAsync(session.DocumentStore, session.TenantId, message, result, ct);
    }

    /// <summary>
    /// Records what became of a notice once it went to the mail server. The run's other notices are sent at the same moment and
    /// append to the same stream: a lost race is recorded again here, never by handling the message again (that would send the
    /// email twice).
    /// </summary>
    private static async Task RecordAsync(IDocumentStore store, string tenant, SendStatementNotice message, object result, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession(tenant);
            var stream = await session.Events.FetchForWriting<StatementRun>(message.RunId, ct);
            if (stream.Aggregate?.Statement(message.StatementId) is not { Notice: NoticeState.Pending }) return;
            stream.AppendOne(result);
            try
            {
                await session.SaveChangesAsync(ct);
                return;
            }
            catch (Exception e) when (attempt < 10 && DecideAgainMiddleware.LostRace(e))
            {
                await Task.Delay(Random.Shared.Next(5, 50), ct);
            }
        }
    }
}
