using Nabla.Autograd;
using Nabla.Cuda.Training;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Cuda;

/// <summary>One comparison of the device against the CPU: its name, worst relative error, and the bound it must meet.</summary>
public sealed record SelfTestResult(string Name, double MaxRelativeError, double Tolerance)
{
    /// <summary>Whether the error is within the tolerance.</summary>
    public bool Passed => MaxRelativeError <= Tolerance;
}

/// <summary>
/// Checks an installed GPU (<c>nabla devices --check</c>): every kernel family of the backend, and a few training
/// epochs of the fused engine with each optimizer, against the CPU on random data. The unit tests make the same
/// comparisons on ILGPU's CPU accelerator; this runs them where the real PTX, cuBLAS and driver are.
/// </summary>
public static class CudaSelfTest
{
    /// <summary>Runs every check on <paramref name="gpu"/>; nothing is printed.</summary>
    public static List<SelfTestResult> Run(CudaBackend gpu)
    {
        var results = new List<SelfTestResult>();
        var rng = new Rng(20261126);
        var dev = gpu.Device;
        // The simulator (ILGPU's CPU accelerator) takes the small shapes only: it runs a 256×1024×784 product for minutes.
        var shapes = gpu.IsSimulator ? new[] { (7, 9, 13), (32, 10, 40) } : new[] { (7, 9, 13), (256, 1024, 784), (32, 32, 784) };
        foreach (var (m, n, k) in shapes)
            foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
            {
                var a = Random(rng, ta ? k : m, ta ? m : k);
                var b = Random(rng, tb ? n : k, tb ? k : n);
                // Products accumulate k terms in another order: the bound scales with √k.
                results.Add(Compare($"matmul {m}×{n}×{k}{(ta ? " Aᵀ" : "")}{(tb ? " Bᵀ" : "")}", a.MatMul(b, ta, tb),
                    a.To(dev).MatMul(b.To(dev), ta, tb).Cpu(), 1e-6 * Math.Sqrt(k) * 4));
            }
        var x = Random(rng, 64, 33);
        var d = x.To(dev);
        results.Add(Compare("sigmoid", x.Sigmoid(), d.Sigmoid().Cpu(), 1e-5));
        results.Add(Compare("tanh", x.Tanh(), d.Tanh().Cpu(), 1e-5));
        results.Add(Compare("relu", x.Relu(), d.Relu().Cpu(), 0));
        results.Add(Compare("exp, log", x.Exp().Log(), d.Exp().Log().Cpu(), 1e-5));
        results.Add(Compare("softmax", x.Softmax(), d.Softmax().Cpu(), 1e-5));
        results.Add(Compare("log_softmax", x.LogSoftmax(), d.LogSoftmax().Cpu(), 1e-5));
        var bias = Random(rng, 33);
        results.Add(Compare("add bias row", x.Add(bias), d.Add(bias.To(dev)).Cpu(), 0));
        results.Add(Compare("sum", x.Sum(), d.Sum().Cpu(), 1e-5));
        foreach (var (name, make) in Optimizers())
        {
            results.Add(Train(gpu, $"train 100-96-32-10 sigmoid, {name}", new MlpArchitecture(100, [96, 32], ActivationKind.Sigmoid, 10), make));
            results.Add(Train(gpu, $"train 100-80-10 relu (GEMM path), {name}", new MlpArchitecture(100, [80], ActivationKind.Relu, 10), make));
        }
        return results;
    }

    private static IEnumerable<(string, Func<Tensor[], Optimizer>)> Optimizers() =>
    [
        ("SGD", p => new Sgd(p, new SgdOptions(0.05f))),
        ("SGD momentum", p => new Sgd(p, new SgdOptions(0.05f, Momentum: 0.9f, WeightDecay: 1e-4f))),
        ("Adam", p => new Adam(p)),
        ("AdamW", p => new AdamW(p)),
        ("RMSprop", p => new RmsProp(p, new RmsPropOptions(1e-3f))),
        ("Adagrad", p => new Adagrad(p)),
    ];

    private static Tensor Random(Rng rng, params int[] shape) => Tensor.Uniform(new Shape(shape), -1f, 1f, rng);

    private static SelfTestResult Compare(string name, Tensor expected, Tensor actual, double tolerance)
    {
        var e = expected.ToArray();
        var a = actual.ToArray();
        double worst = 0;
        for (int i = 0; i < e.Length; i++)
            worst = Math.Max(worst, double.IsFinite(a[i]) ? Math.Abs(e[i] - a[i]) / Math.Max(1.0, Math.Abs(e[i])) : double.PositiveInfinity);
        return new SelfTestResult(name, worst, tolerance);
    }

    private static SelfTestResult Train(CudaBackend gpu, string name, MlpArchitecture arch, Func<Tensor[], Optimizer> make)
    {
        var rng = new Rng(9);
        int count = gpu.IsSimulator ? 64 : 512;
        var features = new float[count * arch.Inputs];
        for (int i = 0; i < features.Length; i++) features[i] = rng.NextSingle();
        var labels = Enumerable.Range(0, count).Select(i => i % arch.Classes).ToArray();
        var data = new TensorDataset(features, labels, arch.Inputs, [.. Enumerable.Range(0, arch.Classes).Select(c => $"{c}")]);
        var cpu = arch.Create(new Rng(1));
        var cuda = arch.Create(new Rng(1));
        var host = new Trainer(cpu, new CrossEntropyLoss(), make(cpu.Parameters()), arch.Inputs, 32);
        var onDevice = new Trainer(cuda, new CrossEntropyLoss(), make(cuda.Parameters()), arch.Inputs, 32);
        using var accelerator = new CudaAccelerator(gpu, cuda, onDevice.Optimizer, arch.Inputs, 32);
        onDevice.Accelerator = accelerator;
        for (int epoch = 0; epoch < 2; epoch++)
        {
            host.TrainEpoch(DataLoader.Shuffled(data, 32, new Rng((ulong)epoch)));
            onDevice.TrainEpoch(DataLoader.Shuffled(data, 32, new Rng((ulong)epoch)));
        }
        double worst = 0;
        var pc = cpu.Parameters();
        var pg = cuda.Parameters();
        for (int p = 0; p < pc.Length; p++)
            worst = Math.Max(worst, Compare(name, pc[p], pg[p], 0).MaxRelativeError);
        // 32 steps compound rounding differences (other summation orders, fused multiply-adds): 1e-4 relative.
        return new SelfTestResult(name, worst, 1e-4);
    }
}
