using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Nabla.Tensors;

namespace Nabla.Distributed;

/// <summary>
/// Memory that the processes of a job on one host share, page for page: the data-parallel step's activation and
/// gradient buffers and the model's parameters. A row one process writes there is every process's row after a barrier,
/// without a copy — where <c>MPI_Allgatherv</c> through MPICH's shared memory copies it twice, or once through the
/// kernel (CMA), and each process keeps its own copy of the parameters.
/// </summary>
/// <remarks>
/// <para>Nabla's tensors and engine buffers are .NET arrays, so the sharing is done under them rather than by moving
/// them to native memory: a buffer is a pinned array (the pinned object heap never moves or compacts it), and the whole
/// pages inside it are replaced by a shared mapping of one file in <c>/dev/shm</c> (<c>mmap</c> with <c>MAP_FIXED</c>);
/// the array's header and any neighbour's bytes lie outside those pages and are untouched. Such an array must not be
/// collected while mapped (its pages would be handed to other objects), so each is held here until
/// <see cref="Dispose"/> or <see cref="Unshare"/> puts private pages back under it, with its values.</para>
/// <para>No .NET library maps shared memory over an existing array (MemoryMappedFile maps at an address of its own
/// choosing), hence these few libc calls. The file is removed as soon as every process has mapped it, so a job killed
/// later leaves nothing in <c>/dev/shm</c>; its pages are reserved up front (<c>posix_fallocate</c>), so a full
/// <c>/dev/shm</c> is an error here, not a crash in the middle of a step.</para>
/// </remarks>
internal sealed unsafe partial class SharedPages : IDisposable
{
    private static readonly List<float[]> s_mapped = []; // every array with shared pages under it, in any job: kept alive
    private readonly MpiWorld _world;
    private readonly string _prefix;
    private readonly List<(float[] Array, int Start, int Floats)> _regions = [];
    private int _files;

    private SharedPages(MpiWorld world, string prefix) => (_world, _prefix) = (world, prefix);

    /// <summary>
    /// Shared pages for <paramref name="world"/>, or null where its processes cannot share memory: a job on several
    /// hosts, a job of one process, or not Linux. Every process calls it, and gets the same answer.
    /// </summary>
    public static SharedPages? TryCreate(MpiWorld world)
    {
        // NABLA_MPI_SHM_DIR: another tmpfs (or, in tests, a directory where nothing can be created).
        string directory = Environment.GetEnvironmentVariable("NABLA_MPI_SHM_DIR") is { Length: > 0 } d ? d : "/dev/shm";
        if (world.Size < 2 || world.Hosts != 1 || !OperatingSystem.IsLinux() || !Directory.Exists(directory)) return null;
        // A name no other job uses: rank 0's process id and a random number, known to all.
        long token = world.AllGather(world.IsRoot ? (long)Environment.ProcessId << 32 | (uint)RandomNumberGenerator.GetInt32(int.MaxValue) : 0)[0];
        return new SharedPages(world, Path.Combine(directory, $"nabla-{token:x16}"));
    }

    /// <summary>A zeroed buffer of <paramref name="floats"/> that every process sees (collective: all allocate alike).</summary>
    /// <exception cref="IOException">The shared memory could not be made on some process: every process throws.</exception>
    public Memory<float> Allocate(int floats)
    {
        var (array, start) = TensorArena.AllocatePages(floats);
        Map(array, start, TensorArena.RoundToPages(floats), keep: false);
        return new Memory<float>(array, start, floats);
    }

    /// <summary>
    /// Maps shared pages under <paramref name="floats"/> (whole pages) of the pinned <paramref name="array"/> from
    /// <paramref name="start"/> (a page's start), holding rank 0's values (collective).
    /// </summary>
    /// <exception cref="IOException">The shared memory could not be made on some process: every process throws, values kept.</exception>
    public void Share(float[] array, int start, int floats) => Map(array, start, floats, keep: true);

    /// <summary>Whether <paramref name="span"/> lies in the shared pages.</summary>
    public bool Contains(ReadOnlySpan<float> span)
    {
        if (span.IsEmpty) return false;
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
        foreach (var (array, start, floats) in _regions)
        {
            nint s = (nint)Unsafe.AsPointer(ref array[start]);
            if (p >= s && p + span.Length * sizeof(float) <= s + floats * sizeof(float)) return true;
        }
        return false;
    }

