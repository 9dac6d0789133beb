using Nabla.Autograd;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Tests.Training;

/// <summary>The conveniences of the library for people who write their own loops.</summary>
public class LibraryApiTests
{
    private static TensorDataset Blobs(int n) =>
        new([.. Enumerable.Range(0, n * 4).Select(i => (float)((i * 7919) % 13) / 13f + (i / 4 % 3))],
            [.. Enumerable.Range(0, n).Select(i => i % 3)], 4, ["a", "b", "c"]);

    [Fact]
    public void Batches_HandOutTensorsOfTheirRealSize_TheShortLastOneToo()
    {
        var loader = new DataLoader(Blobs(10), 4);
        var sizes = new List<int>();
        foreach (var (x, y) in loader)
        {
            Assert.Equal(new Shape(y.Length, 4), x.Shape);
            sizes.Add(y.Length);
        }
        Assert.Equal([4, 4, 2], sizes);
    }

    [Fact]
    public void Trainer_WithoutWidthOrBatch_SizesItself_AndLearns()
    {
        var model = Mlp.Create(4, [8], ActivationKind.Tanh, 3, new Rng(1));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), lr: 0.05f));
        var loader = DataLoader.Shuffled(Blobs(60), 16, new Rng(2));
        var history = trainer.TrainingLoop(loader, 30);
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss * 0.6, $"{history[0].TrainLoss} → {history[^1].TrainLoss}");
        var (x, y) = new DataLoader(Blobs(60), 60).LoadBatchAfterPass(0);
        var predicted = model.Predict(x);
        Assert.True(predicted.Zip(y).Count(p => p.First == p.Second) > 40);
        var p = model.PredictProba(x);
        Assert.Equal(new Shape(60, 3), p.Shape);
        for (int r = 0; r < 60; r++) Assert.Equal(1f, p.Data.Slice(3 * r, 3).ToArray().Sum(), 4);
        Assert.True(model.IsTraining); // the mode is restored
        Assert.Null(p.GradFn);
    }

    [Fact]
    public void LrShortcuts_EqualTheOptionsForm()
    {
        float[] Run(Func<Tensor[], Optimizer> make)
        {
            var w = Tensor.FromArray([0.5f, -1f, 2f]).RequireGrad();
            var o = make([w]);
            for (int s = 0; s < 3; s++) { w.Grad = Tensor.FromArray([0.1f * s, -0.2f, 0.3f]); o.Step(); }
            return w.ToArray();
        }
        Assert.Equal(Run(p => new Adam(p, new AdamOptions(0.01f, WeightDecay: 0.1f))), Run(p => new Adam(p, lr: 0.01f, weightDecay: 0.1f)));
        Assert.Equal(Run(p => new Sgd(p, new SgdOptions(0.1f, Momentum: 0.9f))), Run(p => new Sgd(p, lr: 0.1f, momentum: 0.9f)));
        Assert.Equal(Run(p => new RmsProp(p, new RmsPropOptions(0.01f, Centered: true))), Run(p => new RmsProp(p, lr: 0.01f, centered: true)));
        Assert.Equal(Run(p => new Adagrad(p, new AdagradOptions(0.1f, LrDecay: 0.1f))), Run(p => new Adagrad(p, lr: 0.1f, lrDecay: 0.1f)));
        Assert.Equal(Run(p => new AdamW(p, new AdamOptions(0.01f, WeightDecay: 0.02f))), Run(p => new AdamW(p, lr: 0.01f, weightDecay: 0.02f)));
    }
}

internal static class LoaderTestExtensions
{
    /// <summary>Batch <paramref name="index"/> of a fresh pass, as (x, y).</summary>
    public static (Tensor X, int[] Y) LoadBatchAfterPass(this DataLoader loader, int index)
    {
        loader.BeginPass();
        var (x, y) = loader.LoadBatch(index);
        return (x, y);
    }
}
