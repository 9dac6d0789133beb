using BenchmarkDotNet.Attributes;
using Nabla.Compute;
using Nabla.Tensors.Kernels;

namespace Nabla.Bench;

/// <summary>
/// GEMM at the shapes recorded in RESULTS.md, next to OpenBLAS's figures: 1024³, 256×784×1024 (a hidden layer of
/// the big model) and 32×784×32 (the textbook model at batch 32). Each case is checked against the naive twin
/// before it is timed. GFLOP/s = 2·m·n·k / time.
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];
    private WorkerPool _pool = null!;

    [Params("1024x1024x1024", "256x784x1024", "32x784x32")]
    public string Shape { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private (int M, int N, int K) Dims
    {
        get
        {
            var d = Shape.Split('x').Select(int.Parse).ToArray();
            return (d[0], d[1], d[2]);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        var (m, n, k) = Dims;
        _pool = new WorkerPool(Threads);
        var rng = new Nabla.Tensors.Rng(1);
        _a = Enumerable.Range(0, m * k).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        _b = Enumerable.Range(0, k * n).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        _c = new float[m * n];
        var reference = new float[m * n];
        Gemm.Run(false, false, m, n, k, 1f, _a, k, _b, n, 0f, _c, n, _pool);
        GemmNaive.Run(false, false, m, n, k, 1f, _a, k, _b, n, 0f, reference, n);
        for (int i = 0; i < reference.Length; i++)
            if (Math.Abs(reference[i] - _c[i]) > 1e-3f * (1 + Math.Abs(reference[i])))
                throw new InvalidOperationException($"GEMM {Shape} differs from its naive twin at {i}: {_c[i]} vs {reference[i]}.");
    }

    [Benchmark]
    public void Sgemm()
    {
        var (m, n, k) = Dims;
        Gemm.Run(false, false, m, n, k, 1f, _a, k, _b, n, 0f, _c, n, _pool);
    }

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();
}
