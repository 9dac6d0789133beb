using Nabla.Compute;

namespace Nabla.Tests.Compute;

/// <summary>The pool runs every part exactly once, however the threads interleave, and never waits for an idle worker.</summary>
[Collection("Serial")] // timing-sensitive (back-off): not beside other tests that load the cores
public class WorkerPoolTests
{
    private sealed class Tally(int[] hits) : IParallelBody
    {
        public void Run(int index) => Interlocked.Increment(ref hits[index]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void ManyJobs_EveryPartRunsExactlyOnce(int threads)
    {
        using var pool = new WorkerPool(threads);
        var rng = new Random(threads);
        for (int job = 0; job < 5_000; job++)
        {
            int count = rng.Next(1, 40);
            var hits = new int[count];
            pool.For(count, new Tally(hits));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    private sealed class Slow(int[] owner) : IParallelBody
    {
        public void Run(int index)
        {
            owner[index] = Environment.CurrentManagedThreadId;
            Thread.Sleep(1);
        }
    }

    [Fact]
    public void AWorkerThatNeverWakes_DoesNotHoldTheCaller()
    {
        // 64 workers on a 2-core machine: most are not scheduled in time; the caller and whoever runs finish the job.
        using var pool = new WorkerPool(64);
        var owner = new int[200];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        pool.For(owner.Length, new Slow(owner));
        Assert.All(owner, o => Assert.NotEqual(0, o));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    private sealed class Throws : IParallelBody
    {
        public void Run(int index)
        {
            if (index == 3) throw new InvalidOperationException("part 3");
        }
    }

    [Fact]
    public void AFailingPart_IsReported_AndThePoolKeepsWorking()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<AggregateException>(() => pool.For(10, new Throws()));
        Assert.Contains("part 3", e.InnerException!.Message);
        var hits = new int[10];
        pool.For(10, new Tally(hits));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void ThreadCount_IsBounded() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(WorkerPool.MaxThreads + 1));

    private sealed class Once : IParallelBody
    {
        public int Runs, Thread;

        public void Run(int index)
        {
            Interlocked.Increment(ref Runs);
            Thread = Environment.CurrentManagedThreadId;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Post_RunsOnceByJoin_WhileJobsRunBesideIt(int threads)
    {
        // A posted task runs exactly once — on a worker, or on the caller at Join when no worker took it (a pool of
        // one thread has none) — and jobs the caller runs meanwhile still run every part once.
        using var pool = new WorkerPool(threads);
        var rng = new Random(threads);
        for (int round = 0; round < 2_000; round++)
        {
            var task = new Once();
            pool.Post(task);
            Assert.True(pool.HasPosted);
            int count = rng.Next(1, 20);
            var hits = new int[count];
            pool.For(count, new Tally(hits));
            pool.Join();
            Assert.False(pool.HasPosted);
            Assert.Equal(1, task.Runs);
            Assert.All(hits, h => Assert.Equal(1, h));
        }
        pool.Join(); // nothing posted: returns at once
    }

    [Fact]
    public void PostAfterNextJob_WaitsForTheJob_OrRunsAtJoin()
    {
        using var pool = new WorkerPool(2);
        var task = new Once();
        pool.Post(task, afterNextJob: true);
        Thread.Sleep(20); // an idle worker must leave it alone: it is held back until the next job is done
        Assert.Equal(0, task.Runs);
        pool.For(4, new Tally(new int[4]));
        pool.Join();
        Assert.Equal(1, task.Runs);

        var alone = new Once();
        pool.Post(alone, afterNextJob: true); // no job follows: Join runs it here
        pool.Join();
        Assert.Equal(1, alone.Runs);
        Assert.Equal(Environment.CurrentManagedThreadId, alone.Thread);
    }

    /// <summary>
    /// A part run by a worker stalls 5 ms (as if descheduled); the caller's take 0.2 ms each, time enough for a
    /// sleeping worker to wake and claim one.
    /// </summary>
    private sealed class WorkerStalls(int caller) : IParallelBody
    {
        public void Run(int index)
        {
            if (Environment.CurrentManagedThreadId != caller) { Thread.Sleep(5); return; }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed.TotalMilliseconds < 0.2) Thread.SpinWait(10);
        }
    }

    [Fact]
    public void AStalledWorker_MakesThePoolRunSolo_ThenItTriesTheWorkersAgain()
    {
        using var pool = new WorkerPool(2);
        int me = Environment.CurrentManagedThreadId;
        bool solo = false;
        for (int attempt = 0; attempt < 20 && !solo; attempt++)
        {
            pool.For(8, new WorkerStalls(me)); // the caller waits ~5 ms for a worker's part: far longer than its own took
            if (!pool.Contended) continue;
            var owners = new int[3];
            pool.For(owners.Length, new Slow(owners)); // within the back-off: the caller runs every part
            solo = owners.All(o => o == me);
        }
        Assert.True(solo, "a 5 ms wait for a worker's part did not make the next job run on the caller alone");
        bool helped = false;
        for (int attempt = 0; attempt < 20 && !helped; attempt++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (pool.Contended && clock.ElapsedMilliseconds < 5000) Thread.Sleep(1);
            Assert.False(pool.Contended, "the back-off did not end");
            var later = new int[40];
            pool.For(later.Length, new Slow(later)); // 40 ms of parts: the worker takes some again
            helped = later.Any(o => o != me);
        }
        Assert.True(helped, "after the back-off the worker never took a part again");
    }

    [Fact]
    public void BackOff_DoublesWhileContentionStays_AndStartsOverAfterAQuietStretch()
    {
        using var pool = new WorkerPool(2);
        void WaitOut() { while (pool.Contended) Thread.SpinWait(10); }
        pool.BackOff();
        Assert.True(pool.Contended);
        Assert.Equal(0, pool.BackOffLevel);
        int level = 0;
        for (int attempt = 0; attempt < 20 && level < 2; attempt++)
        {
            WaitOut();
            pool.BackOff(); // at once: within 10 ms of the last back-off's end
            level = pool.BackOffLevel;
        }
        Assert.Equal(2, level);
        WaitOut();
        Thread.Sleep(30); // a quiet stretch
        pool.BackOff();
        Assert.Equal(0, pool.BackOffLevel);
    }

    private sealed class Nested(WorkerPool pool, int[] inner) : IParallelBody
    {
        public void Run(int index) => pool.For(3, new Tally(inner));
    }

    [Fact]
    public void For_InsideAPartTheCallerRuns_RunsSerially()
    {
        // The pool's gate is re-entrant: a part that the caller runs and that calls For again must not start a second
        // job over the first. Run on a thread of its own so that a regression shows as a failure, not a hang.
        using var pool = new WorkerPool(2);
        var inner = new int[3];
        var done = new Thread(() => pool.For(8, new Nested(pool, inner)));
        done.Start();
        Assert.True(done.Join(TimeSpan.FromSeconds(30)), "nested For did not finish");
        Assert.All(inner, h => Assert.Equal(8, h));
    }

    private sealed class Fails : IParallelBody
    {
        public void Run(int index) => throw new FormatException("posted");
    }

    [Fact]
    public void Post_WhilePending_Throws_AndJoinRethrowsTheTasksOwnException()
    {
        using var pool = new WorkerPool(2);
        pool.Post(new Once());
        Assert.Throws<InvalidOperationException>(() => pool.Post(new Once()));
        Assert.False(pool.TryPost(new Once()));
        pool.Join();
        pool.Post(new Fails());
        var e = Assert.Throws<FormatException>(() => pool.Join()); // as thrown, not wrapped
        Assert.Equal("posted", e.Message);
        var again = new Once();
        pool.Post(again);
        pool.Join();
        Assert.Equal(1, again.Runs);
    }
}
