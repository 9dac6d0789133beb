using Nabla.Compute;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Tests.Training;

[CollectionDefinition("Serial", DisableParallelization = true)]
public sealed class SerialCollection;

[Collection("Serial")]
public class TrainerTests
{
    /// <summary>Two Gaussian blobs per class in 20 dimensions: learnable, small, deterministic.</summary>
    private static TensorDataset Blobs(int n, int features, int classes, ulong seed)
    {
        var rng = new Rng(seed);
        var centers = Enumerable.Range(0, classes * features).Select(_ => (float)rng.NextGaussian() * 2).ToArray();
        var x = new float[n * features];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % classes;
            for (int j = 0; j < features; j++) x[i * features + j] = centers[y[i] * features + j] + (float)rng.NextGaussian();
        }
        return new TensorDataset(x, y, features, [.. Enumerable.Range(0, classes).Select(c => c.ToString())]);
    }

    private static (Trainer, DataLoader) Setup(int hidden = 16, int batch = 32, OptimizerKind opt = OptimizerKind.Adam, float lr = 1e-2f, int features = 784)
    {
        var data = Blobs(256, features, 4, 1);
        var model = Mlp.Create(features, [hidden], ActivationKind.Sigmoid, 4, new Rng(2));
        var trainer = new Trainer(model, new CrossEntropyLoss(), OptimizerFactory.Create(opt, model.Parameters(), lr), features, batch);
        return (trainer, DataLoader.Shuffled(data, batch, new Rng(3)));
    }

    [Fact]
    public void TrainingLoop_LearnsSeparableData()
    {
        var (trainer, loader) = Setup(features: 20);
        var history = trainer.TrainingLoop(loader, 15);
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss * 0.5, $"loss {history[0].TrainLoss} → {history[^1].TrainLoss}");
        Assert.True(trainer.Test(new DataLoader(loader.Dataset, 64)).Accuracy > 0.9);
    }

    [Fact]
    public void TrainEpoch_NaNWeights_StopsWithClearMessage()
    {
        var (trainer, loader) = Setup(features: 20);
        trainer.Model.Parameters()[0].Data[0] = float.NaN;
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.TrainEpoch(loader));
        Assert.Contains("NaN at epoch 1, batch 1", e.Message);
        Assert.Contains("smaller learning rate", e.Message);
        Assert.DoesNotContain("--", e.Message); // the library names no command-line flag; the CLI adds its own hint
    }

    [Fact]
    public void SteadyStateStep_AllocatesNothing()
    {
        var (trainer, loader) = Setup(hidden: 32, batch: 32);
        using var context = ComputeContext.Begin(new ComputeSettings { Threads = 2 });
        trainer.TrainEpoch(loader); // warm up: JIT, lazily sized buffers
        trainer.TrainEpoch(loader);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        trainer.TrainEpoch(loader);
        long bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
        // One epoch allocates only its EpochMetrics record (and boxing-free enumerators); nothing per step.
        Assert.True(bytes < 1024, $"an epoch of 8 steps allocated {bytes} bytes");
    }

    [Fact]
    public void SteadyStateRegressionStep_AllocatesNothing()
    {
        // MSE against numeric targets goes through the same explicit engine: its fused loss and the targets'
        // batch buffer must not allocate per step either.
        var rng = new Rng(4);
        var x = new float[256 * 20];
        var t = new float[256 * 2];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextGaussian();
        for (int i = 0; i < t.Length; i++) t[i] = (float)rng.NextGaussian();
        var model = Mlp.Create(20, [32], ActivationKind.Sigmoid, 2, new Rng(2));
        var trainer = new Trainer(model, new MseLoss(), OptimizerFactory.Create(OptimizerKind.Adam, model.Parameters(), 1e-2f), 20, 32);
        var loader = DataLoader.Shuffled(new RegressionDataset(x, t, 20, ["a", "b"]), 32, new Rng(3));
        using var context = ComputeContext.Begin(new ComputeSettings { Threads = 2 });
        trainer.TrainEpoch(loader);
        trainer.TrainEpoch(loader);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        trainer.TrainEpoch(loader);
        long bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(bytes < 1024, $"an epoch of 8 regression steps allocated {bytes} bytes");
    }

    [Fact]
    public void Seed_ThreadsOneAndTwo_IdenticalFinalWeights()
    {
        float[] Run(int threads)
        {
            using var context = ComputeContext.Begin(new ComputeSettings { Threads = threads });
            var (trainer, loader) = Setup(hidden: 64, batch: 32);
            trainer.TrainingLoop(loader, 2);
            return [.. trainer.Model.Parameters().SelectMany(p => p.ToArray())];
        }
        var one = Run(1);
        var two = Run(2);
        Assert.Equal(one, two);
        Assert.Equal(one, Run(1)); // and the same run twice
    }

    [Fact]
    public void Fit_EarlyStopping_StopsAndRestoresBest()
    {
        var data = Blobs(300, 20, 4, 7);
        var (train, val) = Subset.RandomSplit(data, 60, new Rng(1));
        var model = Mlp.Create(20, [64], ActivationKind.Relu, 4, new Rng(2));
        // A large learning rate makes the validation loss bounce, so patience runs out well before 60 epochs.
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), new SgdOptions(0.5f, Momentum: 0.9f)), 20, 16);
        var stopper = new EarlyStopping(patience: 2);
        var history = trainer.Fit(DataLoader.Shuffled(train, 16, new Rng(3)), 60, new DataLoader(val, 16), [stopper]);
        Assert.True(history.Count < 60);
        Assert.Equal(history.Count, stopper.StoppedEpoch);
        Assert.Equal(history.Min(m => m.Validation!.Loss), stopper.BestLoss);
        Assert.Equal(stopper.BestLoss, trainer.Test(new DataLoader(val, 16)).Loss, 5); // best weights are back
    }

    [Fact]
    public void Fit_WithScheduler_ChangesLearningRate()
    {
        var (trainer, loader) = Setup(features: 20);
        var sched = new StepLR(trainer.Optimizer, 1, 0.5f);
        var history = trainer.Fit(loader, 3, scheduler: sched);
        Assert.Equal([1e-2f, 5e-3f, 2.5e-3f], history.Select(m => m.LearningRate));
    }
}
