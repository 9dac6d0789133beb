using Nabla.Cuda.Training;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Tests.Cuda;
using Nabla.Tests.Testing;
using Nabla.Training;

namespace Nabla.Tests.Training;

/// <summary>
/// The loss is part of every engine's contract: the CPU's explicit engine and its autograd engine train with the
/// trainer's loss (cross-entropy, NLL, mean squared error) and agree; the CUDA engine, whose step fuses softmax with
/// plain cross-entropy, trains that one and refuses any other at <c>Prepare</c> — before a single step, so nothing is
/// trained with a loss the user did not choose.
/// </summary>
[Collection("Cuda")]
public class EngineLossTests(SimulatorFixture sim)
{
    /// <summary>The same network with no explicit-layer form: only autograd runs it.</summary>
    private sealed class Wrapped(Sequential inner) : Module
    {
        public override Tensor Forward(Tensor x) => inner.Forward(x);

        public override IEnumerable<(string Name, Module Module)> NamedChildren() => [("inner", inner)];
    }

    private static TensorDataset Data()
    {
        var rng = new Rng(3);
        var x = new float[48 * 5];
        var y = new int[48];
        for (int i = 0; i < 48; i++)
        {
            y[i] = i % 3;
            for (int j = 0; j < 5; j++) x[i * 5 + j] = (j == y[i] ? 2f : 0f) + (float)rng.NextGaussian();
        }
        return new TensorDataset(x, y, 5, ["a", "b", "c"]);
    }

    public static TheoryData<string> Losses => new() { "cross-entropy", "nll", "mse" };

    private static Loss LossOf(string name) => name switch
    {
        "cross-entropy" => new CrossEntropyLoss(),
        "nll" => new NllLoss(),
        _ => new MseLoss(),
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void CpuEngines_TrainWithTheTrainersLoss_AndAgree(string loss)
    {
        var data = Data();
        float[] Train(bool explicitForm, out double firstLoss)
        {
            var net = new Sequential(new Linear(5, 6, new Rng(1)), new Tanh(), new Linear(6, 3, new Rng(2)));
            Module model = explicitForm ? net : new Wrapped(net);
            var trainer = new Trainer(model, LossOf(loss), new Sgd(model.Parameters(), new SgdOptions(0.1f)), 5, 16);
            Assert.IsType(explicitForm ? typeof(ExplicitEngine) : typeof(AutogradEngine), trainer.Engine);
            var history = trainer.TrainingLoop(new DataLoader(data, 16), epochs: 3);
            firstLoss = history[0].TrainLoss;
            Assert.True(history[^1].TrainLoss < history[0].TrainLoss, $"{loss} did not decrease");
            return [.. model.Parameters().SelectMany(p => p.ToArray())];
        }
        var a = Train(true, out double la);
        var b = Train(false, out double lb);
        Close.All(a, b, atol: 1e-5, rtol: 1e-4, what: loss);
        // The loss trained is the one given: its first epoch's value is that loss's, not cross-entropy's.
        Assert.Equal(la, lb, 4);
        if (loss == "mse") Assert.True(la < 1.5, $"an MSE on one-hot targets, not a cross-entropy: {la}");
    }

    public static TheoryData<string, string> Refused => new()
    {
        { "nll", "NllLoss" },
        { "mse", "MseLoss" },
        { "weighted", "class weights" },
        { "smoothed", "label smoothing" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void Cuda_RefusesAnyLossButPlainCrossEntropy_BeforeAStep(string kind, string named)
    {
        var model = new MlpArchitecture(5, [6], ActivationKind.Tanh, 3).Create(new Rng(1));
        var before = model.Parameters().SelectMany(p => p.ToArray()).ToArray();
        var opt = new Adam(model.Parameters());
        using var device = new CudaAccelerator(sim.Backend, model, opt, 5, 16);
        Loss loss = kind switch
        {
            "nll" => new NllLoss(),
            "mse" => new MseLoss(),
            "weighted" => new CrossEntropyLoss(weight: [1f, 2f, 3f]),
            _ => new CrossEntropyLoss(0.1f),
        };
        var trainer = new Trainer(model, loss, opt, 5, 16) { Accelerator = device };
        var e = Assert.Throws<NotSupportedException>(() => trainer.TrainEpoch(new DataLoader(Data(), 16)));
        Assert.Contains(named, e.Message);
        Assert.Equal(before, model.Parameters().SelectMany(p => p.ToArray()));
        Assert.Equal(0, trainer.StepCount);
        Assert.Throws<NotSupportedException>(() => trainer.Test(new DataLoader(Data(), 16)));
    }

    [Fact]
    public void Cuda_TrainsWithPlainCrossEntropy()
    {
        var model = new MlpArchitecture(5, [6], ActivationKind.Tanh, 3).Create(new Rng(1));
        var opt = new Adam(model.Parameters(), lr: 0.05f);
        using var device = new CudaAccelerator(sim.Backend, model, opt, 5, 16);
        var trainer = new Trainer(model, new CrossEntropyLoss(), opt, 5, 16) { Accelerator = device };
        var first = trainer.TrainEpoch(new DataLoader(Data(), 16));
        var second = trainer.TrainEpoch(new DataLoader(Data(), 16));
        Assert.True(second.TrainLoss < first.TrainLoss);
    }
}
