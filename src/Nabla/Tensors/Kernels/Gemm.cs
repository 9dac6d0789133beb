using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nabla.Compute;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// Single-precision GEMM, <c>C = α·op(A)·op(B) + β·C</c>, row-major, with op = identity or transpose.
/// Written by hand because no maintained managed BLAS exists; the structure is the classic GotoBLAS/BLIS one:
/// C is cut into tiles; for each tile, K is cut into chunks of <see cref="KC"/>; the A and B chunks are packed
/// into contiguous slivers (transposes are absorbed here) and a 6×16 register-blocked micro-kernel
/// (<see cref="GemmMicroKernel"/>) sweeps them. Tiles run in parallel on a <see cref="WorkerPool"/>.
/// Every element of C is summed over K in the same order whatever the tiling and the thread count, so results
/// are bitwise identical with 1 or N threads.
/// </summary>
public static unsafe class Gemm
{
    internal const int MR = GemmMicroKernel.MR;
    internal const int NR = GemmMicroKernel.NR;
    internal const int KC = 256;
    private const int MC = 96;
    private const int NC = 512;

    [ThreadStatic] private static float* t_packA;
    [ThreadStatic] private static float* t_packB;

    [ThreadStatic] private static GemmJob? t_job;

    /// <summary>
    /// <c>C[m×n] = α·op(A)[m×k]·op(B)[k×n] + β·C</c>. op(A)[i,p] is <c>a[i*lda+p]</c>, or <c>a[p*lda+i]</c>
    /// when <paramref name="transA"/>; likewise for B. When β is 0, C is not read (NaNs in it do not propagate).
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short for its dimensions and leading dimension.</exception>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        WorkerPool? pool = null)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"GEMM dimensions must be non-negative: m={m}, n={n}, k={k}.");
        if (m == 0 || n == 0) return;
        CheckOperand("A", a, transA ? k : m, transA ? m : k, lda);
        CheckOperand("B", b, transB ? n : k, transB ? k : n, ldb);
        CheckOperand("C", c, m, n, ldc);
        if (k == 0 || alpha == 0)
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        pool ??= WorkerPool.Default;
        fixed (float* pa = a, pb = b, pc = c)
        {
            var job = t_job ??= new GemmJob();
            job.Set(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            long flops = 2L * m * n * k;
            int threads = flops < 200_000 ? 1 : pool.Threads;
            job.ChooseTiles(threads);
            if (job.TileCount == 1) job.Run(0);
            else pool.For(job.TileCount, job);
        }
    }

    private static void CheckOperand(string name, ReadOnlySpan<float> x, int rows, int cols, int ld)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentException($"GEMM: leading dimension of {name} ({ld}) is smaller than its {cols} columns.");
        if (rows > 0 && cols > 0 && (long)(rows - 1) * ld + cols > x.Length)
            throw new ArgumentException($"GEMM: {name} holds {x.Length} floats, too few for ({rows}, {cols}) with leading dimension {ld}.");
    }

    private static void ScaleC(int m, int n, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0) row.Clear();
            else if (beta != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>One GEMM call's arguments, reused per thread so that a call allocates nothing.</summary>
    private sealed class GemmJob : IParallelBody
    {
        private bool _transA, _transB;
        private int _m, _n, _k, _lda, _ldb, _ldc, _mc, _nc, _tilesN;
        private float _alpha, _beta;
        private float* _a, _b, _c;

        public int TileCount { get; private set; }

        public void Set(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
            float* b, int ldb, float beta, float* c, int ldc)
        {
            _transA = transA; _transB = transB; _m = m; _n = n; _k = k; _alpha = alpha; _beta = beta;
            _a = a; _lda = lda; _b = b; _ldb = ldb; _c = c; _ldc = ldc;
        }

        /// <summary>Tile sizes: as large as the caches allow, cut further until every thread has a tile.</summary>
        public void ChooseTiles(int threads)
        {
            _mc = Math.Min(MC, RoundUp(_m, MR));
            _nc = Math.Min(NC, RoundUp(_n, NR));
            while (Tiles() < threads && _nc > NR) _nc = RoundUp(_nc / 2, NR);
            while (Tiles() < threads && _mc > MR) _mc = RoundUp(_mc / 2, MR);
            _tilesN = (_n + _nc - 1) / _nc;
            TileCount = Tiles();
        }

        private int Tiles() => ((_m + _mc - 1) / _mc) * ((_n + _nc - 1) / _nc);

        public void Run(int tile)
        {
            int i0 = tile / _tilesN * _mc, j0 = tile % _tilesN * _nc;
            int mc = Math.Min(_mc, _m - i0), nc = Math.Min(_nc, _n - j0);
            float* packA = t_packA != null ? t_packA : (t_packA = Alloc(MC * KC));
            float* packB = t_packB != null ? t_packB : (t_packB = Alloc(NC * KC));
            for (int p0 = 0; p0 < _k; p0 += KC)
            {
                int kc = Math.Min(KC, _k - p0);
                GemmPacking.PackA(_transA, _a, _lda, i0, p0, mc, kc, packA);
                GemmPacking.PackB(_transB, _b, _ldb, p0, j0, kc, nc, packB);
                float beta = p0 == 0 ? _beta : 1f;
                for (int jr = 0; jr < nc; jr += NR)
                {
                    int nr = Math.Min(NR, nc - jr);
                    for (int ir = 0; ir < mc; ir += MR)
                    {
                        int mr = Math.Min(MR, mc - ir);
                        float* cBlock = _c + (long)(i0 + ir) * _ldc + j0 + jr;
                        GemmMicroKernel.Run(kc, packA + ir * kc, packB + jr * kc, cBlock, _ldc, mr, nr, _alpha, beta);
                    }
                }
            }
        }

        private static float* Alloc(int floats) => (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int RoundUp(int x, int m) => (x + m - 1) / m * m;
}