    /// <summary>Puts private pages back under <paramref name="array"/>'s shared ones, with the values they hold (this process only).</summary>
    public void Unshare(float[] array)
    {
        for (int i = _regions.Count - 1; i >= 0; i--)
            if (ReferenceEquals(_regions[i].Array, array))
            {
                var (a, start, floats) = _regions[i];
                Private(a, start, floats);
                _regions.RemoveAt(i);
            }
    }

    /// <summary>Private pages under every shared buffer, values kept: the arrays are ordinary memory again.</summary>
    public void Dispose()
    {
        foreach (var (array, start, floats) in _regions) Private(array, start, floats);
        _regions.Clear();
    }

    private void Map(float[] array, int start, int floats, bool keep)
    {
        string path = $"{_prefix}-{_files++}";
        long bytes = (long)floats * sizeof(float);
        float[]? values = keep ? array.AsSpan(start, floats).ToArray() : null;
        string? error = null;
        int fd = -1;
        if (_world.IsRoot)
        {
            fd = Open(path, ORdWr | OCreat | OExcl | OCloExec, 0x180); // 0600
            if (fd < 0) error = $"cannot create {path}: {Marshal.GetLastPInvokeErrorMessage()}";
            else if (Ftruncate(fd, bytes) != 0) error = $"cannot size {path}: {Marshal.GetLastPInvokeErrorMessage()}";
            else if (PosixFallocate(fd, 0, bytes) is int e and not 0) error = $"/dev/shm has no room for {bytes:N0} bytes (error {e})";
            else error = MapFixed(array, start, bytes, fd);
            if (error is null && values is not null) values.CopyTo(array.AsSpan(start, floats));
        }
        bool created = _world.Max(error is null ? 0 : 1) == 0;
        if (created && !_world.IsRoot)
        {
            fd = Open(path, ORdWr | OCloExec, 0);
            error = fd < 0 ? $"cannot open {path}: {Marshal.GetLastPInvokeErrorMessage()}" : MapFixed(array, start, bytes, fd);
        }
        bool mapped = created && _world.Max(error is null ? 0 : 1) == 0; // also: every process has opened the file
        if (fd >= 0) Close(fd);
        if (_world.IsRoot && created) Unlink(path);
        if (error is null && created) Track(array, start, floats); // mapped here; undone below if another process failed
        if (!mapped)
        {
            if (error is null && created) Unshare(array);
            if (values is not null) values.CopyTo(array.AsSpan(start, floats));
            throw new IOException(error ?? "another process of the job could not map the shared memory");
        }
    }

    private void Track(float[] array, int start, int floats)
    {
        _regions.Add((array, start, floats));
        lock (s_mapped) s_mapped.Add(array);
    }

    private static string? MapFixed(float[] array, int start, long bytes, int fd)
    {
        void* at = Unsafe.AsPointer(ref array[start]);
        void* got = Mmap(at, (nuint)bytes, ProtRead | ProtWrite, MapShared | MapFixedFlag, fd, 0);
        return got == at ? null : $"cannot map shared memory: {Marshal.GetLastPInvokeErrorMessage()}";
    }

    private static void Private(float[] array, int start, int floats)
    {
        var values = array.AsSpan(start, floats).ToArray();
        void* at = Unsafe.AsPointer(ref array[start]);
        if (Mmap(at, (nuint)((long)floats * sizeof(float)), ProtRead | ProtWrite, MapPrivate | MapFixedFlag | MapAnonymous, -1, 0) != at)
            throw new InvalidOperationException($"Cannot put private memory back under a shared buffer: {Marshal.GetLastPInvokeErrorMessage()}.");
        values.CopyTo(array.AsSpan(start, floats));
        lock (s_mapped) s_mapped.Remove(array);
    }

    // Linux x86-64 / arm64 values (asm-generic).
    private const int ORdWr = 2, OCreat = 0x40, OExcl = 0x80, OCloExec = 0x80000;
    private const int ProtRead = 1, ProtWrite = 2, MapShared = 1, MapPrivate = 2, MapFixedFlag = 0x10, MapAnonymous = 0x20;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, int mode);
    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)] private static partial int Ftruncate(int fd, long length);
    [LibraryImport("libc", EntryPoint = "posix_fallocate")] private static partial int PosixFallocate(int fd, long offset, long length);
    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);
    [LibraryImport("libc", EntryPoint = "close")] private static partial int Close(int fd);
    [LibraryImport("libc", EntryPoint = "unlink", StringMarshalling = StringMarshalling.Utf8)] private static partial int Unlink(string path);
}
