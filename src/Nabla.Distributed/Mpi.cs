using System.Runtime.InteropServices;

namespace Nabla.Distributed;

/// <summary>
/// The dozen MPI calls Nabla needs, bound by hand against the MPICH ABI (MPICH, Intel MPI, MVAPICH, Cray MPICH:
/// handles are ints with these values; <c>libmpich.so.12</c>). Bound here rather than through MPI.NET 1.4.0 because
/// that package (netstandard2.0, 2017) binds Microsoft MPI's library name and marshals arrays with copies; these
/// calls take spans as they are, and the order of every sum is Nabla's own (<see cref="DataParallelEngine"/>), so no
/// MPI reduction of floats is used at all.
/// </summary>
internal static unsafe partial class Mpi
{
    internal const string Library = "mpi"; // resolved to libmpich.so.12 (see Resolve)

    // MPICH's mpi.h (4.0): predefined handles are compile-time ints.
    internal const int CommWorld = 0x44000000;
    internal const int Byte = 0x4c00010d;
    internal const int Float = 0x4c00040a;
    internal const int Double = 0x4c00080b;
    internal const int Int = 0x4c000405;
    internal const int Max = 0x58000001;
    internal const int ThreadSerialized = 2;
    internal const int MaxProcessorName = 128;
    internal static readonly nint StatusIgnore = 1; // also MPI_STATUSES_IGNORE
    internal static readonly void* InPlace = (void*)-1;

    private static int s_resolverSet;

    /// <summary>Points the binding's library name at MPICH's (once).</summary>
    internal static void Resolve()
    {
        if (Interlocked.Exchange(ref s_resolverSet, 1) != 0) return;
        NativeLibrary.SetDllImportResolver(typeof(Mpi).Assembly, (name, assembly, path) =>
        {
            if (name != Library) return 0;
            foreach (var candidate in Candidates())
                if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
            return 0;
        });
    }

    /// <summary>Where to look: NABLA_MPI_LIBRARY if set, then MPICH's soname, then the MPICH-ABI names of its kin.</summary>
    private static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable("NABLA_MPI_LIBRARY") is { Length: > 0 } custom) yield return custom;
        yield return "libmpich.so.12";
        yield return "libmpi.so.12"; // Intel MPI, MVAPICH and Cray MPICH under the MPICH ABI
        yield return "libmpich.so";
    }

    /// <summary>
    /// Keeps UCX (MPICH's transport) from taking over the crash signals, before its library is first loaded: its
    /// handler for SIGSEGV (<c>UCX_HANDLE_ERRORS</c>, on by default) would catch the signal .NET turns into a
    /// <see cref="NullReferenceException"/> and end the process with a native backtrace, so a bug on one process would
    /// never reach the CLI's error boundary (one line, the whole job ended). A value the user set is kept. Set with
    /// libc's <c>setenv</c>: <see cref="Environment.SetEnvironmentVariable(string, string)"/> does not reach native code.
    /// </summary>
    internal static void KeepCrashSignals()
    {
        if (!OperatingSystem.IsLinux()) return;
        SetEnv("UCX_HANDLE_ERRORS", "none", overwrite: 0);
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    /// <summary>Whether an MPICH-ABI library can be loaded here; <paramref name="error"/> says how to get one.</summary>
    internal static bool TryLoad(out string? error)
    {
        foreach (var candidate in Candidates())
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                NativeLibrary.Free(handle);
                error = null;
                return true;
            }
        error = "no MPI library of the MPICH ABI (libmpich.so.12) was found: install it with `apt-get install mpich` (or set NABLA_MPI_LIBRARY to its path)";
        return false;
    }

    [LibraryImport(Library, EntryPoint = "MPI_Init_thread")] internal static partial int InitThread(nint argc, nint argv, int required, out int provided);
    [LibraryImport(Library, EntryPoint = "MPI_Initialized")] internal static partial int Initialized(out int flag);
    [LibraryImport(Library, EntryPoint = "MPI_Finalized")] internal static partial int Finalized(out int flag);
    [LibraryImport(Library, EntryPoint = "MPI_Finalize")] internal static partial int Finalize();
    [LibraryImport(Library, EntryPoint = "MPI_Abort")] internal static partial int Abort(int comm, int code);
    [LibraryImport(Library, EntryPoint = "MPI_Comm_rank")] internal static partial int CommRank(int comm, out int rank);
    [LibraryImport(Library, EntryPoint = "MPI_Comm_size")] internal static partial int CommSize(int comm, out int size);
    [LibraryImport(Library, EntryPoint = "MPI_Get_processor_name")] internal static partial int GetProcessorName(byte* name, out int length);
    [LibraryImport(Library, EntryPoint = "MPI_Barrier")] internal static partial int Barrier(int comm);
    [LibraryImport(Library, EntryPoint = "MPI_Bcast")] internal static partial int Bcast(void* buffer, int count, int type, int root, int comm);
    [LibraryImport(Library, EntryPoint = "MPI_Allgather")]
    internal static partial int Allgather(void* send, int sendCount, int sendType, void* recv, int recvCount, int recvType, int comm);
    [LibraryImport(Library, EntryPoint = "MPI_Allgatherv")]
    internal static partial int Allgatherv(void* send, int sendCount, int sendType, void* recv, int* recvCounts, int* displacements, int recvType, int comm);
    [LibraryImport(Library, EntryPoint = "MPI_Iallgatherv")]
    internal static partial int Iallgatherv(void* send, int sendCount, int sendType, void* recv, int* recvCounts, int* displacements, int recvType, int comm, out int request);
    [LibraryImport(Library, EntryPoint = "MPI_Wait")] internal static partial int Wait(ref int request, nint status);
    [LibraryImport(Library, EntryPoint = "MPI_Allreduce")] internal static partial int Allreduce(void* send, void* recv, int count, int type, int op, int comm);
}
