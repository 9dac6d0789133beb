using System.Runtime.InteropServices;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;

namespace Nabla.Distributed;

/// <summary>
/// The data-parallel step's traffic over MPI: every process's share of a batch's rows (activations, gradients with
/// respect to them) and of each parameter's rows, gathered in place with <c>MPI_Allgatherv</c>. Nothing is summed
/// across processes, so MPI's choice of algorithm cannot change a bit. With a sharded optimizer
/// (<see cref="BeginStep"/>), a parameter's own rows are updated as soon as this process's share of its gradient is
/// computed and the updated rows are gathered (<c>MPI_Iallgatherv</c>) while the backward pass goes on; otherwise the
/// gradient's shares are gathered so, and the caller steps after <see cref="Finish"/>.
/// On one host, buffers in <see cref="SharedPages"/> are not copied at all: a gather of them is a barrier, after which
/// every process reads the others' rows where they wrote them. When the parameters lie there too
/// (<see cref="ShareParameters"/>), a process updates its own rows in place once every process is past the last read of
/// them in the step (the next barrier), and the step ends with one more barrier: no parameter is sent anywhere.
/// </summary>
/// <remarks>MPI runs with threads serialized: only the training thread calls it.</remarks>
internal sealed unsafe class RowExchange : IRowSharing, IDisposable
{
    private readonly MpiWorld _world;
    private readonly Dictionary<long, nint> _layouts = []; // (rows, width) → counts then displacements, pinned: MPI reads them until a gather completes
    private readonly Dictionary<Tensor, int> _index = new(ReferenceEqualityComparer.Instance);
    private readonly int[] _requests; // gathers in flight, in the order they started
    private readonly Tensor[] _parameters;
    private readonly SharedPages? _shared;
    private readonly (int Index, int Rows, int Width)[] _pending; // updates of own rows waiting for the next barrier
    private int _pendingCount;
    private Optimizer? _sharded;
    private TensorArena? _arena; // the parameters' arena, once shared
    private int _inFlight;

    /// <param name="world">The job.</param>
    /// <param name="parameters">The model's parameters, in the optimizer's order.</param>
    /// <param name="overlap">Start each gather of a parameter's rows and go on, and shard the optimizer's update when
    /// <see cref="BeginStep"/> allows (false: gather gradients there and then and step after, for comparison: the same bits).</param>
    /// <param name="shared">Memory the processes share (one host), or null: a gather of a buffer that lies there is a barrier.</param>
    public RowExchange(MpiWorld world, Tensor[] parameters, bool overlap = true, SharedPages? shared = null)
    {
        _shared = shared;
        _pending = new (int, int, int)[parameters.Length];
        _world = world;
        Overlapped = overlap;
        _parameters = parameters;
        for (int i = 0; i < parameters.Length; i++) _index[parameters[i]] = i;
        _requests = new int[parameters.Length];
    }

    /// <summary>Whether a gradient's gather runs on while the backward pass goes on (else it completes at once).</summary>
    public bool Overlapped { get; }

    public int Rank => _world.Rank;

    public int Size => _world.Size;

    /// <summary>Seconds spent in MPI calls (sending, receiving, waiting for the other processes), since it was made.</summary>
    public double Seconds { get; private set; }

    /// <summary>
    /// Starts a step: with <paramref name="sharded"/> (an optimizer holding the model's parameters in the engine's
    /// order, and nothing such as clipping that needs every gradient first) each parameter's own rows are updated as
    /// soon as their gradient is computed, and the parameter's rows gathered; with null, the gradients are gathered.
    /// </summary>
    public void BeginStep(Optimizer? sharded) => _sharded = Overlapped && Size > 1 ? sharded : null;

    /// <summary>Whether this step's update is sharded (each process updates its own rows; see <see cref="BeginStep"/>).</summary>
    public bool Sharded => _sharded is not null;

    /// <summary>Whether the parameters lie in the shared pages (<see cref="ShareParameters"/>).</summary>
    public bool SharedParameters { get; private set; }

    /// <summary>
    /// Maps the shared pages under the parameter <paramref name="arena"/> (collective; rank 0's values, which every
    /// process holds already). From then on a sharded step updates them in place; a step that is not sharded needs
    /// <see cref="UnshareParameters"/> first, since every process would write every row.
    /// </summary>
    /// <exception cref="IOException">The shared memory could not be made: the parameters stay private.</exception>
    public void ShareParameters(TensorArena arena)
    {
        if (_shared is null || !Overlapped) return;
        var (buffer, start) = arena.Pages;
        _shared.Share(buffer, start, arena.PagedLength);
        (SharedParameters, _arena) = (true, arena);
    }

    /// <summary>Private parameters again, values kept (this process; between steps).</summary>
    public void UnshareParameters()
    {
        if (!SharedParameters) return;
        _shared!.Unshare(_arena!.Pages.Buffer);
        SharedParameters = false;
    }

    public void AllGatherRows(Span<float> buffer, int rows, int width)
    {
        if (_shared?.Contains(buffer) == true)
        {
            Barrier();
            return;
        }
        fixed (float* p = buffer) AllGather(p, Mpi.Float, rows, width);
    }

    public void AllGatherRowsBeforeNext(Span<float> buffer, int rows, int width)
    {
        if (_shared?.Contains(buffer) == true) return; // the next gather's barrier stands for it
        AllGatherRows(buffer, rows, width);
    }

