using BenchmarkDotNet.Attributes;
using Nabla.Autograd;
using Nabla.Compute;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Bench;

/// <summary>
/// One training step (forward, fused loss, backward, optimizer) of the two benchmark models, and one forward +
/// backward of the textbook model at batch 32. The MemoryDiagnoser column is the allocation per step: 0 B.
/// Before timing, the explicit-layer gradients are checked against autograd on the same batch.
/// </summary>
[MemoryDiagnoser]
public class StepBenchmarks
{
    private Trainer _trainer = null!;
    private BatchEngine _engine = null!;
    private float[] _x = [], _dLogits = [];
    private int[] _y = [];
    private int _batch;
    private static ComputeContext? _context;
    private readonly CrossEntropyLoss _loss = new();

    [Params("textbook-sgd", "textbook-adam", "1024x1024-adam")]
    public string Model { get; set; } = "";

    [GlobalSetup(Target = nameof(ForwardBackward))]
    public void Setup()
    {
        // Begun in the set-up and never ended: it stays current for the benchmark's calls on this thread.
        _context ??= ComputeContext.Begin(new ComputeSettings { Threads = 2 });
        bool big = Model.StartsWith("1024", StringComparison.Ordinal);
        _batch = big ? 256 : 32;
        var model = big ? Mlp.Create(784, [1024, 1024], ActivationKind.Relu, 10, new Rng(1))
                        : Mlp.Create(784, [32], ActivationKind.Sigmoid, 10, new Rng(1));
        var opt = Model.EndsWith("sgd", StringComparison.Ordinal) ? OptimizerFactory.Create(OptimizerKind.Sgd, model.Parameters())
                                                                   : OptimizerFactory.Create(OptimizerKind.Adam, model.Parameters());
        _trainer = new Trainer(model, new CrossEntropyLoss(), opt, 784, _batch);
        _engine = new BatchEngine(model, 784, _batch);
        var rng = new Rng(2);
        _x = Enumerable.Range(0, _batch * 784).Select(_ => rng.NextSingle()).ToArray();
        _y = Enumerable.Range(0, _batch).Select(_ => rng.NextInt(10)).ToArray();
        _dLogits = new float[_batch * 10];
        if (!big) CheckAgainstAutograd(model);
    }

    private void CheckAgainstAutograd(Sequential model)
    {
        model.ZeroGrad();
        var logits = _engine.Forward(_x, _batch);
        new CrossEntropyLoss().ForwardBackward(logits, _y, _dLogits, _batch, 10);
        _engine.Backward(_dLogits);
        var explicitGrads = model.Parameters().Select(p => p.Grad!.ToArray()).ToArray();
        foreach (var p in model.Parameters()) p.Grad = null;
        Autograd.Ops.CrossEntropy(model.Forward(Tensor.FromArray(_x, _batch, 784)), _y).Backward();
        var ps = model.Parameters();
        for (int i = 0; i < ps.Length; i++)
            for (int j = 0; j < ps[i].Size; j++)
                if (Math.Abs(ps[i].Grad!.Data[j] - explicitGrads[i][j]) > 1e-5f)
                    throw new InvalidOperationException($"Explicit and autograd gradients differ in parameter {i} at {j}.");
        model.ZeroGrad();
    }

    private float[][] _xs = [];
    private int[][] _ys = [];
    private int _next;

    /// <summary>
    /// Batches for TrainStep to cycle through: repeating one batch 10⁵ times, the model memorizes it (loss 0) and the
    /// step slows in that degenerate regime (Adam: 143 µs against ~21 µs on real data; `Nabla.Bench quick-long`).
    /// </summary>
    [GlobalSetup(Target = nameof(TrainStep))]
    public void SetupBatches()
    {
        Setup();
        var rng = new Rng(3);
        int count = _batch == 32 ? 512 : 16;
        _xs = [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, _batch * 784).Select(_ => rng.NextSingle()).ToArray())];
        _ys = [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, _batch).Select(_ => rng.NextInt(10)).ToArray())];
    }

    [Benchmark]
    public float TrainStep()
    {
        int i = _next++ & (_xs.Length - 1);
        return _trainer.Step(_xs[i], _ys[i], _batch).Loss;
    }

    [Benchmark]
    public void ForwardBackward()
    {
        var logits = _engine.Forward(_x, _batch);
        _loss.ForwardBackward(logits, _y, _dLogits, _batch, 10);
        _engine.Backward(_dLogits);
    }
}

/// <summary>One epoch of the textbook model on the real Fashion-MNIST, loader included.</summary>
[MemoryDiagnoser]
public class EpochBenchmarks
{
    private Trainer _trainer = null!;
    private DataLoader _loader = null!;
    private static ComputeContext? _context;

    [GlobalSetup]
    public void Setup()
    {
        // Begun in the set-up and never ended: it stays current for the benchmark's calls on this thread.
        _context ??= ComputeContext.Begin(new ComputeSettings { Threads = 2 });
        var (train, _) = DatasetLocator.Load(FashionMnist.Spec, new DatasetLocator().Locate(FashionMnist.Spec));
        var model = Mlp.Create(784, [32], ActivationKind.Sigmoid, 10, new Rng(1));
        _trainer = new Trainer(model, new CrossEntropyLoss(), new Sgd(model.Parameters(), new SgdOptions(1e-3f)), 784, 32);
        _loader = DataLoader.Shuffled(train, 32, new Rng(2));
    }

    [Benchmark]
    public double TextbookSgdEpoch() => _trainer.TrainEpoch(_loader).TrainLoss;
}
