using System.Text;

namespace KetamineBilling.Features.Clearinghouse;

/// <summary>A file the clearinghouse has for a clinic: its name and where it is read from.</summary>
public sealed record InboundFile(string Name, long Length, DateTimeOffset ArrivedAt, string Path);

/// <summary>
/// Where a clinic's X12 files go out to payers and come back from them (ADR 0021). The drop folder is the first: any SFTP
/// sync serves it. A clearinghouse's own API plugs in as another implementation: Send posts the file, Receive lists and
/// fetches what waits, Done and Failed acknowledge it. Every file is idempotent by its control numbers, so a retried fetch
/// or send is harmless.
/// </summary>
public interface IClearinghouse
{
    /// <summary>False when none is set up: files are then only downloaded and uploaded by hand.</summary>
    bool Enabled { get; }

    /// <summary>Where it is, for the screen (a folder, a service's address).</summary>
    string Describe(string clinic);

    /// <summary>Puts a file in the clinic's outbox; the same name again replaces it whole (never half a file).</summary>
    Task SendAsync(string clinic, string fileName, string content, CancellationToken ct);

    /// <summary>The files waiting for the clinic, oldest first.</summary>
    Task<IReadOnlyList<InboundFile>> ReceiveAsync(string clinic, CancellationToken ct);

    Task<Stream> OpenAsync(InboundFile file, CancellationToken ct);

    /// <summary>The file was imported (or was imported before): it leaves the inbox.</summary>
    Task DoneAsync(string clinic, InboundFile file, CancellationToken ct);

    /// <summary>The file cannot be imported as it is: it leaves the inbox with the reason beside it.</summary>
    Task FailedAsync(string clinic, InboundFile file, string reason, CancellationToken ct);
}

/// <summary>
/// A folder per clinic under <c>Clearinghouse:DropFolder</c>: <c>{root}/{clinic}/outbox</c> for what the platform sends,
/// <c>{root}/{clinic}/inbox</c> for what comes back. Imported files move to <c>inbox/processed</c>, files that cannot be
/// imported to <c>inbox/failed</c> with <c>{name}.reason.txt</c> beside them. A file is written under a temporary name
/// and renamed; names starting with a dot or ending in .tmp, .part or .filepart (a sync still writing), and files changed in the
/// last few seconds, are left alone.
/// </summary>
/// <param name="settle">A file written less than this long ago is left for the next exchange: a sync may still be writing it
/// under its final name (<c>Clearinghouse:SettleSeconds</c>, 10 by default).</param>
public sealed class DropFolderClearinghouse(string? root, TimeSpan settle = default, TimeProvider? clock = null) : IClearinghouse
{
    public const string Setting = "Clearinghouse:DropFolder";

    public static readonly TimeSpan DefaultSettle = TimeSpan.FromSeconds(10);

    public bool Enabled => !string.IsNullOrWhiteSpace(root);

    public string Describe(string clinic) => Enabled ? Folder(clinic) : "";

    public string Folder(string clinic) => Path.Combine(Path.GetFullPath(root!), clinic);

    public string Outbox(string clinic) => Path.Combine(Folder(clinic), "outbox");

    public string Inbox(string clinic) => Path.Combine(Folder(clinic), "inbox");

    public async Task SendAsync(string clinic, string fileName, string content, CancellationToken ct)
    {
        var outbox = Outbox(clinic);
        Directory.CreateDirectory(outbox);
        var target = Path.Combine(outbox, SafeName(fileName));
        var temporary = Path.Combine(outbox, $".{SafeName(fileName)}.{Guid.NewGuid():N}.tmp");
        await File.WriteAllTextAsync(temporary, content, Encoding.ASCII, ct);
        File.Move(temporary, target, overwrite: true);
    }

    public Task<IReadOnlyList<InboundFile>> ReceiveAsync(string clinic, CancellationToken ct)
    {
        var inbox = new DirectoryInfo(Inbox(clinic));
        inbox.Create();
        inbox.CreateSubdirectory("processed");
        inbox.CreateSubdirectory("failed");
        Directory.CreateDirectory(Outbox(clinic));
        var settledBefore = (clock ?? TimeProvider.System).GetUtcNow().UtcDateTime - settle;
        IReadOnlyList<InboundFile> files = inbox.EnumerateFiles()
            .Where(f => f.LastWriteTimeUtc <= settledBefore)
            .Where(f => !f.Name.StartsWith('.') && !f.Name.EndsWith(".tmp", StringComparison.OrdinalIgnoreCase)
                        && !f.Name.EndsWith(".part", StringComparison.OrdinalIgnoreCase) && !f.Name.EndsWith(".filepart", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => new InboundFile(f.Name, f.Length, new DateTimeOffset(f.LastWriteTimeUtc, TimeSpan.Zero), f.FullName))
            .ToList();
        return Task.FromResult(files);
    }

    public Task<Stream> OpenAsync(InboundFile file, CancellationToken ct) =>
        Task.FromResult<Stream>(new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 16 * 1024, useAsync: true));

    public Task DoneAsync(string clinic, InboundFile file, CancellationToken ct)
    {
        Move(file, Path.Combine(Inbox(clinic), "processed"));
        return Task.CompletedTask;
    }

    public async Task FailedAsync(string clinic, InboundFile file, string reason, CancellationToken ct)
    {
        var failed = Path.Combine(Inbox(clinic), "failed");
        var moved = Move(file, failed);
        if (moved is not null) await File.WriteAllTextAsync(moved + ".reason.txt", reason + Environment.NewLine, Encoding.UTF8, ct);
    }

    /// <summary>Moves the file into the folder (a name taken there gets a time stamp); null when another node moved it first.</summary>
    private static string? Move(InboundFile file, string folder)
    {
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, file.Name);
        if (File.Exists(target)) target = Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(file.Name)}.{DateTime.UtcNow:yyyyMMddHHmmssfff}{Path.GetExtension(file.Name)}");
        try
        {
            File.Move(file.Path, target);
            return target;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    private static string SafeName(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
