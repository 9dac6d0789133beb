using Nabla.Compute;

namespace Nabla.Tests.Compute;

/// <summary>The pool runs every part exactly once, however the threads interleave, and never waits for an idle worker.</summary>
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
}
