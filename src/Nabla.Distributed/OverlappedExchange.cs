using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;

namespace Nabla.Distributed;

/// <summary>
/// The exchange of a step's gradients, layer by layer, while the backward pass goes on: the backward pass announces
/// each layer's final gradient (an <see cref="IGradientSink"/>), a communication thread runs that layer's recursive
/// doubling and then the optimizer's update of that layer, and the backward pass meanwhile differentiates the layers
/// before it. A layer's update waits only for its own exchange. The arithmetic is the step's as a whole (the same
/// tree, the same element-wise update), so the bits are those of exchanging and stepping afterwards.
/// </summary>
/// <remarks>
/// MPI is initialized with threads serialized: while a step runs, only this thread calls MPI; the training thread
/// waits for it (<see cref="Finish"/>) before any call of its own.
/// </remarks>
internal sealed class OverlappedExchange : IGradientSink, IDisposable
{
    private readonly MpiWorld _world;
    private readonly TensorArena _gradients, _receive;
    private readonly Tensor[] _parameters;
    private readonly Dictionary<Tensor, int> _index = new(ReferenceEqualityComparer.Instance);
    private readonly (int First, int Last)[] _queue; // parameter ranges, in the order the backward pass finished them
    private readonly SemaphoreSlim _work = new(0), _idle = new(0);
    private readonly Thread _thread;
    private volatile int _queued;
    private int _taken, _pendingWeight = -1;
    private Optimizer? _optimizer;
    private Exception? _error;
    private volatile bool _stopping;

    public OverlappedExchange(MpiWorld world, Tensor[] parameters, TensorArena gradients, TensorArena receive)
    {
        (_world, _parameters, _gradients, _receive) = (world, parameters, gradients, receive);
        for (int i = 0; i < parameters.Length; i++) _index[parameters[i]] = i;
        _queue = new (int, int)[parameters.Length];
        _thread = new Thread(Loop) { IsBackground = true, Name = "nabla-mpi-exchange" };
        _thread.Start();
    }

    /// <summary>Seconds the communication thread spent in MPI calls (sending, receiving, waiting for partners).</summary>
    public double ExchangeSeconds { get; private set; }

    /// <summary>
    /// Starts a step: ready layers are exchanged and then updated by <paramref name="optimizer"/> (null: exchanged
    /// only, the caller steps afterwards).
    /// </summary>
    public void Begin(Optimizer? optimizer)
    {
        _optimizer = optimizer;
        _queued = _taken = 0;
        _pendingWeight = -1;
    }

    /// <inheritdoc/>
    /// <remarks>A weight's gradient is final when its layer's bias is (the same layer's next call), or when the next layer starts.</remarks>
    public Tensors.Kernels.IRowsObserver? BeginRows(Tensor p, int rowLength)
    {
        Flush();
        _pendingWeight = _index.TryGetValue(p, out int i) ? i : -1;
        return null;
    }

    /// <inheritdoc/>
    public void GradientReady(Tensor p)
    {
        if (!_index.TryGetValue(p, out int i)) return;
        if (_pendingWeight >= 0 && _pendingWeight == i - 1) Enqueue(_pendingWeight, i); // weight and bias: one range
        else
        {
            Flush();
            Enqueue(i, i);
        }
        _pendingWeight = -1;
    }

    private void Flush()
    {
        if (_pendingWeight >= 0) Enqueue(_pendingWeight, _pendingWeight);
        _pendingWeight = -1;
    }

    private void Enqueue(int first, int last)
    {
        _queue[_queued] = (first, last);
        _queued++; // volatile: published after the entry
        _work.Release();
    }

    /// <summary>Ends the step's backward pass: the rest is queued; waits until every range is exchanged (and updated).</summary>
    /// <exception cref="AggregateException">The communication thread failed.</exception>
    public void Finish()
    {
        Flush();
        _work.Release(); // the end marker: the thread signals idle once every queued range is done
        _idle.Wait();
        if (_error is { } e) throw new AggregateException("The exchange of gradients failed.", e);
    }

    private void Loop()
    {
        while (true)
        {
            _work.Wait();
            if (_stopping) return;
            if (_taken == _queued) { _idle.Release(); continue; } // the end marker
            var (first, last) = _queue[_taken++];
            try { Exchange(first, last); }
            catch (Exception e) { _error ??= e; }
        }
    }

    private void Exchange(int first, int last)
    {
        int start = _gradients.OffsetOf(first), end = _gradients.OffsetOf(last) + _parameters[last].Size;
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        _world.SumByRecursiveDoubling(_gradients.Data[start..end], _receive.Data[start..end]);
        ExchangeSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (_optimizer is null) return;
        for (int i = first; i <= last; i++)
        {
            if (_parameters[i].Grad is null) continue;
            _optimizer.BeginParameter(i);
            _optimizer.UpdateParameter(i);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _work.Release();
    }
}
