using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nabla.Compute;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// <c>C = α·A·Bᵀ + β·C</c> as dot products of rows: A (m, k) and B (n, k) are both contiguous along k, which is
/// a layer's forward pass <c>y = x·Wᵀ</c>. When one side is small (a batch under 32, or 10 classes) packing would
/// cost as much as the arithmetic, so this kernel reads the rows in place: a 4×3 block of C is 12 vector
/// accumulators over k, reduced at the end. Every C element — in a full block or at an edge — is summed the
/// same way (8 lanes, then the same reduction tree, then the k tail), so the split never changes a bit.
/// With AVX-512 a 4×6 block runs on 512-bit registers, each holding two columns' 8-lane accumulators side by side
/// (x's 8 floats broadcast to both halves): every lane sees the same FMA chain as on AVX2, so both paths give the
/// same bits, at twice the work per instruction.
/// </summary>
internal static unsafe class GemmDot
{
    private const int RM = 4, RN = 3;
    private const int PartRows = 8; // rows of C per parallel part: whole rows, so two threads never share a C line

    /// <summary>Whether this kernel is the better choice for the shape.</summary>
    /// <remarks>
    /// Measured (<c>Nabla.Bench quick-shards</c>, 1 and 2 threads, 784→1024 and 1024→1024): rows read in place win
    /// at 16 rows, tie at 32 and lose from 48 on (1.6x slower at 64 rows), where packing a wide B pays for itself;
    /// a narrow layer (n ≤ 32, the textbook's) always suits.
    /// </remarks>
    public static bool Suits(bool transA, bool transB, int m, int n, int k) =>
        !transA && transB && Vector256.IsHardwareAccelerated && Fma.IsSupported && k >= 32 && (m < 32 || n <= 32);

    public sealed class Job : IParallelBody
    {
        private int _m, _n, _k, _lda, _ldb, _ldc;
        private float _alpha, _beta;
        private float* _a, _b, _c;
        private bool _avx512;

        public int Parts { get; private set; }

