using System.Diagnostics;

namespace Nabla.Compute;

/// <summary>
/// A fixed set of worker threads that run the parts of an <see cref="IParallelBody"/>. Unlike
/// <c>Parallel.For</c> it allocates nothing per call, and its latency suits the microsecond-sized kernels of a
/// small MLP: an idle worker spins on a generation counter for a while (≈0.2 ms) before it blocks, so the
/// back-to-back kernels of a training step find it awake. Which thread runs which part never changes a
/// result: callers split work into parts whose arithmetic does not depend on the split.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 0.2 ms

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly Lock _gate = new();
    private IParallelBody? _body;
    private int _count;
    private int _next;
    private int _pending;
    private int _generation;
    private volatile bool _disposed;
    private Exception? _error;
    [ThreadStatic] private static bool t_inWorker;

    /// <summary>The pool used by operations that take no explicit pool; set by <c>--threads</c>.</summary>
    public static WorkerPool Default { get; set; } = new(Environment.ProcessorCount);

    /// <summary>Creates a pool that runs work on <paramref name="threads"/> threads (the caller counts as one).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    public WorkerPool(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "A pool needs at least one thread.");
        Threads = threads;
        _threads = new Thread[threads - 1];
        _wake = new SemaphoreSlim[threads - 1];
        _sleeping = new int[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            int id = i;
            _threads[i] = new Thread(() => WorkerLoop(id)) { IsBackground = true, Name = $"nabla-worker-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Number of threads that run parts, the calling thread included.</summary>
    public int Threads { get; }

    /// <summary>Runs parts 0 … <paramref name="count"/>−1 of <paramref name="body"/> and returns when all are done.</summary>
    public void For(int count, IParallelBody body)
    {
        if (count <= 0) return;
        // Serial when parallelism cannot help, when nested, or when another thread is using the pool
        // (the pool runs one body at a time; a concurrent caller does its own work rather than wait).
        if (count == 1 || _threads.Length == 0 || t_inWorker || !_gate.TryEnter())
        {
            for (int i = 0; i < count; i++) body.Run(i);
            return;
        }
        try { RunParallel(count, body); }
        finally { _gate.Exit(); }
    }

    private void RunParallel(int count, IParallelBody body)
    {
        _body = body;
        _count = count;
        _next = 0;
        _error = null;
        _pending = _threads.Length;
        Interlocked.Increment(ref _generation); // full fence: publishes the fields above
        for (int i = 0; i < _threads.Length; i++)
            if (Volatile.Read(ref _sleeping[i]) == 1 && Interlocked.Exchange(ref _sleeping[i], 0) == 1) _wake[i].Release();
        Drain();
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
        _body = null;
        if (_error is not null) throw new AggregateException("A parallel part failed.", _error);
    }

    private void Drain()
    {
        var body = _body!;
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < _count) body.Run(i);
    }

    private void WorkerLoop(int id)
    {
        t_inWorker = true;
        int seen = 0;
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                if (Stopwatch.GetTimestamp() - start < SpinTicks) { Thread.SpinWait(20); continue; }
                // Announce sleep, then re-check: a new generation published meanwhile is seen here (Dekker).
                Interlocked.Exchange(ref _sleeping[id], 1);
                if (Volatile.Read(ref _generation) == seen && !_disposed) _wake[id].Wait();
                else Interlocked.Exchange(ref _sleeping[id], 0);
                start = Stopwatch.GetTimestamp();
            }
            if (_disposed) return;
            seen = Volatile.Read(ref _generation);
            try { Drain(); }
            catch (Exception e) { _error = e; }
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (var w in _wake) w.Release();
    }
}
