namespace Nabla.IO;

/// <summary>
/// Writes a file so that readers see either the old contents or the complete new ones, never a torn write:
/// a temporary file beside the target, flushed to disk, then renamed over it (rename is atomic on POSIX).
/// A process killed mid-write leaves its temporary file behind (never a damaged target); the next write to the same
/// target removes it.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> by calling <paramref name="write"/> on a stream over a temporary file.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        foreach (var stale in Directory.GetFiles(dir, "." + Path.GetFileName(full) + ".tmp-*"))
        {
            try { File.Delete(stale); } catch (IOException) { }
        }
        string temp = Path.Combine(dir, "." + Path.GetFileName(full) + ".tmp-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
