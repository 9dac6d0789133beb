using System.Text;

namespace Nabla.Distributed;

/// <summary>The MPI library is missing, of another ABI, or its launcher is one Nabla does not run under.</summary>
public sealed class MpiUnavailableException(string message) : Exception(message);

/// <summary>
/// The processes of one MPI job (<c>MPI_COMM_WORLD</c>): who this process is, how many there are, on how many hosts,
/// and the few collective operations data-parallel training needs. One per process: created by <see cref="Init"/>,
/// finalized by <see cref="Dispose"/>.
/// </summary>
public sealed unsafe class MpiWorld : IDisposable
{
    private bool _disposed;

    private MpiWorld(int rank, int size, string host, int hosts) => (Rank, Size, Host, Hosts) = (rank, size, host, hosts);

    /// <summary>This process's rank, 0 to <see cref="Size"/> − 1.</summary>
    public int Rank { get; }

    /// <summary>The number of processes in the job.</summary>
    public int Size { get; }

    /// <summary>This process's host name (<c>MPI_Get_processor_name</c>).</summary>
    public string Host { get; }

    /// <summary>How many distinct hosts the processes run on.</summary>
    public int Hosts { get; }

    /// <summary>Whether this is rank 0: the one that prints and writes files.</summary>
    public bool IsRoot => Rank == 0;

    /// <summary>
    /// Which MPI launcher started this process, from the environment it sets (MPICH's Hydra: <c>PMI_RANK</c>; PMIx:
    /// <c>PMIX_RANK</c>; Open MPI: <c>OMPI_COMM_WORLD_SIZE</c>; Slurm's <c>srun</c>: <c>SLURM_PROCID</c> with more than
    /// one task), or null when it was started on its own. A process started by a launcher must never run a whole job
    /// by itself: N copies would race on the same output files.
    /// </summary>
    public static string? Launcher(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment("OMPI_COMM_WORLD_SIZE") is not null) return "Open MPI";
        if (environment("PMI_RANK") is not null || environment("PMI_SIZE") is not null) return "MPICH (PMI)";
        if (environment("PMIX_RANK") is not null) return "PMIx";
        if (environment("SLURM_PROCID") is not null && int.TryParse(environment("SLURM_NTASKS"), out int tasks) && tasks > 1) return "Slurm (srun)";
        return null;
    }

    /// <summary>Initializes MPI (threads serialized: one thread talks to MPI at a time) and learns the job's shape.</summary>
    /// <exception cref="MpiUnavailableException">No MPICH-ABI library, or a launcher of another ABI; the message says what to install or run.</exception>
    public static MpiWorld Init()
    {
        if (Launcher() == "Open MPI")
            throw new MpiUnavailableException("this process was started by Open MPI's mpiexec; Nabla binds the MPICH ABI (MPICH, Intel MPI, MVAPICH, Cray MPICH): launch it with mpiexec.mpich (apt-get install mpich)");
        Mpi.KeepCrashSignals(); // before MPICH (and UCX) load
        if (!Mpi.TryLoad(out string? error)) throw new MpiUnavailableException(error!);
        Mpi.Resolve();
        Check(Mpi.Initialized(out int initialized), "MPI_Initialized");
        if (initialized == 0) Check(Mpi.InitThread(0, 0, Mpi.ThreadSerialized, out _), "MPI_Init_thread");
        Check(Mpi.CommRank(Mpi.CommWorld, out int rank), "MPI_Comm_rank");
        Check(Mpi.CommSize(Mpi.CommWorld, out int size), "MPI_Comm_size");
        byte* name = stackalloc byte[Mpi.MaxProcessorName + 1];
        Check(Mpi.GetProcessorName(name, out int length), "MPI_Get_processor_name");
        length = Math.Clamp(length, 0, Mpi.MaxProcessorName);
        new Span<byte>(name + length, Mpi.MaxProcessorName + 1 - length).Clear();
        // Every process's name, to count the hosts: fixed-size records, one per rank.
        var all = new byte[(Mpi.MaxProcessorName + 1) * size];
        fixed (byte* r = all) Check(Mpi.Allgather(name, Mpi.MaxProcessorName + 1, Mpi.Byte, r, Mpi.MaxProcessorName + 1, Mpi.Byte, Mpi.CommWorld), "MPI_Allgather");
        int hosts = Enumerable.Range(0, size).Select(i => Convert.ToHexString(all, i * (Mpi.MaxProcessorName + 1), Mpi.MaxProcessorName + 1)).Distinct().Count();
        return new MpiWorld(rank, size, Encoding.UTF8.GetString(name, length), hosts);
    }

    internal static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}.");
    }

    /// <summary>Sends rank <paramref name="root"/>'s <paramref name="data"/> to every process.</summary>
    public void Broadcast(Span<float> data, int root = 0)
    {
        fixed (float* p = data) Check(Mpi.Bcast(p, data.Length, Mpi.Float, root, Mpi.CommWorld), "MPI_Bcast");
    }

    /// <summary>Every process's <paramref name="mine"/>, in rank order, into <paramref name="all"/> (Size × mine.Length).</summary>
    public void AllGather(ReadOnlySpan<double> mine, Span<double> all)
    {
        if (all.Length != mine.Length * Size) throw new ArgumentException($"{all.Length} slots for {Size} × {mine.Length} values.");
        fixed (double* s = mine, r = all) Check(Mpi.Allgather(s, mine.Length, Mpi.Double, r, mine.Length, Mpi.Double, Mpi.CommWorld), "MPI_Allgather");
    }

    /// <summary>Every process's <paramref name="value"/>, in rank order.</summary>
    public long[] AllGather(long value)
    {
        Span<double> mine = [BitConverter.Int64BitsToDouble(value)];
        var all = new double[Size];
        AllGather(mine, all);
        return [.. all.Select(BitConverter.DoubleToInt64Bits)];
    }

    /// <summary>The largest <paramref name="value"/> of all processes.</summary>
    public int Max(int value)
    {
        int result;
        Check(Mpi.Allreduce(&value, &result, 1, Mpi.Int, Mpi.Max, Mpi.CommWorld), "MPI_Allreduce");
        return result;
    }

    /// <summary>Waits until every process gets here.</summary>
    public void Barrier() => Check(Mpi.Barrier(Mpi.CommWorld), "MPI_Barrier");

    /// <summary>Ends every process of the job at once (after an error on this one that the others cannot see).</summary>
    public void Abort(int code) => Mpi.Abort(Mpi.CommWorld, code);

    /// <summary>Finalizes MPI (once).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (Mpi.Finalized(out int finalized) == 0 && finalized == 0) Mpi.Finalize();
    }
}
