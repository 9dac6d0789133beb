using CsCheck;
using Nabla.Compute;
using Nabla.Tensors.Kernels;
using Nabla.Tests.Testing;

namespace Nabla.Tests.Tensors;

public class GemmTests
{
    private static readonly Gen<(int M, int N, int K, bool TA, bool TB)> Shapes =
        Gen.Select(Gen.Int[0, 40], Gen.Int[0, 40], Gen.Int[0, 300], Gen.Bool, Gen.Bool);

    private static void Compare(int m, int n, int k, bool ta, bool tb, float alpha, float beta, int seed, WorkerPool? pool = null)
    {
        int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
        var a = Close.Random(Math.Max(1, (ta ? k : m) * lda), seed);
        var b = Close.Random(Math.Max(1, (tb ? n : k) * ldb), seed + 1);
        var c0 = Close.Random(Math.Max(1, m * ldc), seed + 2);
        var fast = (float[])c0.Clone();
        var naive = (float[])c0.Clone();
        Gemm.Run(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, fast, ldc, pool);
        GemmNaive.Run(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, naive, ldc);
        Close.All(naive, fast, atol: 1e-4 * Math.Sqrt(k + 1), rtol: 1e-4, what: $"C m={m} n={n} k={k} ta={ta} tb={tb}");
    }

    [Fact]
    public void Run_RandomShapesEveryTranspose_EqualsNaive() =>
        Shapes.Sample(s => Compare(s.M, s.N, s.K, s.TA, s.TB, 1f, 0f, s.M * 7 + s.N), iter: 300);

    [Fact]
    public void Run_AlphaBeta_EqualsNaive() =>
        Gen.Select(Shapes, Gen.Float[-2f, 2f], Gen.Float[-2f, 2f]).Sample(t => Compare(t.Item1.M, t.Item1.N, t.Item1.K, t.Item1.TA, t.Item1.TB, t.Item2, t.Item3, 11), iter: 150);

    [Theory]
    [InlineData(32, 32, 784)]
    [InlineData(32, 784, 32)]
    [InlineData(97, 131, 517)]
    [InlineData(256, 100, 64)]
    public void Run_LargeShapes_EqualsNaive(int m, int n, int k)
    {
        foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
            Compare(m, n, k, ta, tb, 1f, 1f, m + n + k, new WorkerPool(2));
    }

    [Theory]
    [InlineData(32, 32, 784, false, true)]
    [InlineData(32, 784, 32, true, false)]
    [InlineData(200, 300, 600, false, false)]
    [InlineData(61, 517, 333, true, true)]
    public void Run_OneAndTwoThreads_IdenticalBits(int m, int n, int k, bool ta, bool tb)
    {
        var a = Close.Random(m * k, 1);
        var b = Close.Random(k * n, 2);
        var c1 = new float[m * n];
        var c2 = new float[m * n];
        Gemm.Run(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, 0f, c1, n, new WorkerPool(1));
        Gemm.Run(ta, tb, m, n, k, 1f, a, ta ? m : k, b, tb ? k : n, 0f, c2, n, new WorkerPool(2));
        Assert.Equal(c1, c2);
    }

    [Theory]
    [InlineData(100, 200, 300, false, false, 0f)]
    [InlineData(97, 131, 77, true, false, 0.5f)]
    [InlineData(256, 1024, 784, false, true, 0f)]
    [InlineData(13, 64, 33, true, true, 1f)]
    [InlineData(32, 32, 784, false, true, 1f)]   // the textbook's forward: the dot kernel's paired blocks
    [InlineData(33, 11, 45, false, true, 0f)]    // dot kernel edges: a row over 4·8, a column pair and a single, a k tail
    [InlineData(32, 784, 32, true, false, 1f)]   // the textbook's weight gradient: the outer-product kernel
    [InlineData(19, 83, 7, true, false, 0.5f)]   // outer-product edges: rows past 8, columns past 48 and 16
    [InlineData(10, 32, 64, true, false, 0f)]
    public void Run_Avx512AndAvx2Kernels_IdenticalBits(int m, int n, int k, bool ta, bool tb, float beta)
    {
        // The AVX-512 kernel computes each C element as the same chain of FMAs as the AVX2 one: forcing the AVX2 path
        // on an AVX-512 machine must give the same bits (on a machine without AVX-512 both runs take the AVX2 path).
        int lda = ta ? m : k, ldb = tb ? k : n;
        var a = Close.Random((ta ? k : m) * lda, 1);
        var b = Close.Random((tb ? n : k) * ldb, 2);
        var c0 = Close.Random(m * n, 3);
        var wide = (float[])c0.Clone();
        using (ComputeContext.Begin(new ComputeSettings { Threads = 2 }))
            Gemm.Run(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, beta, wide, n);
        var narrow = (float[])c0.Clone();
        using (ComputeContext.Begin(new ComputeSettings { Threads = 2, MaxVectorWidth = 8 }))
            Gemm.Run(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, beta, narrow, n);
        Assert.Equal(narrow, wide);
        var naive = (float[])c0.Clone();
        GemmNaive.Run(ta, tb, m, n, k, 1.5f, a, lda, b, ldb, beta, naive, n);
        Close.All(naive, wide, atol: 1e-4 * Math.Sqrt(k + 1), rtol: 1e-4);
    }

    [Fact]
    public void Run_BetaZero_IgnoresNaNInC()
    {
        var c = new[] { float.NaN, float.NaN, float.NaN, float.NaN };
        Gemm.Run(false, false, 2, 2, 1, 1f, [1f, 2f], 1, [3f, 4f], 2, 0f, c, 2);
        Assert.Equal([3f, 4f, 6f, 8f], c);
    }

    [Fact]
    public void Run_SpanTooShort_ThrowsNamingOperand()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.Run(false, false, 2, 2, 2, 1f, new float[3], 2, new float[4], 2, 0f, new float[4], 2));
        Assert.Contains("A holds 3 floats", e.Message);
    }
}

/// <summary>OpenBLAS as the GEMM provider of this test's own context: parallel GEMM tests keep Nabla's.</summary>
public class OpenBlasProviderTests
{
    [Fact]
    public void OpenBlas_WhenInstalled_EqualsNaive_OtherwiseSaysHowToInstall()
    {
        if (!OpenBlas.TryLoad(out string? error))
        {
            Assert.Contains("apt-get install libopenblas0-pthread", error);
            return;
        }
        using (ComputeContext.Begin(new ComputeSettings { Gemm = GemmProvider.OpenBlas }))
        {
            foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
            {
                int m = 33, n = 47, k = 65;
                var a = Close.Random(m * k, 1);
                var b = Close.Random(k * n, 2);
                var c1 = Close.Random(m * n, 3);
                var c2 = (float[])c1.Clone();
                Gemm.Run(ta, tb, m, n, k, 0.5f, a, ta ? m : k, b, tb ? k : n, 2f, c1, n);
                GemmNaive.Run(ta, tb, m, n, k, 0.5f, a, ta ? m : k, b, tb ? k : n, 2f, c2, n);
                Close.All(c2, c1, 1e-4, 1e-4, $"openblas ta={ta} tb={tb}");
            }
        }
    }
}
