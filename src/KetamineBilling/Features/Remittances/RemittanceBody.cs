using System.Text;
using KetamineBilling.Features.Claims.X12;
using KetamineBilling.Infrastructure;
using Microsoft.AspNetCore.Http.Features;

namespace KetamineBilling.Features.Remittances;

/// <summary>
/// The body of an 835 upload (text, or a multipart file) read as a stream: segments are read one at a time from a
/// bounded buffer, never the whole file as one string.
/// </summary>
public static class RemittanceBody
{
    /// <summary>An 835 of 10,000 claim payments is about 3 MB; 20 MB leaves room and stops a runaway upload.</summary>
    public const long MaxBytes = 20 * 1024 * 1024;

    /// <summary>
    /// The most segments one upload may carry (setting <c>Remittances:MaxSegments</c>): a 20 MB 835 of real claim payments
    /// has about 600,000; a file of tiny segments is refused before it makes more.
    /// </summary>
    public const int DefaultMaxSegments = 1_000_000;

    public static int MaxSegments(IConfiguration configuration) => configuration.GetValue("Remittances:MaxSegments", DefaultMaxSegments);

    /// <summary>
    /// Reads the 835s of the body. At most <see cref="MaxBytes"/> bytes and <paramref name="maxSegments"/> segments (413
    /// beyond); a file that is not a valid 835 is a 400 naming <c>file</c>, an amount that breaks a rule a 400 naming its element.
    /// </summary>
    public static async Task<(IReadOnlyList<Remittance835>? Remittances, Outcome.Rejected? Problem)> ReadAsync(HttpRequest request, int maxSegments, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes) return (null, TooLarge());
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            // The file plus a multipart envelope's headers and boundaries.
            limit.MaxRequestBodySize = MaxBytes + 64 * 1024;
        }

        try
        {
            Stream body;
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(ct);
                var file = form.Files.FirstOrDefault();
                if (file is null) return (null, Outcome.Reject("file", "a multipart upload must carry the 835 as a file", StatusCodes.Status400BadRequest));
                if (file.Length > MaxBytes) return (null, TooLarge());
                body = file.OpenReadStream();
            }
            else
            {
                body = request.Body;
            }

            return await ReadAsync(body, maxSegments, ct);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }
        catch (InvalidDataException e) when (e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase))
        {
            return (null, TooLarge());
        }
    }

    /// <summary>Reads the 835s of a stream (an upload's body, or a file of the clearinghouse's inbox) under the same limits.</summary>
    public static async Task<(IReadOnlyList<Remittance835>? Remittances, Outcome.Rejected? Problem)> ReadAsync(Stream body, int maxSegments, CancellationToken ct)
    {
        try
        {
            // A body without Content-Length is still bounded: reading past the limit stops the upload.
            using var text = new StreamReader(new BoundedStream(body, MaxBytes), Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 16 * 1024);
            return (await Remittance835Reader.ReadAsync(text, maxSegments, ct), null);
        }
        catch (BodyTooLargeException)
        {
            return (null, TooLarge());
        }
        catch (X12TooManySegmentsException e)
        {
            return (null, Outcome.Problem(StatusCodes.Status413PayloadTooLarge, "The file has too many segments",
                $"file: {e.Message} (setting Remittances:MaxSegments); split it by check (TRN)."));
        }
        catch (X12ElementException e)
        {
            return (null, Outcome.Reject(e.Element, e.Rule, StatusCodes.Status400BadRequest));
        }
        catch (X12FormatException e)
        {
            return (null, Outcome.Reject("file", $"is not a valid X12 835: {e.Message}", StatusCodes.Status400BadRequest));
        }
    }

    private static Outcome.Rejected TooLarge() => Outcome.Problem(StatusCodes.Status413PayloadTooLarge, "The file is too large",
        $"An 835 may be at most {MaxBytes / (1024 * 1024)} MB; split it by check (TRN).");

    private sealed class BodyTooLargeException : Exception;

    /// <summary>Reads at most <c>max</c> bytes of the inner stream; one byte more is <see cref="BodyTooLargeException"/>.</summary>
    private sealed class BoundedStream(Stream inner, long max) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Count(await inner.ReadAsync(buffer, ct));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > max ? throw new BodyTooLargeException() : read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