    /// <summary>
    /// Waits until every process gets here — so every row written to shared pages before it is everyone's — then
    /// applies the updates of own rows that waited for every process to be past its reads of them.
    /// </summary>
    private void Barrier()
    {
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        Interlocked.MemoryBarrier(); // this process's stores before the barrier's; the others' visible after it
        MpiWorld.Check(Mpi.Barrier(Mpi.CommWorld), "MPI_Barrier");
        Interlocked.MemoryBarrier();
        Seconds += System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
        ApplyPending();
    }

    private void ApplyPending()
    {
        for (int j = 0; j < _pendingCount; j++)
        {
            var (i, rows, width) = _pending[j];
            UpdateOwnRows(_sharded!, i, rows, width);
        }
        _pendingCount = 0;
    }

    /// <summary>This process's rows of parameter <paramref name="i"/>: element-wise, so they take the bits the whole update gives them.</summary>
    private void UpdateOwnRows(Optimizer optimizer, int i, int rows, int width)
    {
        var (r0, r1) = IRowSharing.Share(rows, Rank, Size);
        optimizer.BeginParameter(i);
        if (r1 > r0) optimizer.UpdateRange(i, r0 * width, (r1 - r0) * width);
    }

    /// <summary>Every process's share of <paramref name="rows"/> integers (a batch's labels) into <paramref name="buffer"/>.</summary>
    public void AllGatherRows(Span<int> buffer, int rows)
    {
        fixed (int* p = buffer) AllGather(p, Mpi.Int, rows, 1);
    }

    private void AllGather(void* buffer, int type, int rows, int width)
    {
        if (Size == 1) return;
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var (counts, displacements) = Layout(rows, width);
        MpiWorld.Check(Mpi.Allgatherv(Mpi.InPlace, 0, type, buffer, (int*)counts, (int*)displacements, type, Mpi.CommWorld), "MPI_Allgatherv");
        Seconds += System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    public void AllGatherGradient(Tensor parameter, int rows, int width)
    {
        if (Size == 1) return;
        if (!_index.TryGetValue(parameter, out int i)) throw new ArgumentException("The parameter is not one of the model's.");
        if (parameter.Size != rows * width) throw new ArgumentException($"A parameter of {parameter.Size} floats shared as {rows} × {width}.");
        if (!Overlapped)
        {
            AllGatherRows(parameter.Grad!.Data, rows, width);
            return;
        }
        if (_sharded is not null && SharedParameters)
        {
            // Another process may still read this parameter's rows (dℓ/dx = dy·W of this layer): update after the next barrier.
            _pending[_pendingCount++] = (i, rows, width);
            return;
        }
        Span<float> gathered = parameter.Grad!.Data;
        if (_sharded is { } optimizer)
        {
            UpdateOwnRows(optimizer, i, rows, width);
            gathered = parameter.Data;
        }
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var (counts, displacements) = Layout(rows, width);
        // Parameters and gradients lie in the parameter arena, which is pinned: MPI may write them after this returns.
        fixed (float* p = gathered)
            MpiWorld.Check(Mpi.Iallgatherv(Mpi.InPlace, 0, Mpi.Float, p, (int*)counts, (int*)displacements, Mpi.Float, Mpi.CommWorld, out _requests[_inFlight++]), "MPI_Iallgatherv");
        Seconds += System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    /// <summary>Completes the step's gathers: every parameter (sharded) or every gradient is whole again.</summary>
    public void Finish()
    {
        if (SharedParameters && _sharded is not null)
        {
            ApplyPending(); // nobody reads the first layer's parameters in the backward pass
            Barrier();      // every row updated before any process's next forward pass reads it
        }
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int j = 0; j < _inFlight; j++) MpiWorld.Check(Mpi.Wait(ref _requests[j], Mpi.StatusIgnore), "MPI_Wait");
        Seconds += System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
        _inFlight = 0;
    }

    /// <summary>
    /// Gathers <paramref name="optimizer"/>'s state (Adam's moments, momentum buffers …), which a sharded update keeps
    /// current only for each process's own rows: before a checkpoint, and at an epoch's end.
    /// </summary>
    public void GatherState(Optimizer optimizer)
    {
        if (Size == 1) return;
        foreach (var (_, buffers) in optimizer.State())
            for (int i = 0; i < _parameters.Length; i++)
            {
                int rows = _parameters[i].Shape[0];
                AllGatherRows(buffers[i].Data, rows, _parameters[i].Size / rows);
            }
    }

    /// <summary>The counts and displacements of each process's share of <paramref name="rows"/> rows of <paramref name="width"/>.</summary>
    private (nint Counts, nint Displacements) Layout(int rows, int width)
    {
        long key = (long)rows << 32 | (uint)width;
        if (!_layouts.TryGetValue(key, out nint block))
        {
            var p = (int*)NativeMemory.Alloc((nuint)(2 * Size), sizeof(int));
            for (int k = 0; k < Size; k++)
            {
                var (start, end) = IRowSharing.Share(rows, k, Size);
                (p[k], p[Size + k]) = ((end - start) * width, start * width);
            }
            _layouts[key] = block = (nint)p;
        }
        return (block, block + Size * sizeof(int));
    }

    public void Dispose()
    {
        foreach (var block in _layouts.Values) NativeMemory.Free((void*)block);
        _layouts.Clear();
    }
}
