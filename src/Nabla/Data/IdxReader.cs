using System.Buffers.Binary;
using System.IO.Compression;

namespace Nabla.Data;

/// <summary>
/// Reads the IDX format of (Fashion-)MNIST, raw or gzip-compressed (one gzip member or several, as <c>cat a.gz
/// b.gz</c> makes): a 4-byte magic <c>0x00 0x00 type rank</c>, <c>rank</c> big-endian 32-bit dimensions, then the
/// data. Only type 0x08 (unsigned byte) is supported. The header is validated before any data buffer exists: magic,
/// rank (1–4), each dimension, that their product fits in memory, and that it fits the file (a raw file's length
/// exactly; a gzip file cannot expand more than 1032 times). The data buffer then grows with the bytes actually
/// read, so a small file whose header claims gigabytes is refused as truncated after reading what it holds, not
/// after allocating what it claims. Every failure is a <see cref="DataFormatException"/> naming the file.
/// </summary>
public static class IdxReader
{
    private const long MaxBytes = int.MaxValue - 64;

    /// <summary>DEFLATE's largest expansion (a 258-byte match in a 2-bit code): no gzip file decompresses to more.</summary>
    private const long MaxGzipRatio = 1032;

    /// <summary>The first data buffer; it doubles as data arrives.</summary>
    private const int InitialBuffer = 1 << 20;

    /// <summary>Reads <paramref name="path"/> (gzip if it ends in .gz or starts with the gzip magic).</summary>
    /// <exception cref="DataFormatException">The file is missing, truncated or malformed.</exception>
    public static IdxFile Read(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException($"{path}: file not found.");
        try
        {
            using var file = InputFile.OpenRead(path);
            bool gz = IsGzip(file);
            if (gz && file.Length < 18) throw new DataFormatException($"{path}: truncated gzip file ({file.Length} bytes).");
            long limit = gz ? file.Length * MaxGzipRatio : file.Length;
            IdxFile idx;
            using (Stream stream = gz ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true) : file)
                idx = Read(stream, path, gz ? null : file.Length, limit: limit);
            if (gz) CheckTrailer(file, path, 4 + 4L * idx.Dimensions.Length + (long)idx.Data.Length);
            return idx;
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{path}: corrupt gzip data ({e.Message}). Delete the file and download it again.", e);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            throw new DataFormatException($"{path}: cannot be read ({e.Message}).", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new DataFormatException($"{path}: cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>Only the dimensions of <paramref name="path"/>'s header (reading a few bytes), to check files against each other first.</summary>
    /// <exception cref="DataFormatException">The file is missing, truncated or malformed.</exception>
    public static int[] ReadDimensions(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException($"{path}: file not found.");
        try
        {
            using var file = InputFile.OpenRead(path);
            bool gz = IsGzip(file);
            using Stream stream = gz ? new GZipStream(file, CompressionMode.Decompress) : file;
            return ReadHeader(stream, path, gz ? null : file.Length, gz ? file.Length * MaxGzipRatio : file.Length).Dims;
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{path}: corrupt gzip data ({e.Message}). Delete the file and download it again.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not FileNotFoundException)
        {
            throw new DataFormatException($"{path}: cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Reads an IDX stream. <paramref name="expectedTotal"/> is the stream's exact length when known (header
    /// included); <paramref name="limit"/> bounds what it may decompress to (a gzip file's length × 1032).
    /// </summary>
    public static IdxFile Read(Stream stream, string name, long? expectedTotal, long limit = long.MaxValue)
    {
        var (dims, size) = ReadHeader(stream, name, expectedTotal, limit);
        // A raw file's length was checked against the header: its buffer is allocated once. A compressed stream's
        // buffer grows with what actually arrives.
        var data = expectedTotal is null ? ReadData(stream, name, size) : ReadExact(stream, name, size);
        if (stream.ReadByte() != -1) throw new DataFormatException($"{name}: unexpected bytes after the {size} data bytes.");
        return new IdxFile(dims, data);
    }

    private static (int[] Dims, long Size) ReadHeader(Stream stream, string name, long? expectedTotal, long limit)
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
        if (expectedTotal is long expected && total != expected)
            throw new DataFormatException($"{name}: dimensions ({string.Join(", ", dims)}) need {total} bytes but the file holds {expected}: the file is truncated or corrupt.");
        if (total > limit)
            throw new DataFormatException($"{name}: dimensions ({string.Join(", ", dims)}) need {total:N0} bytes, more than the compressed file can hold: the file is truncated or corrupt.");
        return (dims, size);
    }

    private static byte[] ReadExact(Stream stream, string name, long size)
    {
        var data = new byte[size];
        int got = ReadFully(stream, data);
        if (got < size) throw new DataFormatException($"{name}: truncated: {got} of {size} data bytes.");
        return data;
    }

    /// <summary>Reads exactly <paramref name="size"/> bytes into a buffer that grows with what arrives.</summary>
    private static byte[] ReadData(Stream stream, string name, long size)
    {
        var data = new byte[Math.Min(size, InitialBuffer)];
        long got = 0;
        while (true)
        {
            int n = ReadFully(stream, data.AsSpan((int)got));
            got += n;
            if (got == size) return data;
            if (got < data.Length) throw new DataFormatException($"{name}: truncated: {got} of {size} data bytes.");
            Array.Resize(ref data, (int)Math.Min(size, 2L * data.Length));
        }
    }

    /// <summary>
    /// A gzip file ends with its last member's uncompressed size (mod 2³²); .NET's inflater stops quietly where a file
    /// was cut inside that trailer, so it is checked here: it must be the whole data's size (one member), or the
    /// file must hold further members (<c>cat a.gz b.gz</c>), whose trailers the inflater checked as it crossed them.
    /// </summary>
    private static void CheckTrailer(FileStream file, string path, long total)
    {
        Span<byte> tail = stackalloc byte[4];
        file.Position = file.Length - 4;
        file.ReadExactly(tail);
        if (BinaryPrimitives.ReadUInt32LittleEndian(tail) == (uint)total) return;
        // Another member starts with the magic 1f 8b and the method 08, at byte 18 or later.
        file.Position = 18;
        Span<byte> buffer = stackalloc byte[1 << 16];
        int seen = 0; // how much of 1f 8b 08 the bytes just read match
        int n;
        while ((n = file.Read(buffer)) > 0)
            foreach (byte b in buffer[..n])
            {
                seen = b == 0x1f ? 1 : seen == 1 && b == 0x8b ? 2 : seen == 2 && b == 0x08 ? 3 : 0;
                if (seen == 3) return;
            }
        throw new DataFormatException($"{path}: the gzip trailer does not match the data ({total} bytes): the file is truncated or corrupt. Delete it and download it again.");
    }

    private static bool IsGzip(FileStream f)
    {
        Span<byte> b = stackalloc byte[2];
        int n = f.Read(b);
        f.Position = 0;
        return n == 2 && b[0] == 0x1f && b[1] == 0x8b;
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
