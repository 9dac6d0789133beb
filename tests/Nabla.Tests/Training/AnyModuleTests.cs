using Nabla.Autograd;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Tests.Testing;
using Nabla.Training;

namespace Nabla.Tests.Training;

/// <summary>A module written only with tensor ops trains with Trainer's one loop, through autograd.</summary>
[Collection("Serial")]
public class AnyModuleTests
{
    /// <summary>x·σ(x), with no explicit-layer form: only autograd can differentiate it.</summary>
    private sealed class Swish : Module
    {
        public override Tensor Forward(Tensor x) => x.Mul(x.Sigmoid());
    }

    /// <summary>A user's own model class (not a Sequential): two Linear layers around Swish and Dropout.</summary>
    private sealed class SwishNet : Module
    {
        private readonly Linear _in, _out;
        private readonly Dropout _drop;

        public SwishNet(int features, int hidden, int classes, Rng rng)
        {
            _in = new Linear(features, hidden, rng);
            _drop = new Dropout(0.2f, rng);
            _out = new Linear(hidden, classes, rng);
        }

        public override Tensor Forward(Tensor x) => _out.Forward(_drop.Forward(new Swish().Forward(_in.Forward(x))));

        public override IEnumerable<(string Name, Module Module)> NamedChildren() => [("in", _in), ("drop", _drop), ("out", _out)];
    }

    private static TensorDataset Blobs(int n, int features, int classes, ulong seed)
    {
        var c = new Rng(100); // the same centers for every sample set
        var centers = Enumerable.Range(0, classes * features).Select(_ => (float)c.NextGaussian() * 2).ToArray();
        var rng = new Rng(seed);
        var x = new float[n * features];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % classes;
            for (int j = 0; j < features; j++) x[i * features + j] = centers[y[i] * features + j] + (float)rng.NextGaussian();
        }
        return new TensorDataset(x, y, features, [.. Enumerable.Range(0, classes).Select(c => c.ToString())]);
    }

    private static (Trainer Trainer, DataLoader Train, DataLoader Val) Setup()
    {
        var model = new SwishNet(10, 12, 3, new Rng(4));
        var trainer = new Trainer(model, new CrossEntropyLoss(), new Adam(model.Parameters(), new AdamOptions(LearningRate: 1e-2f)), 10, 16);
        return (trainer, DataLoader.Shuffled(Blobs(160, 10, 3, 1), 16, new Rng(5)), new DataLoader(Blobs(48, 10, 3, 2), 16));
    }

    [Fact]
    public void Fit_CustomModule_RunsThroughAutograd_AndLearns()
    {
        var (trainer, train, val) = Setup();
        Assert.IsType<AutogradEngine>(trainer.Engine);
        var stopper = new EarlyStopping(patience: 2);
        var history = trainer.Fit(train, 8, val, [stopper]);
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss * 0.5, $"loss {history[0].TrainLoss} → {history[^1].TrainLoss}");
        Assert.True(trainer.Test(val).Accuracy > 0.9);
        Assert.All(history, m => Assert.NotNull(m.Validation));
    }

    [Fact]
    public void Fit_CustomModule_CheckpointAndResume_BitExact()
    {
        var (whole, train, val) = Setup();
        whole.Fit(train, 4, val);
        var expected = whole.Model.Parameters().Select(p => p.ToArray()).ToList();

        using var dir = new TempDir();
        var (first, train1, val1) = Setup();
        first.Fit(train1, 2, val1);
        var shuffleState = ((RandomSampler)train1.Sampler).Rng.GetState();
        Checkpoint.Save(dir.File("ck.safetensors"), first.Model, first.Optimizer, new CheckpointState(2, 0, shuffleState, null, "{}"));

        var (second, train2, val2) = Setup(); // fresh weights and optimizer, overwritten by the checkpoint
        var state = Checkpoint.Restore(dir.File("ck.safetensors"), second.Model, second.Optimizer);
        ((RandomSampler)train2.Sampler).Rng.SetState(state.EpochShuffleRng);
        second.Fit(train2, 4, val2, startEpoch: state.Epoch);

        foreach (var (want, got) in expected.Zip(second.Model.Parameters()))
            Assert.Equal(want, got.ToArray());
    }

    [Fact]
    public void Step_AutogradAndExplicitEngines_SameGradientsAndUpdates()
    {
        // The same built-in model through both engines: the two forms of the one loop agree.
        float[] Train(bool viaAutograd)
        {
            var model = Mlp.Create(10, [8], ActivationKind.Tanh, 3, new Rng(9));
            Module m = viaAutograd ? new Wrapper(model) : model;
            var trainer = new Trainer(m, new CrossEntropyLoss(), new Sgd(model.Parameters(), new SgdOptions(0.1f, Momentum: 0.9f)), 10, 16);
            Assert.Equal(viaAutograd, trainer.Engine is AutogradEngine);
            trainer.TrainingLoop(DataLoader.Shuffled(Blobs(64, 10, 3, 3), 16, new Rng(1)), 2);
            return [.. model.Parameters().SelectMany(p => p.ToArray())];
        }
        Close.All(Train(false), Train(true), 1e-5, 1e-6);
    }

    private sealed class Wrapper(Module inner) : Module
    {
        public override Tensor Forward(Tensor x) => inner.Forward(x);

        public override IEnumerable<(string Name, Module Module)> NamedChildren() => [("inner", inner)];
    }
}
