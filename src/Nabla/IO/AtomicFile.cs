namespace Nabla.IO;

/// <summary>
/// Writes a file so that readers see either the old contents or the complete new ones, never a torn write:
/// a temporary file beside the target, flushed to disk, then renamed over it (rename is atomic on POSIX).
/// A process killed mid-write leaves its temporary file behind (never a damaged target); the next write to the same
/// target removes it. A target that exists and is not a regular file (a device such as <c>/dev/null</c>, a folder, a
/// pipe) is refused rather than replaced by the rename; a symbolic link is followed, so the file it points to is
/// written and the link stays. A failed or short write (a full disk) throws, and the target keeps its old contents.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> by calling <paramref name="write"/> on a stream over a temporary file.</summary>
    /// <exception cref="IOException">The target is not a regular file, or the write failed (the message says why).</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Target(path);
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

    /// <summary>
    /// The file a write to <paramref name="path"/> replaces: its full path, through symbolic links.
    /// </summary>
    /// <exception cref="IOException">The path is empty, or names something that is not a regular file.</exception>
    public static string Target(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new IOException("An empty path names no file.");
        string full = Path.GetFullPath(path);
        var info = new FileInfo(full);
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } final) full = final.FullName;
        if (Directory.Exists(full)) throw new IOException($"{full} is a folder, not a file.");
        if (File.Exists(full) && !IsRegular(full))
            throw new IOException($"{full} is not a regular file (a device, a pipe or a socket); Nabla writes files by replacing them, so it leaves it alone.");
        return full;
    }

    /// <summary>Whether <paramref name="path"/> is a regular file (not a device, FIFO or socket).</summary>
    private static unsafe bool IsRegular(string path)
    {
        // .NET has no public file-type query on Unix (FileAttributes says nothing of devices), so ask stat(2): st_mode
        // sits at byte 24 of struct stat on x86-64 and at byte 16 on the generic layout of arm64 (glibc ≥ 2.33 exports
        // stat itself). Elsewhere, or if libc cannot be called, only /dev, /proc and /sys are taken as special.
        int offset = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => 24,
            System.Runtime.InteropServices.Architecture.Arm64 => 16,
            _ => -1,
        };
        if (OperatingSystem.IsLinux() && offset >= 0)
        {
            try
            {
                byte* buffer = stackalloc byte[256];
                if (Stat(path, buffer) == 0) return (*(uint*)(buffer + offset) & 0xF000) == 0x8000; // S_IFREG
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
        }
        return !path.StartsWith("/dev/", StringComparison.Ordinal) && !path.StartsWith("/proc/", StringComparison.Ordinal)
            && !path.StartsWith("/sys/", StringComparison.Ordinal);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "stat", SetLastError = true)]
    private static extern unsafe int Stat([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, byte* buffer);
}
