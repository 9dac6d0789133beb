using System.Diagnostics;

namespace Nabla.Compute;

/// <summary>
/// A fixed set of worker threads that run the parts of an <see cref="IParallelBody"/>. Unlike
/// <c>Parallel.For</c> it allocates nothing per call, and its latency suits the microsecond-sized kernels of a
/// small MLP: an idle worker spins on the job ticket for a while (≈0.2 ms) before it blocks, so the back-to-back
/// kernels of a training step find it awake. Parts are claimed one at a time from a shared ticket, and the caller
/// claims them too; it waits only for parts that were claimed and are still running, never for a worker that has
/// not woken up. So when another process takes a core, a step runs on the cores it has instead of waiting for a
/// descheduled worker. Which thread runs which part never changes a result: callers split work into parts whose
/// arithmetic does not depend on the split or on the thread.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 0.2 ms
    private static readonly long StallTicks = Stopwatch.Frequency / 2000; // 0.5 ms: far beyond a wake-up or a small part
    // Running jobs on the caller alone after a worker was seen descheduled: about one time slice of the competing
    // thread, doubling while contention stays (see BackOff). A 50 ms back-off doubling whenever contention came back
    // within 100 ms cost a fifth of the speed with a browser open beside the run (bench/RESULTS.md).
    private static readonly long BackOffTicks = Stopwatch.Frequency / 200; // 5 ms

    /// <summary>The most threads a pool may have (the command line bounds --threads further).</summary>
    public const int MaxThreads = 256;

    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly Lock _gate = new();
    private IParallelBody? _body;
    private int _count;
    // The job ticket: the generation in the high 32 bits, the next unclaimed part in the low 32. A part is claimed by
    // advancing the ticket with a compare-exchange, so a worker that read an older generation's body cannot claim a
    // part of the new one: its compare-exchange fails and it reads again.
    private long _ticket;
    // The generation whose body and count are in _body and _count, written before them. A worker that read the ticket
    // of a finished job and then the next job's body must not claim a part: the ticket may not have moved yet, so the
    // compare-exchange alone would let it run part i of the new body under the old generation, and the part would run
    // again once the new generation is published. Reading this after the body and count tells the two apart.
    private long _jobGeneration;
    private int _done;
    // The posted task (Post/Join): held back until the next job is done, waiting for a thread, running, done; read
    // and advanced with compare-exchange.
    private const int PostedNone = 0, PostedWaiting = 1, PostedRunning = 2, PostedDone = 3, PostedDeferred = 4, PostedSettingUp = 5;
    private IParallelBody? _posted;
    private int _postedState;
    private Exception? _postedError;
    private volatile bool _disposed;
    private Exception? _error;
    [ThreadStatic] private static bool t_inWorker;

    /// <summary>Creates a pool that runs work on <paramref name="threads"/> threads (the caller counts as one).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is outside [1, <see cref="MaxThreads"/>].</exception>
    public WorkerPool(int threads)
    {
        if (threads < 1 || threads > MaxThreads)
            throw new ArgumentOutOfRangeException(nameof(threads), $"A pool has between 1 and {MaxThreads} threads; got {threads}.");
        Threads = threads;
        _active = threads;
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

    private int _active;

    /// <summary>
    /// How many of the <see cref="Threads"/> run parts now (1 to <see cref="Threads"/>; all by default): a
    /// <see cref="ThreadTuner"/> lowers and raises it as it finds faster. With 1, jobs and posted tasks run on the
    /// caller, as in a pool of one thread. Results do not depend on it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside [1, <see cref="Threads"/>].</exception>
    public int ActiveThreads
    {
        get => Volatile.Read(ref _active);
        set
        {
            if (value < 1 || value > Threads) throw new ArgumentOutOfRangeException(nameof(value), $"Active threads must be in [1, {Threads}]; got {value}.");
            Volatile.Write(ref _active, value);
        }
    }

    /// <summary>Runs parts 0 … <paramref name="count"/>−1 of <paramref name="body"/> and returns when all are done.</summary>
    public void For(int count, IParallelBody body)
    {
        if (count <= 0) return;
        // Serial when parallelism cannot help, when nested (in a worker, or in a part the caller runs: the gate is
        // re-entrant, so its holder must not enter again), or when another thread is using the pool (the pool runs
        // one body at a time; a concurrent caller does its own work rather than wait).
        if (count == 1 || _threads.Length == 0 || ActiveThreads == 1 || t_inWorker || _gate.IsHeldByCurrentThread || Contended || !_gate.TryEnter())
        {
            for (int i = 0; i < count; i++) body.Run(i);
            return;
        }
        try { RunParallel(count, body); }
        finally { _gate.Exit(); }
    }

    private void RunParallel(int count, IParallelBody body)
    {
        long generation = (Volatile.Read(ref _ticket) >> 32) + 1;
        _done = 0;
        _error = null;
        Volatile.Write(ref _jobGeneration, generation); // before the count and the body (see _jobGeneration)
        Volatile.Write(ref _count, count);
        Volatile.Write(ref _body, body);
        Interlocked.Exchange(ref _ticket, generation << 32); // full fence: publishes the body and the count
        WakeSleepers();
        long start = Stopwatch.GetTimestamp();
        int mine = Drain();
        long drained = Stopwatch.GetTimestamp();
        // Only parts claimed by a worker and still running are waited for.
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) != count) spin.SpinOnce(sleep1Threshold: -1);
        // Waiting far longer than a part takes means the worker holding it was descheduled.
        long waited = Stopwatch.GetTimestamp() - drained, part = (drained - start) / Math.Max(mine, 1);
        if (waited > Math.Max(StallTicks, 8 * part)) BackOff();
        Volatile.Write(ref _body, null);
        // A task posted to follow this job is free to run now.
        if (Volatile.Read(ref _postedState) == PostedDeferred && Interlocked.CompareExchange(ref _postedState, PostedWaiting, PostedDeferred) == PostedDeferred)
            WakeSleepers();
        if (_error is not null) throw new AggregateException("A parallel part failed.", _error);
    }

    private long _soloUntil; // Stopwatch ticks: until then the caller runs jobs alone (see BackOff)

    /// <summary>
    /// Whether the pool is backing off: another process is competing for the cores, so jobs run on the caller alone
    /// and the workers sleep instead of spinning. With the machine's cores shared, a spinning or working worker
    /// takes time from the caller, and one descheduled while holding a part makes the caller wait a time slice.
    /// </summary>
    public bool Contended => Stopwatch.GetTimestamp() < Volatile.Read(ref _soloUntil);

    private int _backOffLevel;

    /// <summary>How many times the current back-off has doubled (0: 5 ms).</summary>
    internal int BackOffLevel => _backOffLevel;
    private readonly Lock _backOffGate = new();

    /// <summary>
    /// Contention was seen (a worker descheduled): run solo for <see cref="BackOffTicks"/>, then try the workers again.
    /// Seen again within 10 ms of the last one's end — a competitor that stays (a busy process, a host taking
    /// the VM's cores) rather than a burst (a browser redrawing) — the next back-off lasts twice as long, up to 16×.
    /// </summary>
    internal void BackOff()
    {
        lock (_backOffGate)
        {
            long now = Stopwatch.GetTimestamp(), until = Volatile.Read(ref _soloUntil);
            if (now < until) return; // already backing off
            _backOffLevel = now - until < 2 * BackOffTicks ? Math.Min(_backOffLevel + 1, 4) : 0;
            Volatile.Write(ref _soloUntil, now + (BackOffTicks << _backOffLevel));
        }
    }

    /// <summary>Wakes the active workers that announced sleep (after the caller's full fence published new work).</summary>
    private void WakeSleepers()
    {
        int active = Math.Min(ActiveThreads - 1, _threads.Length);
        for (int i = 0; i < active; i++)
            if (Volatile.Read(ref _sleeping[i]) == 1 && Interlocked.Exchange(ref _sleeping[i], 0) == 1) _wake[i].Release();
    }

    /// <summary>
    /// Hands <c><paramref name="body"/>.Run(0)</c> to a worker and returns at once, so that the caller's own work
    /// (its next <see cref="For"/>, whose parts it then runs with whichever workers are free) overlaps it;
    /// <see cref="Join"/> waits for it. If no worker has started it by then (the pool has none, or the OS has not
    /// scheduled one), Join runs it on the caller: posted work never waits on a descheduled thread. One task at a
    /// time; what it computes must not depend on the thread that runs it.
    /// </summary>
    /// <param name="body">The task.</param>
    /// <param name="afterNextJob">
    /// Hold the task back until the caller's next parallel <see cref="For"/> is done, so that the workers help with
    /// that job first and take the task in the serial stretch after it.
    /// </param>
    /// <exception cref="InvalidOperationException">A posted task has not been joined yet.</exception>
    public void Post(IParallelBody body, bool afterNextJob = false)
    {
        if (!TryPost(body, afterNextJob)) throw new InvalidOperationException("A posted task is pending: Join it first.");
    }

    /// <summary>
    /// <see cref="Post"/> if no task is pending, atomically (two threads sharing the pool cannot both post); returns
    /// whether it posted. Only the thread that posted joins.
    /// </summary>
    public bool TryPost(IParallelBody body, bool afterNextJob = false)
    {
        if (Interlocked.CompareExchange(ref _postedState, PostedSettingUp, PostedNone) != PostedNone) return false;
        _posted = body;
        _postedError = null;
        afterNextJob |= Contended || ActiveThreads == 1; // no parallel job follows, so Join runs it on the caller
        Interlocked.Exchange(ref _postedState, afterNextJob ? PostedDeferred : PostedWaiting); // full fence: publishes the body
        if (!afterNextJob) WakeSleepers();
        return true;
    }

    /// <summary>Whether a task was posted and not joined yet.</summary>
    public bool HasPosted => Volatile.Read(ref _postedState) != PostedNone;

    /// <summary>Waits for the posted task, running it here if no worker has started it; rethrows its exception as thrown.</summary>
    public void Join()
    {
        int state = Volatile.Read(ref _postedState);
        if (state == PostedNone) return;
        if ((state is PostedWaiting or PostedDeferred) && Interlocked.CompareExchange(ref _postedState, PostedRunning, state) == state) RunPosted();
        var spin = new SpinWait();
        while (Volatile.Read(ref _postedState) != PostedDone) spin.SpinOnce(sleep1Threshold: -1);
        _posted = null;
        var error = _postedError;
        Volatile.Write(ref _postedState, PostedNone);
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
    }

    private void RunPosted()
    {
        try { _posted!.Run(0); }
        catch (Exception e) { _postedError = e; }
        Volatile.Write(ref _postedState, PostedDone);
    }

    /// <summary>A worker takes the posted task if it is still waiting.</summary>
    private bool TryRunPosted()
    {
        if (Volatile.Read(ref _postedState) != PostedWaiting || Interlocked.CompareExchange(ref _postedState, PostedRunning, PostedWaiting) != PostedWaiting) return false;
        RunPosted();
        return true;
    }

    /// <summary>Claims and runs parts of the current job until none is left; returns how many it ran.</summary>
    private int Drain()
    {
        int ran = 0;
        while (true)
        {
            long t = Volatile.Read(ref _ticket);
            var body = Volatile.Read(ref _body);
            int count = Volatile.Read(ref _count);
            int i = (int)(t & 0xFFFFFFFF);
            if (body is null || Volatile.Read(ref _jobGeneration) != t >> 32) return ran; // between jobs: nothing of this generation is left
            if (i >= count) return ran;
            if (Interlocked.CompareExchange(ref _ticket, t + 1, t) != t) continue; // another thread claimed it, or a new job began
            try { body.Run(i); }
            catch (Exception e) { _error = e; }
            Interlocked.Increment(ref _done);
            ran++;
        }
    }

    private void WorkerLoop(int id)
    {
        t_inWorker = true;
        long seen = 0;
        while (true)
        {
            long start = Stopwatch.GetTimestamp(), last = start;
            while (Volatile.Read(ref _ticket) >> 32 == seen && !_disposed)
            {
                if (TryRunPosted()) { start = last = Stopwatch.GetTimestamp(); continue; }
                long now = Stopwatch.GetTimestamp();
                bool preempted = now - last > StallTicks; // a gap in a loop of pauses: the OS ran something else here
                last = now;
                if (preempted) BackOff();
                if (!preempted && now - start < SpinTicks) { Thread.SpinWait(20); continue; }
                // Announce sleep, then re-check: new work published meanwhile is seen here (Dekker).
                Interlocked.Exchange(ref _sleeping[id], 1);
                if (Volatile.Read(ref _ticket) >> 32 == seen && Volatile.Read(ref _postedState) != PostedWaiting && !_disposed) _wake[id].Wait();
                else Interlocked.Exchange(ref _sleeping[id], 0);
                start = last = Stopwatch.GetTimestamp();
            }
            if (_disposed) return;
            seen = Volatile.Read(ref _ticket) >> 32;
            if (id < ActiveThreads - 1) Drain(); // a worker beyond the active count sits this job out
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (var w in _wake) w.Release();
    }
}
