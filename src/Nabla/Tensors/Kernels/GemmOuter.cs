using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nabla.Compute;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// <c>C = α·Aᵀ·B + β·C</c> for a short k, with AVX-512 and no packing: A is (k, m) and B is (k, n), both row-major,
/// which is a layer's weight gradient <c>dW = dyᵀ·x</c> (k is the batch). With k at 32 the packed algorithm spends as
/// long copying B into slivers as multiplying, so this kernel reads B's rows in place: an 8×48 block of C is 24 zmm
/// accumulators, and each k step loads 3 vectors of B's row and broadcasts 8 values of A's row. Every C element is
/// the packed kernel's chain — FMAs over k in order from zero, then <c>α·acc + β·C</c> — so the two agree bit for bit
/// (used only for k ≤ <see cref="Gemm.KC"/>, where the packed algorithm runs k as one chunk).
/// </summary>
internal static unsafe class GemmOuter
{
    private const int RowsPerTile = 8; // also the rows of C per parallel part: whole rows, contiguous in C

    /// <summary>Whether this kernel runs the shape (Aᵀ·B, a short k, a C that fits in cache); the caller checks for AVX-512.</summary>
    public static bool Suits(bool transA, bool transB, int m, int n, int k) =>
        transA && !transB && k <= 64 && k <= Gemm.KC && (long)m * n <= 1 << 20;

    public sealed class Job : IParallelBody
    {
        private int _m, _n, _k, _lda, _ldb, _ldc;
        private float _alpha, _beta;
        private float* _a, _b, _c;
        private IRowsObserver? _rowsDone;

        public int Parts { get; private set; }

        public void Set(int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc,
            IRowsObserver? rowsDone = null)
        {
            _m = m; _n = n; _k = k; _alpha = alpha; _a = a; _lda = lda; _b = b; _ldb = ldb; _beta = beta; _c = c; _ldc = ldc;
            _rowsDone = rowsDone;
            Parts = (m + RowsPerTile - 1) / RowsPerTile;
        }

        /// <summary>
        /// Rows [8·part, 8·part + 8) of C, all columns, 48 at a time (B's 48-column block, k rows, stays in L1 for the
        /// tile); then the observer hears that those rows are final.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
        public void Run(int part)
        {
            int i0 = part * RowsPerTile, rows = Math.Min(RowsPerTile, _m - i0);
            if (rows == RowsPerTile)
            {
                int j = 0;
                for (; j + 48 <= _n; j += 48) Tile8x3(i0, j);
                for (; j + 16 <= _n; j += 16) Tile8x1(i0, j);
                for (; j < _n; j++) for (int r = 0; r < RowsPerTile; r++) Element(i0 + r, j);
            }
            else
            {
                for (int i = i0; i < i0 + rows; i++)
                {
                    int j = 0;
                    for (; j + 16 <= _n; j += 16) Row1(i, j);
                    for (; j < _n; j++) Element(i, j);
                }
            }
            _rowsDone?.RowsDone(i0, rows, whole: false);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
        private void Tile8x3(int i, int j)
        {
            Vector512<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
            Vector512<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
            Vector512<float> c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
            Vector512<float> c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
            float* a = _a + i, b = _b + j;
            for (int p = 0; p < _k; p++, a += _lda, b += _ldb)
            {
                var b0 = Vector512.Load(b); var b1 = Vector512.Load(b + 16); var b2 = Vector512.Load(b + 32);
                var x = Vector512.Create(a[0]);
                c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01); c02 = Avx512F.FusedMultiplyAdd(x, b2, c02);
                x = Vector512.Create(a[1]);
                c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11); c12 = Avx512F.FusedMultiplyAdd(x, b2, c12);
                x = Vector512.Create(a[2]);
                c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21); c22 = Avx512F.FusedMultiplyAdd(x, b2, c22);
                x = Vector512.Create(a[3]);
                c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31); c32 = Avx512F.FusedMultiplyAdd(x, b2, c32);
                x = Vector512.Create(a[4]);
                c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41); c42 = Avx512F.FusedMultiplyAdd(x, b2, c42);
                x = Vector512.Create(a[5]);
                c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51); c52 = Avx512F.FusedMultiplyAdd(x, b2, c52);
                x = Vector512.Create(a[6]);
                c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61); c62 = Avx512F.FusedMultiplyAdd(x, b2, c62);
                x = Vector512.Create(a[7]);
                c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71); c72 = Avx512F.FusedMultiplyAdd(x, b2, c72);
            }
            float* c = _c + (long)i * _ldc + j;
            Store3(c, c00, c01, c02); c += _ldc;
            Store3(c, c10, c11, c12); c += _ldc;
            Store3(c, c20, c21, c22); c += _ldc;
            Store3(c, c30, c31, c32); c += _ldc;
            Store3(c, c40, c41, c42); c += _ldc;
            Store3(c, c50, c51, c52); c += _ldc;
            Store3(c, c60, c61, c62); c += _ldc;
            Store3(c, c70, c71, c72);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
        private void Tile8x1(int i, int j)
        {
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
            float* a = _a + i, b = _b + j;
            for (int p = 0; p < _k; p++, a += _lda, b += _ldb)
            {
                var v = Vector512.Load(b);
                c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), v, c0);
                c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), v, c1);
                c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), v, c2);
                c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), v, c3);
                c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4]), v, c4);
                c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5]), v, c5);
                c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6]), v, c6);
                c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7]), v, c7);
            }
            float* c = _c + (long)i * _ldc + j;
            Store(c, c0); c += _ldc; Store(c, c1); c += _ldc; Store(c, c2); c += _ldc; Store(c, c3); c += _ldc;
            Store(c, c4); c += _ldc; Store(c, c5); c += _ldc; Store(c, c6); c += _ldc; Store(c, c7);
        }

        /// <summary>One row of C, 16 columns (the row edge).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
        private void Row1(int i, int j)
        {
            Vector512<float> acc = default;
            float* a = _a + i, b = _b + j;
            for (int p = 0; p < _k; p++, a += _lda, b += _ldb) acc = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), Vector512.Load(b), acc);
            Store(_c + (long)i * _ldc + j, acc);
        }

        /// <summary>One element (the column edge, under 16 columns): the same chain with scalar FMAs.</summary>
        private void Element(int i, int j)
        {
            float acc = 0;
            float* a = _a + i, b = _b + j;
            for (int p = 0; p < _k; p++, a += _lda, b += _ldb) acc = MathF.FusedMultiplyAdd(a[0], b[0], acc);
            float* dst = _c + (long)i * _ldc + j;
            *dst = _beta == 0 ? acc * _alpha : acc * _alpha + *dst * _beta;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store3(float* c, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2)
        {
            Store(c, v0);
            Store(c + 16, v1);
            Store(c + 32, v2);
        }

        /// <summary>As the packed kernels' epilogue: α·acc, plus β·C (multiply then add, not FMA) when β ≠ 0.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(float* c, Vector512<float> acc)
        {
            var scaled = acc * Vector512.Create(_alpha);
            Vector512.Store(_beta == 0 ? scaled : scaled + Vector512.Load(c) * Vector512.Create(_beta), c);
        }
    }
}
