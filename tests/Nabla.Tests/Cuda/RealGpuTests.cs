using Nabla.Autograd;
using Nabla.Cuda;
using Nabla.Cuda.Training;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Tensors;
using Nabla.Training;

namespace Nabla.Tests.Cuda;

/// <summary>
/// The same checks on a real CUDA GPU, with cuBLAS: they skip, saying why, where no GPU is present (CI).
/// Run with <c>dotnet test --filter Category=Gpu</c> on a GPU machine.
/// </summary>
[Collection("Cuda")]
[Trait("Category", "Gpu")]
public sealed class RealGpuTests
{
    private static CudaBackend OpenOrSkip()
    {
        Skip.IfNot(CudaBackend.IsAvailable(out string reason), "No CUDA GPU here: " + reason);
        // The simulator fixture holds cuda:0 in the registry; the real device registers as cuda:1 for these tests.
        return CudaBackend.Open(0, registerAs: 1);
    }

    [SkippableFact]
    public void Cublas_products_match_the_cpu()
    {
        using var gpu = OpenOrSkip();
        var rng = new Rng(1);
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
        {
            var a = Tensor.Uniform(new Shape(ta ? 300 : 200, ta ? 200 : 300), -1, 1, rng);
            var b = Tensor.Uniform(new Shape(tb ? 100 : 300, tb ? 300 : 100), -1, 1, rng);
            var expected = a.MatMul(b, ta, tb).ToArray();
            var actual = a.To(gpu.Device).MatMul(b.To(gpu.Device), ta, tb).Cpu().ToArray();
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-3f);
        }
    }

    [SkippableFact]
    public void Training_steps_match_the_cpu_trainer()
    {
        using var gpu = OpenOrSkip();
        var arch = new MlpArchitecture(100, [96, 32], ActivationKind.Sigmoid, 10);
        var rng = new Rng(5);
        var x = new float[256 * 100];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextSingle();
        var data = new TensorDataset(x, [.. Enumerable.Range(0, 256).Select(i => i % 10)], 100, [.. Enumerable.Range(0, 10).Select(i => $"{i}")]);
        var a = arch.Create(new Rng(2));
        var b = arch.Create(new Rng(2));
        new Trainer(a, new CrossEntropyLoss(), new Adam(a.Parameters()), 100, 32).TrainEpoch(DataLoader.Shuffled(data, 32, new Rng(4)));
        var (t, device) = CudaTrainerTests.OnDevice(gpu, b, new Adam(b.Parameters()), 100, 32);
        using var _ = device;
        t.TrainEpoch(DataLoader.Shuffled(data, 32, new Rng(4)));
        for (int p = 0; p < a.Parameters().Count(); p++)
        {
            var e = a.Parameters()[p].Data;
            var g = b.Parameters()[p].Data;
            for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - g[i]) <= 1e-4f * Math.Max(1, Math.Abs(e[i])), $"parameter {p}[{i}]: {e[i]} vs {g[i]}");
        }
    }
}
