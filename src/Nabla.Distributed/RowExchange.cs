using System.Runtime.InteropServices;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;

namespace Nabla.Distributed;

/// <summary>
/// The data-parallel step's traffic over MPI: every process's share of a batch's rows (activations, gradients with
/// respect to them) and of each parameter gradient's rows, gathered in place with <c>MPI_Allgatherv</c>. Nothing is
/// summed across processes, so MPI's choice of algorithm cannot change a bit. A parameter gradient's gather is started
/// as soon as its layer has computed its share (<c>MPI_Iallgatherv</c>) and completed after the backward pass, where
/// each parameter is updated as soon as its own gather is done.
/// </summary>
/// <remarks>MPI runs with threads serialized: only the training thread calls it.</remarks>
internal sealed unsafe class RowExchange : IRowSharing, IDisposable
{
    private readonly MpiWorld _world;
    private readonly Dictionary<long, nint> _layouts = []; // (rows, width) → counts then displacements, pinned: MPI reads them until a gather completes
    private readonly Dictionary<Tensor, int> _index = new(ReferenceEqualityComparer.Instance);
    private readonly int[] _requests, _started; // gathers in flight, in the order they started, and whose they are
    private int _inFlight;

    /// <param name="world">The job.</param>
    /// <param name="parameters">The model's parameters, in the optimizer's order.</param>
    /// <param name="overlap">Start a gradient's gather and go on (false: gather it there and then, for comparison: the same bits).</param>
    public RowExchange(MpiWorld world, Tensor[] parameters, bool overlap = true)
    {
        _world = world;
        Overlapped = overlap;
        for (int i = 0; i < parameters.Length; i++) _index[parameters[i]] = i;
        _requests = new int[parameters.Length];
        _started = new int[parameters.Length];
    }

    /// <summary>Whether a gradient's gather runs on while the backward pass goes on (else it completes at once).</summary>
    public bool Overlapped { get; }

    public int Rank => _world.Rank;

    public int Size => _world.Size;

    /// <summary>Seconds spent in MPI calls (sending, receiving, waiting for the other processes), since it was made.</summary>
    public double Seconds { get; private set; }

    /// <summary>Gathers of parameter gradients started in this step and not yet completed.</summary>
    public int InFlight => _inFlight;

    public void AllGatherRows(Span<float> buffer, int rows, int width)
    {
        fixed (float* p = buffer) AllGather(p, Mpi.Float, rows, width);
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
        var grad = parameter.Grad!.Data;
        if (grad.Length != rows * width) throw new ArgumentException($"A gradient of {grad.Length} floats gathered as {rows} × {width}.");
        if (!Overlapped)
        {
            AllGatherRows(grad, rows, width);
            return;
        }
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var (counts, displacements) = Layout(rows, width);
        // The gradient lies in the parameter arena's gradients, which are pinned: MPI may write it after this returns.
        fixed (float* p = grad)
            MpiWorld.Check(Mpi.Iallgatherv(Mpi.InPlace, 0, Mpi.Float, p, (int*)counts, (int*)displacements, Mpi.Float, Mpi.CommWorld, out _requests[_inFlight]), "MPI_Iallgatherv");
        _started[_inFlight++] = i;
        Seconds += System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    /// <summary>
    /// Completes the step's gradient gathers in the order they started, and, with an <paramref name="optimizer"/> that
    /// holds the model's parameters in the same order, updates each parameter as soon as its gather is done.
    /// </summary>
    public void Finish(Optimizer? optimizer)
    {
        for (int j = 0; j < _inFlight; j++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            MpiWorld.Check(Mpi.Wait(ref _requests[j], Mpi.StatusIgnore), "MPI_Wait");
            Seconds += System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
            if (optimizer is null) continue;
            optimizer.BeginParameter(_started[j]);
            optimizer.UpdateParameter(_started[j]);
        }
        _inFlight = 0;
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
