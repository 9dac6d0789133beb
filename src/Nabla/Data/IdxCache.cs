using System.Buffers.Binary;
using System.Globalization;

namespace Nabla.Data;

/// <summary>
/// Uncompressed copies of large gzip IDX files, so that only the first run inflates them (Fashion-MNIST's training
/// images: about 0.15 s to inflate, a few milliseconds to read raw). A copy is named after the source's full path,
/// length and modification time, so a changed or moved source is read afresh; it is validated like any IDX file
/// and against the source's header, and a damaged copy is deleted and rebuilt. Writing a copy is best effort: a
/// read-only or full cache folder costs nothing but the speed-up.
/// </summary>
public static class IdxCache
{
    /// <summary>Sources smaller than this are read directly: caching them saves nothing measurable.</summary>
    public const long MinBytes = 1 << 20;

    /// <summary>Reads <paramref name="path"/>, through a raw copy in <paramref name="folder"/> when it is a large .gz.</summary>
    /// <param name="path">The IDX file (.gz or not).</param>
    /// <param name="folder">Where raw copies live.</param>
    /// <param name="dimensions">The source header's dimensions, already read (the copy must have the same).</param>
    /// <exception cref="DataFormatException">The source is missing, truncated or malformed.</exception>
    public static IdxFile Read(string path, string folder, int[] dimensions)
    {
        var info = new FileInfo(path);
        if (!info.Exists || info.Length < MinBytes || !path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return IdxReader.Read(path);
        string copy = Path.Combine(folder, CopyName(info));
        if (File.Exists(copy))
        {
            try
            {
                // Mapped, not read: every process on the host shares the page cache's one copy.
                if (Map(copy, dimensions) is { } mapped) return mapped;
            }
            catch (DataFormatException) { }
            catch (IOException) { }
            TryDelete(copy);
        }
        var idx = IdxReader.Read(path);
        TryWrite(copy, idx);
        return idx;
    }

    /// <summary>The raw copy mapped into memory, when its header and length are those of <paramref name="dimensions"/>; else null.</summary>
    private static IdxFile? Map(string copy, int[] dimensions)
    {
        if (!IdxReader.ReadDimensions(copy).SequenceEqual(dimensions)) return null;
        long header = 4 + 4L * dimensions.Length, size = dimensions.Aggregate(1L, (a, d) => a * d);
        if (size > Array.MaxLength || new FileInfo(copy).Length != header + size) return null;
        return new IdxFile(dimensions, MappedFile.Map<byte>(copy, header, (int)size));
    }

    private static string CopyName(FileInfo source)
    {
        ulong h = 0xCBF29CE484222325UL; // FNV-1a of the full path: stable across processes, unlike string hashes
        foreach (char ch in source.FullName) h = (h ^ ch) * 0x100000001B3UL;
        string stem = Path.GetFileNameWithoutExtension(source.Name);
        return string.Create(CultureInfo.InvariantCulture, $"{stem}-{h:x16}-{source.Length}-{source.LastWriteTimeUtc.Ticks}.idx");
    }

    private static void TryWrite(string copy, IdxFile idx)
    {
        string temp = copy + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                var header = new byte[4 + 4 * idx.Dimensions.Length];
                (header[2], header[3]) = (0x08, (byte)idx.Dimensions.Length);
                for (int i = 0; i < idx.Dimensions.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), idx.Dimensions[i]);
                f.Write(header);
                f.Write(idx.Data.Span);
            }
            File.Move(temp, copy, overwrite: true); // atomic: a reader sees no copy or a whole one
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
        }
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
