using System.Security.Cryptography;

namespace KetamineBilling.Features.Remittances;

/// <summary>The same remittance in any envelope: the transaction set's segments without its own control numbers.</summary>
public static class RemittanceContentHash
{
    public static string Of(Remittance835 remittance)
    {
        // The UTF-8 JSON of the remittance, hashed as it is written (the same bytes as hashing the serialized string).
        using var hashing = new HashingStream();
        System.Text.Json.JsonSerializer.Serialize(hashing, remittance);
        return Convert.ToHexString(hashing.Hash());
    }

    private sealed class HashingStream : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Hash() => _hash.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count) => _hash.AppendData(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => _hash.AppendData(buffer);
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
