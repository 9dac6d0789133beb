using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Nabla.Data;

/// <summary>
/// Opens files that a user or a folder names, for reading: regular files only. A FIFO would block the open (or the
/// read) forever, a character device such as <c>/dev/zero</c> never ends, a directory is not data; each is refused
/// with one line before anything is read. With <see cref="OpenInside"/> symbolic links are not followed and the file
/// must really lie inside a given folder (what a server answering for a folder needs).
/// </summary>
/// <remarks>
/// .NET's <see cref="File.OpenRead"/> opens a FIFO (and blocks until a writer comes) and follows every link, and the
/// base library exposes neither <c>O_NOFOLLOW</c> nor the file type of an open handle. On Linux the file is therefore
/// opened with <c>open(2)</c> (<c>O_NONBLOCK</c>: opening a FIFO returns at once; <c>O_NOFOLLOW</c> where asked) and
/// its type read from the open descriptor with <c>statx(2)</c>, whose layout is the same on every architecture; so
/// what is checked is what is read, with no window for a swap between a check and the open. Elsewhere the same rules
/// are checked on the path before a plain open.
/// </remarks>
internal static partial class InputFile
{
    /// <summary>Opens <paramref name="path"/> (links followed: the user named it) if it is a regular file.</summary>
    /// <exception cref="DataFormatException">Missing, not a regular file, or unreadable; the message names the path.</exception>
    public static FileStream OpenRead(string path, int bufferSize = 4096)
    {
        if (TryOpen(path, followLinks: true, bufferSize, out var stream, out string? why)) return stream!;
        throw new DataFormatException($"{path}: {why}");
    }

    /// <summary>
    /// Opens <paramref name="path"/> only if it is a regular file, not a symbolic link, and its real path lies inside
    /// <paramref name="root"/> (whatever links the folders on the way hold).
    /// </summary>
    /// <returns>The stream, or null with <paramref name="why"/> saying what it was.</returns>
    public static FileStream? OpenInside(string root, string path, out string? why, int bufferSize = 4096)
    {
        if (!TryOpen(path, followLinks: false, bufferSize, out var stream, out why)) return null;
        if (RealPath(stream!) is { } real && RealPath(root) is { } inside
            && !real.StartsWith(inside.TrimEnd('/') + "/", StringComparison.Ordinal))
        {
            stream!.Dispose();
            why = "lies outside the served folder";
            return null;
        }
        return stream;
    }

    /// <summary>Whether <paramref name="path"/> is a regular file that is not a link (nothing is opened).</summary>
    public static bool IsPlainFile(string path)
    {
        var info = new FileInfo(path);
        return info.Exists && info.LinkTarget is null && Kind(path) == "a regular file";
    }

    private static bool TryOpen(string path, bool followLinks, int bufferSize, out FileStream? stream, out string? why)
    {
        stream = null;
        if (!OperatingSystem.IsLinux()) return TryOpenPortable(path, followLinks, bufferSize, out stream, out why);
        int flags = NonBlock | CloseOnExec | (followLinks ? 0 : NoFollow);
        int fd = Native.Open(path, flags);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            why = errno switch
            {
                2 => "file not found.",
                13 or 1 => "permission denied.",
                21 => "is a folder, not a file.",
                40 when !followLinks => "is a symbolic link; links are not followed here.",
                40 => "too many levels of symbolic links (a link loop?).",
                _ => $"cannot be opened ({Marshal.GetPInvokeErrorMessage(errno)}).",
            };
            return false;
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        string kind = KindOf(handle);
        if (kind != "a regular file")
        {
            handle.Dispose();
            why = $"is {kind}, not a regular file; give the path of a file.";
            return false;
        }
        stream = new FileStream(handle, FileAccess.Read, bufferSize);
        why = null;
        return true;
    }

    private static bool TryOpenPortable(string path, bool followLinks, int bufferSize, out FileStream? stream, out string? why)
    {
        stream = null;
        var info = new FileInfo(path);
        if (!followLinks && info.LinkTarget is not null) { why = "is a symbolic link; links are not followed here."; return false; }
        if (Directory.Exists(path)) { why = "is a folder, not a file."; return false; }
        if (!File.Exists(path)) { why = "file not found."; return false; }
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize);
            why = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = $"cannot be opened ({e.Message}).";
            return false;
        }
    }

    /// <summary>What <paramref name="path"/> is ("a regular file", "a FIFO", …), links not followed; "missing" when absent.</summary>
    internal static string Kind(string path)
    {
        if (!OperatingSystem.IsLinux()) return File.Exists(path) ? "a regular file" : Directory.Exists(path) ? "a folder" : "missing";
        Span<byte> buffer = stackalloc byte[StatxSize];
        return Native.Statx(AtCurrentDirectory, path, SymlinkNoFollow, StatxType, ref MemoryMarshal.GetReference(buffer)) == 0
            ? Name(BitConverter.ToUInt16(buffer[ModeOffset..])) : "missing";
    }

    private static string KindOf(SafeFileHandle handle)
    {
        Span<byte> buffer = stackalloc byte[StatxSize];
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            return Native.Statx(fd, "", EmptyPath, StatxType, ref MemoryMarshal.GetReference(buffer)) == 0
                ? Name(BitConverter.ToUInt16(buffer[ModeOffset..])) : "unreadable";
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private static string Name(ushort mode) => (mode & 0xF000) switch
    {
        0x8000 => "a regular file",
        0x4000 => "a folder",
        0x1000 => "a FIFO",
        0x2000 => "a character device",
        0x6000 => "a block device",
        0xC000 => "a socket",
        0xA000 => "a symbolic link",
        _ => "of an unknown kind",
    };

    /// <summary>The path the open file really has (Linux: its /proc/self/fd link), or null where that cannot be told.</summary>
    private static string? RealPath(FileStream stream)
    {
        if (!OperatingSystem.IsLinux()) return null;
        return new FileInfo($"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle()}").LinkTarget;
    }

    /// <summary>The canonical absolute path of a folder (links resolved), or null where that cannot be told.</summary>
    private static string? RealPath(string folder)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var buffer = new byte[4096 + 1];
        return Native.RealPath(folder, buffer) == 0 ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, Array.IndexOf(buffer, (byte)0));
    }

    // Linux's open(2) flags. O_NOFOLLOW differs between architectures (x86, x86-64 and RISC-V share the generic value).
    private const int NonBlock = 0x800, CloseOnExec = 0x80000;
    private static readonly int NoFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    // statx(2): the file type is in stx_mode, a u16 at byte 28 of the 256-byte struct statx, on every architecture.
    private const int StatxSize = 256, ModeOffset = 28, StatxType = 0x1, EmptyPath = 0x1000, SymlinkNoFollow = 0x100, AtCurrentDirectory = -100;

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte buffer);

        [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
        public static partial nint RealPath(string path, byte[] resolved);
    }
}
