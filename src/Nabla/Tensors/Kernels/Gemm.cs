using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Nabla.Compute;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// Single-precision GEMM, <c>C = α·op(A)·op(B) + β·C</c>, row-major, with op = identity or transpose.
/// Written by hand because no maintained managed BLAS exists. Two algorithms, chosen by shape alone:
/// <list type="bullet">
/// <item>The classic GotoBLAS/BLIS one: for each K chunk of <see cref="KC"/>, a panel of op(B) is packed once
/// (shared by all threads) into NR-wide slivers, each thread packs MC-row blocks of op(A) into MR-row slivers
/// (transposes are absorbed by packing), and the 6×16 micro-kernel (<see cref="GemmMicroKernel"/>) sweeps them.</item>
/// <item>For <c>A·Bᵀ</c> with a small side (a layer's forward at small batch or width): dot products of
/// contiguous rows, no packing (<see cref="GemmDot"/>).</item>
/// <item>For <c>Aᵀ·B</c> with a short k (a weight gradient at a small batch) on AVX-512: outer products of rows
/// read in place, no packing (<see cref="GemmOuter"/>).</item>
/// </list>
/// Work is split over tiles of C only, never over K, and every C element goes through the same arithmetic
/// whatever the split, so results are bitwise identical with 1 or N threads.
/// </summary>
internal static unsafe class Gemm
{
    internal const int MR = GemmMicroKernel.MR;
    internal const int NR = GemmMicroKernel.NR;
    internal const int KC = 320;
    internal const int MC = 96;
    internal const int NC = 4096;

    [ThreadStatic] private static float* t_packA;
    [ThreadStatic] private static float* t_packB;
    [ThreadStatic] private static PackedJob? t_job;
    [ThreadStatic] private static GemmDot.Job? t_dotJob;
    [ThreadStatic] private static GemmOuter.Job? t_outerJob;

    /// <summary>
    /// <c>C[m×n] = α·op(A)[m×k]·op(B)[k×n] + β·C</c>. op(A)[i,p] is <c>a[i*lda+p]</c>, or <c>a[p*lda+i]</c>
    /// when <paramref name="transA"/>; likewise for B. When β is 0, C is not read (NaNs in it do not propagate).
    /// </summary>
    /// <exception cref="ArgumentException">A span is too short for its dimensions and leading dimension.</exception>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        WorkerPool? pool = null) =>
        RunObserved(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, pool, null);

    /// <summary>
    /// <see cref="Run"/>, telling <paramref name="rowsDone"/> when rows of C are final: block by block from inside the parallel parts
    /// where the algorithm splits C by rows (<see cref="GemmOuter"/>), otherwise once for all of C at the end.
    /// </summary>
    internal static void RunObserved(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        WorkerPool? pool, IRowsObserver? rowsDone, int rowsLike = 0)
    {
        RunCore(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, pool, rowsDone, rowsLike, out bool reported);
        if (!reported && m > 0) rowsDone?.RowsDone(0, m, whole: true);
    }

    private static void RunCore(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc,
        WorkerPool? pool, IRowsObserver? rowsDone, int rowsLike, out bool reported)
    {
        reported = false;
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
        // The settings are read here, on the calling thread, and handed to the parts: a worker has no context.
        var context = ComputeContext.Current;
        pool ??= context.Pool;
        bool avx512 = context.VectorWidth >= 16;
        if (2L * m * n * k < 150_000) pool = null; // below a few µs of work, waking a thread costs more than it saves
        fixed (float* pa = a, pb = b, pc = c)
        {
            if (context.Gemm == GemmProvider.OpenBlas)
            {
                if (!OpenBlas.TryLoad(out string? error)) throw new InvalidOperationException("The context asks for OpenBLAS's GEMM: " + error);
                OpenBlas.Sgemm(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
                return;
            }
            // The kernel is chosen by shape, so an element's bits depend on m; rowsLike > 0 chooses as for that many
            // rows (a process's share of a batch's rows, or of a weight gradient's: each element the bits it has in the
            // whole). Every algorithm computes an element the same way wherever its row lies.
            int mLike = rowsLike > 0 ? rowsLike : m;
            if (GemmDot.Suits(transA, transB, mLike, n, k))
            {
                var dot = t_dotJob ??= new GemmDot.Job();
                dot.Set(m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, avx512);
                RunParts(pool, dot.Parts, dot);
                return;
            }
            if (avx512 && GemmOuter.Suits(transA, transB, mLike, n, k))
            {
                var outer = t_outerJob ??= new GemmOuter.Job();
                outer.Set(m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, rowsDone);
                RunParts(pool, outer.Parts, outer);
                reported = true;
                return;
            }
            var job = t_job ??= new PackedJob();
            job.Set(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, avx512);
            job.Execute(pool);
        }
    }

    private static void RunParts(WorkerPool? pool, int parts, IParallelBody body)
    {
        if (pool is null || parts == 1) { for (int i = 0; i < parts; i++) body.Run(i); }
        else pool.For(parts, body);
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
            else if (beta != 1) TensorPrimitives.Multiply(row, beta, row);
        }
    }

    internal static float* PackBufferA() => t_packA != null ? t_packA : (t_packA = Alloc(MC * KC));