        public void Set(int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, bool avx512)
        {
            _avx512 = avx512;
            _m = m; _n = n; _k = k; _alpha = alpha; _a = a; _lda = lda; _b = b; _ldb = ldb; _beta = beta; _c = c; _ldc = ldc;
            Parts = (m + PartRows - 1) / PartRows;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
        public void Run(int part)
        {
            int i = part * PartRows, i1 = Math.Min(_m, i + PartRows);
            bool avx512 = _avx512;
            for (; i + RM <= i1; i += RM)
            {
                int j = 0;
                if (avx512)
                {
                    for (; j + 6 <= _n; j += 6) Block4x6(i, j);
                    for (; j + 2 <= _n; j += 2) Block4x2(i, j);
                }
                for (; j + RN <= _n; j += RN) Block4x3(i, j);
                for (; j < _n; j++) for (int r = 0; r < RM; r++) Single(i + r, j);
            }
            for (; i < i1; i++) for (int j = 0; j < _n; j++) Single(i, j);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
        private void Block4x3(int i, int j)
        {
            float* a0 = _a + (long)i * _lda, a1 = a0 + _lda, a2 = a1 + _lda, a3 = a2 + _lda;
            float* b0 = _b + (long)j * _ldb, b1 = b0 + _ldb, b2 = b1 + _ldb;
            Vector256<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
            Vector256<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
            int kv = _k & ~7;
            for (int p = 0; p < kv; p += 8)
            {
                var w0 = Vector256.Load(b0 + p); var w1 = Vector256.Load(b1 + p); var w2 = Vector256.Load(b2 + p);
                var x = Vector256.Load(a0 + p);
                c00 = Fma.MultiplyAdd(x, w0, c00); c01 = Fma.MultiplyAdd(x, w1, c01); c02 = Fma.MultiplyAdd(x, w2, c02);
                x = Vector256.Load(a1 + p);
                c10 = Fma.MultiplyAdd(x, w0, c10); c11 = Fma.MultiplyAdd(x, w1, c11); c12 = Fma.MultiplyAdd(x, w2, c12);
                x = Vector256.Load(a2 + p);
                c20 = Fma.MultiplyAdd(x, w0, c20); c21 = Fma.MultiplyAdd(x, w1, c21); c22 = Fma.MultiplyAdd(x, w2, c22);
                x = Vector256.Load(a3 + p);
                c30 = Fma.MultiplyAdd(x, w0, c30); c31 = Fma.MultiplyAdd(x, w1, c31); c32 = Fma.MultiplyAdd(x, w2, c32);
            }
            Store(i, j, c00, kv); Store(i, j + 1, c01, kv); Store(i, j + 2, c02, kv);
            Store(i + 1, j, c10, kv); Store(i + 1, j + 1, c11, kv); Store(i + 1, j + 2, c12, kv);
            Store(i + 2, j, c20, kv); Store(i + 2, j + 1, c21, kv); Store(i + 2, j + 2, c22, kv);
            Store(i + 3, j, c30, kv); Store(i + 3, j + 1, c31, kv); Store(i + 3, j + 2, c32, kv);
        }

        /// <summary>Rows i…i+3 against columns j…j+5 on AVX-512: accumulator c_rq holds columns j+2q and j+2q+1.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
        private void Block4x6(int i, int j)
        {
            float* a0 = _a + (long)i * _lda, a1 = a0 + _lda, a2 = a1 + _lda, a3 = a2 + _lda;
            float* b0 = _b + (long)j * _ldb, b1 = b0 + _ldb, b2 = b1 + _ldb, b3 = b2 + _ldb, b4 = b3 + _ldb, b5 = b4 + _ldb;
            Vector512<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
            Vector512<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
            int kv = _k & ~7;
            for (int p = 0; p < kv; p += 8)
            {
                var w0 = Pair(b0 + p, b1 + p); var w1 = Pair(b2 + p, b3 + p); var w2 = Pair(b4 + p, b5 + p);
                var x = Avx512DQ.BroadcastVector256ToVector512(a0 + p);
                c00 = Avx512F.FusedMultiplyAdd(x, w0, c00); c01 = Avx512F.FusedMultiplyAdd(x, w1, c01); c02 = Avx512F.FusedMultiplyAdd(x, w2, c02);
                x = Avx512DQ.BroadcastVector256ToVector512(a1 + p);
                c10 = Avx512F.FusedMultiplyAdd(x, w0, c10); c11 = Avx512F.FusedMultiplyAdd(x, w1, c11); c12 = Avx512F.FusedMultiplyAdd(x, w2, c12);
                x = Avx512DQ.BroadcastVector256ToVector512(a2 + p);
                c20 = Avx512F.FusedMultiplyAdd(x, w0, c20); c21 = Avx512F.FusedMultiplyAdd(x, w1, c21); c22 = Avx512F.FusedMultiplyAdd(x, w2, c22);
                x = Avx512DQ.BroadcastVector256ToVector512(a3 + p);
                c30 = Avx512F.FusedMultiplyAdd(x, w0, c30); c31 = Avx512F.FusedMultiplyAdd(x, w1, c31); c32 = Avx512F.FusedMultiplyAdd(x, w2, c32);
            }
            StorePair(i, j, c00, kv); StorePair(i, j + 2, c01, kv); StorePair(i, j + 4, c02, kv);
            StorePair(i + 1, j, c10, kv); StorePair(i + 1, j + 2, c11, kv); StorePair(i + 1, j + 4, c12, kv);
            StorePair(i + 2, j, c20, kv); StorePair(i + 2, j + 2, c21, kv); StorePair(i + 2, j + 4, c22, kv);
            StorePair(i + 3, j, c30, kv); StorePair(i + 3, j + 2, c31, kv); StorePair(i + 3, j + 4, c32, kv);
        }

        /// <summary>Rows i…i+3 against columns j and j+1 on AVX-512 (the column edge of <see cref="Block4x6"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
        private void Block4x2(int i, int j)
        {
            float* a0 = _a + (long)i * _lda, a1 = a0 + _lda, a2 = a1 + _lda, a3 = a2 + _lda;
            float* b0 = _b + (long)j * _ldb, b1 = b0 + _ldb;
            Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
            int kv = _k & ~7;
            for (int p = 0; p < kv; p += 8)
            {
                var w = Pair(b0 + p, b1 + p);
                c0 = Avx512F.FusedMultiplyAdd(Avx512DQ.BroadcastVector256ToVector512(a0 + p), w, c0);
                c1 = Avx512F.FusedMultiplyAdd(Avx512DQ.BroadcastVector256ToVector512(a1 + p), w, c1);
                c2 = Avx512F.FusedMultiplyAdd(Avx512DQ.BroadcastVector256ToVector512(a2 + p), w, c2);
                c3 = Avx512F.FusedMultiplyAdd(Avx512DQ.BroadcastVector256ToVector512(a3 + p), w, c3);
            }
            StorePair(i, j, c0, kv); StorePair(i + 1, j, c1, kv); StorePair(i + 2, j, c2, kv); StorePair(i + 3, j, c3, kv);
        }

        /// <summary>8 floats of one B row in the low half, 8 of the next in the high half.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Pair(float* lo, float* hi) =>
            Avx512F.InsertVector256(Vector256.Load(lo).ToVector512Unsafe(), Vector256.Load(hi), 1); // one insert, not two

        /// <summary>The two halves of a paired accumulator: column j, then column j+1.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void StorePair(int i, int j, Vector512<float> acc, int kv)
        {
            Store(i, j, acc.GetLower(), kv);
            Store(i, j + 1, acc.GetUpper(), kv);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
        private void Single(int i, int j)
        {
            float* a = _a + (long)i * _lda, b = _b + (long)j * _ldb;
            Vector256<float> acc = default;
            int kv = _k & ~7;
            for (int p = 0; p < kv; p += 8) acc = Fma.MultiplyAdd(Vector256.Load(a + p), Vector256.Load(b + p), acc);
            Store(i, j, acc, kv);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Store(int i, int j, Vector256<float> acc, int kv)
        {
            float s = Sum(acc);
            float* a = _a + (long)i * _lda, b = _b + (long)j * _ldb;
            for (int p = kv; p < _k; p++) s = MathF.FusedMultiplyAdd(a[p], b[p], s);
            float* dst = _c + (long)i * _ldc + j;
            *dst = _beta == 0 ? s * _alpha : s * _alpha + *dst * _beta;
        }

        /// <summary>Fixed reduction tree: (lo + hi), then pairs, then the last two.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Sum(Vector256<float> v)
        {
            var q = v.GetLower() + v.GetUpper();
            return (q.GetElement(0) + q.GetElement(2)) + (q.GetElement(1) + q.GetElement(3));
        }
    }
}
