using Nabla.Compute;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Tests.Compute;

/// <summary>
/// --threads auto: the run times its steps with each thread count and keeps the fastest. Switching the count never
/// changes a result, and the choice follows what is faster here.
/// </summary>
public class ThreadTunerTests
{
    private static TensorDataset Data(int n, int features)
    {
        var rng = new Rng(5);
        var x = new float[n * features];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextGaussian();
        return new TensorDataset(x, [.. Enumerable.Range(0, n).Select(i => i % 4)], features, ["a", "b", "c", "d"]);
    }

    /// <summary>Three epochs (10 steps each, by default) of a model whose GEMMs split over threads (784 → 64 → 4, batch 32), under <paramref name="settings"/>.</summary>
    private static (float[] Weights, ThreadTuner? Tuner) Train(ComputeSettings settings, ITrainingCallback? callback = null, int samples = 320)
    {
        using var context = ComputeContext.Begin(settings);
        var model = Mlp.Create(784, [64], ActivationKind.Relu, 4, new Rng(2));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), lr: 1e-2f), 784, 32);
        trainer.Fit(DataLoader.Shuffled(Data(samples, 784), 32, new Rng(3)), 3, callbacks: callback is null ? [] : [callback]);
        return ([.. model.Parameters().SelectMany(p => p.ToArray())], context.Tuner);
    }

    [Fact]
    public void SwitchingAfterEveryStep_GivesTheSameBitsAsAnyFixedCount()
    {
        var one = Train(new ComputeSettings { Threads = 1 }).Weights;
        var two = Train(new ComputeSettings { Threads = 2 }).Weights;
        var (cycled, tuner) = Train(new ComputeSettings
        {
            Threads = 2, AdaptThreads = true, TunerPolicy = new ThreadTunerPolicy(WindowSeconds: 0, WindowSteps: 1, Cycle: true),
        });
        Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), two.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), cycled.Select(BitConverter.SingleToInt32Bits));
        Assert.True(tuner!.Switches >= 20, $"the count changed only {tuner.Switches} times in 30 steps");
    }

    /// <summary>Makes every step taken with <paramref name="slowCount"/> threads 2 ms slower.</summary>
    private sealed class Handicap(int slowCount) : ITrainingCallback
    {
        public void OnStepEnd(Trainer trainer, int epoch, int batchesDone)
        {
            if (ComputeContext.Current.Pool.ActiveThreads == slowCount) Thread.Sleep(2);
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(1, 2)]
    public void TheTuner_KeepsTheFasterCount(int slow, int expected)
    {
        // Windows of 4 steps, three rounds each: the count whose steps take 2 ms longer loses, whichever it is.
        var policy = new ThreadTunerPolicy(WindowSeconds: 0, WindowSteps: 4, ProbeRounds: 3, FirstExploitSeconds: 60);
        var (_, tuner) = Train(new ComputeSettings { Threads = 2, AdaptThreads = true, TunerPolicy = policy }, new Handicap(slow), samples: 960);
        Assert.Equal(expected, tuner!.Chosen);
        Assert.Equal(expected, tuner.Threads); // and it is the count in use
        Assert.Equal(2, tuner.Changes[0].Threads); // it starts with every core
    }

    [Fact]
    public void OneThread_HasNoTuner_AndAnActiveCountBelowTheSizeRunsOnTheCaller()
    {
        using (var context = ComputeContext.Begin(new ComputeSettings { Threads = 1, AdaptThreads = true }))
            Assert.Null(context.Tuner);
        using var pool = new WorkerPool(2) { ActiveThreads = 1 };
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        pool.For(64, new Record(threads));
        Assert.Equal([Environment.CurrentManagedThreadId], threads.Keys);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.ActiveThreads = 3);
    }

    private sealed class Record(System.Collections.Concurrent.ConcurrentDictionary<int, bool> seen) : IParallelBody
    {
        public void Run(int index)
        {
            seen[Environment.CurrentManagedThreadId] = true;
            Thread.SpinWait(1000);
        }
    }
}
