using System.Buffers.Binary;
using System.IO.Compression;

namespace Nabla.Data;

/// <summary>
/// Reads the IDX format of (Fashion-)MNIST, raw or gzip-compressed: a 4-byte magic <c>0x00 0x00 type rank</c>,
/// <c>rank</c> big-endian 32-bit dimensions, then the data. Only type 0x08 (unsigned byte) is supported.
/// Everything is validated before the data buffer is allocated: magic, rank (1–4), each dimension, that their
/// product fits in memory, and that it matches the file (for .gz, the size recorded in the gzip trailer);
/// a short or corrupt stream is reported as such. Every failure is a <see cref="DataFormatException"/> naming the file.
/// </summary>
public static class IdxReader
{
    private const long MaxBytes = int.MaxValue - 64;

    /// <summary>Reads <paramref name="path"/> (gzip if it ends in .gz or starts with the gzip magic).</summary>
    /// <exception cref="DataFormatException">The file is missing, truncated or malformed.</exception>
    public static IdxFile Read(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException($"{path}: file not found.");
        try
        {
            using var file = File.OpenRead(path);
            bool gz = IsGzip(file);
            long? expectedTotal = gz ? GzipTrailerSize(file) : file.Length;
            using Stream stream = gz ? new GZipStream(file, CompressionMode.Decompress) : file;
            return Read(stream, path, expectedTotal, gz);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{path}: corrupt gzip data ({e.Message}). Delete the file and download it again.", e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new DataFormatException($"{path}: cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Reads an IDX stream. <paramref name="expectedTotal"/> is the stream's total length when known (header
    /// included; modulo 2³² for gzip, whose trailer stores only that).
    /// </summary>
    public static IdxFile Read(Stream stream, string name, long? expectedTotal, bool modulo32 = false)
    {
        Span<byte> magic = stackalloc byte[4];
        if (ReadFully(stream, magic) < 4) throw new DataFormatException($"{name}: truncated: shorter than the 4-byte IDX header.");
        if (magic[0] != 0 || magic[1] != 0)
            throw new DataFormatException($"{name}: not an IDX file (magic number 0x{BinaryPrimitives.ReadUInt32BigEndian(magic):X8} should start with 0x0000).");
        if (magic[2] != 0x08)
            throw new DataFormatException($"{name}: IDX data type 0x{magic[2]:X2} is not supported (only 0x08, unsigned bytes).");
        int rank = magic[3];
        if (rank < 1 || rank > 4) throw new DataFormatException($"{name}: IDX rank {rank} is outside 1–4.");
        Span<byte> dimBytes = stackalloc byte[4 * rank];
        if (ReadFully(stream, dimBytes) < dimBytes.Length) throw new DataFormatException($"{name}: truncated inside the IDX header.");
        var dims = new int[rank];
        long size = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(dimBytes[(4 * i)..]);
            if (d > int.MaxValue) throw new DataFormatException($"{name}: dimension {i} is {d}, too large.");
            dims[i] = (int)d;
            size *= d;
            if (size > MaxBytes) throw new DataFormatException($"{name}: dimensions ({string.Join(", ", dims[..(i + 1)])}…) describe more than {MaxBytes} bytes.");
        }
        long total = 4 + 4L * rank + size;
        if (expectedTotal is long expected)
        {
            bool match = modulo32 ? (uint)total == (uint)expected : total == expected;
            if (!match)
                throw new DataFormatException($"{name}: dimensions ({string.Join(", ", dims)}) need {total} bytes but the file holds {expected}: the file is truncated or corrupt.");
        }
        var data = new byte[size];
        int got = ReadFully(stream, data);
        if (got < size) throw new DataFormatException($"{name}: truncated: {got} of {size} data bytes.");
        if (stream.ReadByte() != -1) throw new DataFormatException($"{name}: unexpected bytes after the {size} data bytes.");
        return new IdxFile(dims, data);
    }

    private static bool IsGzip(FileStream f)
    {
        Span<byte> b = stackalloc byte[2];
        int n = f.Read(b);
        f.Position = 0;
        return n == 2 && b[0] == 0x1f && b[1] == 0x8b;
    }

    /// <summary>ISIZE, the last 4 bytes of a gzip file: the uncompressed length modulo 2³².</summary>
    private static long? GzipTrailerSize(FileStream f)
    {
        if (f.Length < 18) throw new DataFormatException($"{f.Name}: truncated gzip file ({f.Length} bytes).");
        Span<byte> b = stackalloc byte[4];
        f.Position = f.Length - 4;
        f.ReadExactly(b);
        f.Position = 0;
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    private static int ReadFully(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
