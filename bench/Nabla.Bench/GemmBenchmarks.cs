using BenchmarkDotNet.Attributes;
using Nabla.Compute;
using Nabla.Tensors.Kernels;

namespace Nabla.Bench;

/// <summary>
/// GEMM at the shapes recorded in RESULTS.md, as a layer's forward <c>x·Wᵀ</c> with x (m, k) and W (n, k), written
/// m×k×n: 1024³, 256×784×1024 (the big model's first layer at batch 256) and 32×784×32 (the textbook model's first
/// layer at batch 32). Each case is checked against the naive twin before it is timed. GFLOP/s = 2·m·n·k / time.
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];
    private WorkerPool _pool = null!;
    private int _m, _n, _k;

    [Params("1024x1024x1024", "256x784x1024", "32x784x32")]
    public string Shape { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var d = Shape.Split('x').Select(int.Parse).ToArray();
        (_m, _k, _n) = (d[0], d[1], d[2]);
        int m = _m, n = _n, k = _k;
        _pool = new WorkerPool(Threads);
        var rng = new Nabla.Tensors.Rng(1);
        _a = Enumerable.Range(0, m * k).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        _b = Enumerable.Range(0, n * k).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        _c = new float[m * n];
        var reference = new float[m * n];
        Gemm.Run(false, true, m, n, k, 1f, _a, k, _b, k, 0f, _c, n, _pool);
        GemmNaive.Run(false, true, m, n, k, 1f, _a, k, _b, k, 0f, reference, n);
        for (int i = 0; i < reference.Length; i++)
            if (Math.Abs(reference[i] - _c[i]) > 1e-3f * (1 + Math.Abs(reference[i])))
                throw new InvalidOperationException($"GEMM {Shape} differs from its naive twin at {i}: {_c[i]} vs {reference[i]}.");
    }

    [Benchmark]
    public void Sgemm() => Gemm.Run(false, true, _m, _n, _k, 1f, _a, _k, _b, _k, 0f, _c, _n, _pool);

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();
}
