namespace Nabla.Compute;

/// <summary>
/// A fixed set of worker threads that run the parts of an <see cref="IParallelBody"/>. Unlike
/// <c>Parallel.For</c> it allocates nothing per call, and its latency suits the microsecond-sized kernels of a
/// small MLP: idle workers spin briefly before blocking. Which thread runs which part never changes a result,
/// because callers split work into parts whose arithmetic does not depend on the split (output tiles).
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim[] _start;
    private readonly ManualResetEventSlim _done = new(false, 2000);
    private IParallelBody? _body;
    private int _count;
    private int _next;
    private int _pending;
    private readonly Lock _gate = new();
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
        _start = new ManualResetEventSlim[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _start[i] = new ManualResetEventSlim(false, 2000);
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
        int helpers = Math.Min(_threads.Length, count - 1);
        _pending = helpers;
        _done.Reset();
        for (int i = 0; i < helpers; i++) _start[i].Set();
        Drain();
        _done.Wait();
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
        while (true)
        {
            _start[id].Wait();
            _start[id].Reset();
            if (_disposed) return;
            try { Drain(); }
            catch (Exception e) { _error = e; }
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (var s in _start) s.Set();
    }
}