    private static float* Alloc(int floats) => (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);

    /// <summary>
    /// The packed algorithm's state for one call, reused per calling thread so that a call allocates nothing.
    /// Parts of a K chunk: (row block of MC) × (column range of C); each part packs its A block and sweeps it.
    /// </summary>
    private sealed class PackedJob : IParallelBody
    {
        private bool _transA, _transB;
        private int _m, _n, _k, _lda, _ldb, _ldc;
        private float _alpha, _beta;
        private float* _a, _b, _c;
        private float* _packB;
        private int _jc, _nc, _pc, _kc, _mBlocks, _nParts, _partWidth;
        private bool _packPerPart, _avx512;
        private PackBJob? _packJob;

        public void Set(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
            float* b, int ldb, float beta, float* c, int ldc, bool avx512)
        {
            _avx512 = avx512;
            _transA = transA; _transB = transB; _m = m; _n = n; _k = k; _alpha = alpha; _beta = beta;
            _a = a; _lda = lda; _b = b; _ldb = ldb; _c = c; _ldc = ldc;
        }

        public void Execute(WorkerPool? pool)
        {
            int threads = pool?.ActiveThreads ?? 1;
            _packB = t_packB != null ? t_packB : (t_packB = Alloc(NC * KC));
            _mBlocks = (_m + MC - 1) / MC;
            for (_jc = 0; _jc < _n; _jc += NC)
            {
                _nc = Math.Min(NC, _n - _jc);
                // Enough parts for every thread: split the columns when there are few row blocks.
                int slivers = (_nc + NR - 1) / NR;
                _nParts = Math.Clamp((2 * threads + _mBlocks - 1) / _mBlocks, 1, slivers);
                if (threads == 1) _nParts = 1;
                _partWidth = (slivers + _nParts - 1) / _nParts * NR;
                _nParts = (_nc + _partWidth - 1) / _partWidth;
                // With a single row block every part owns distinct columns, so each packs its own slivers of B
                // (in parallel, nothing packed twice); otherwise B is packed once, up front, and shared.
                _packPerPart = _mBlocks == 1;
                for (_pc = 0; _pc < _k; _pc += KC)
                {
                    _kc = Math.Min(KC, _k - _pc);
                    if (!_packPerPart) PackSharedB(pool);
                    RunParts(pool, _mBlocks * _nParts, this);
                }
            }
        }

        /// <summary>Packs this K chunk's panel of B, split over the threads when it is large.</summary>
        private void PackSharedB(WorkerPool? pool)
        {
            const int SliversPerPart = 8;
            int slivers = (_nc + NR - 1) / NR;
            if (pool is null || (long)_kc * _nc < 65_536 || slivers <= SliversPerPart)
            {
                GemmPacking.PackB(_transB, _b, _ldb, _pc, _jc, _kc, _nc, _packB);
                return;
            }
            _packJob ??= new PackBJob(this);
            pool.For((slivers + SliversPerPart - 1) / SliversPerPart, _packJob);
        }

        private void PackBColumns(int j0, int width) =>
            GemmPacking.PackB(_transB, _b, _ldb, _pc, _jc + j0, _kc, width, _packB + j0 * _kc);

        /// <summary>Packs groups of 8 slivers of the shared B panel: disjoint output, so any thread may take any group.</summary>
        private sealed class PackBJob(PackedJob owner) : IParallelBody
        {
            public void Run(int index)
            {
                int j0 = index * 8 * NR;
                owner.PackBColumns(j0, Math.Min(8 * NR, owner._nc - j0));
            }
        }

        public void Run(int part)
        {
            int i0 = part / _nParts * MC, j0 = part % _nParts * _partWidth;
            int mc = Math.Min(MC, _m - i0), width = Math.Min(_partWidth, _nc - j0);
            float* packA = PackBufferA();
            if (_packPerPart) PackBColumns(j0, width);
            GemmPacking.PackA(_transA, _a, _lda, i0, _pc, mc, _kc, packA);
            float beta = _pc == 0 ? _beta : 1f;
            bool avx512 = _avx512;
            for (int jr = j0; jr < j0 + width; jr += NR)
            {
                int nr = Math.Min(NR, _nc - jr);
                float* pb = _packB + jr * _kc;
                // Two full slivers side by side: the AVX-512 kernel takes both at once (same bits as two AVX2 tiles).
                bool pair = avx512 && jr + 2 * NR <= j0 + width;
                for (int ir = 0; ir < mc; ir += MR)
                {
                    float* cBlock = _c + (long)(i0 + ir) * _ldc + _jc + jr;
                    if (pair && mc - ir >= MR) GemmMicroKernel.RunPair(_kc, packA + ir * _kc, pb, pb + NR * _kc, cBlock, _ldc, _alpha, beta);
                    else
                    {
                        GemmMicroKernel.Run(_kc, packA + ir * _kc, pb, cBlock, _ldc, Math.Min(MR, mc - ir), nr, _alpha, beta);
                        if (pair) GemmMicroKernel.Run(_kc, packA + ir * _kc, pb + NR * _kc, cBlock + NR, _ldc, Math.Min(MR, mc - ir), NR, _alpha, beta);
                    }
                }
                if (pair) jr += NR;
            }
        }
    }
}
