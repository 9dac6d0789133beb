using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// The 6×16 register-blocked inner kernel of <see cref="Gemm"/>: 12 vector accumulators (six rows × two
/// 8-float vectors) stay in the 16 AVX2 registers across the whole K loop, which leaves room for the two B
/// vectors and the broadcast A value. Each k step does 12 FMAs for 2 loads and 6 broadcasts.
/// The epilogue writes <c>C = α·acc + β·C</c> (C not read when β = 0) with the same operations on the vector
/// and the scalar edge path, so a C element gets the same bits whether it falls on an edge or not.
/// </summary>
internal static unsafe class GemmMicroKernel
{
    public const int MR = 6;
    public const int NR = 16;

    /// <summary>
    /// Two adjacent full 6×16 tiles at once with AVX-512: the slivers <paramref name="pb0"/> and <paramref name="pb1"/>
    /// of B (16 columns each, as packed), 12 zmm accumulators (six rows × two 16-float vectors), 12 FMAs of 16 lanes
    /// per k step for 2 loads and 6 broadcasts — twice the AVX2 kernel's work per instruction. Every C element is the
    /// same chain of FMAs over k, in the same order, as in <see cref="Run"/>, so the two kernels agree bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunPair(int kc, float* pa, float* pb0, float* pb1, float* c, int ldc, float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(pb0);
            var b1 = Vector512.Load(pb1);
            var a = Vector512.Create(pa[0]); c00 = Avx512F.FusedMultiplyAdd(a, b0, c00); c01 = Avx512F.FusedMultiplyAdd(a, b1, c01);
            a = Vector512.Create(pa[1]); c10 = Avx512F.FusedMultiplyAdd(a, b0, c10); c11 = Avx512F.FusedMultiplyAdd(a, b1, c11);
            a = Vector512.Create(pa[2]); c20 = Avx512F.FusedMultiplyAdd(a, b0, c20); c21 = Avx512F.FusedMultiplyAdd(a, b1, c21);
            a = Vector512.Create(pa[3]); c30 = Avx512F.FusedMultiplyAdd(a, b0, c30); c31 = Avx512F.FusedMultiplyAdd(a, b1, c31);
            a = Vector512.Create(pa[4]); c40 = Avx512F.FusedMultiplyAdd(a, b0, c40); c41 = Avx512F.FusedMultiplyAdd(a, b1, c41);
            a = Vector512.Create(pa[5]); c50 = Avx512F.FusedMultiplyAdd(a, b0, c50); c51 = Avx512F.FusedMultiplyAdd(a, b1, c51);
            pa += MR;
            pb0 += NR;
            pb1 += NR;
        }
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        StorePair(c, c00, c01, va, vb, beta); c += ldc;
        StorePair(c, c10, c11, va, vb, beta); c += ldc;
        StorePair(c, c20, c21, va, vb, beta); c += ldc;
        StorePair(c, c30, c31, va, vb, beta); c += ldc;
        StorePair(c, c40, c41, va, vb, beta); c += ldc;
        StorePair(c, c50, c51, va, vb, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair(float* c, Vector512<float> lo, Vector512<float> hi, Vector512<float> va, Vector512<float> vb, float beta)
    {
        // As the AVX2 epilogue: α·acc, plus β·C (multiply then add, not FMA) when β ≠ 0.
        if (beta == 0)
        {
            Vector512.Store(lo * va, c);
            Vector512.Store(hi * va, c + NR);
            return;
        }
        Vector512.Store(lo * va + Vector512.Load(c) * vb, c);
        Vector512.Store(hi * va + Vector512.Load(c + NR) * vb, c + NR);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    public static void Run(int kc, float* pa, float* pb, float* c, int ldc, int mr, int nr, float alpha, float beta)
    {
        if (mr == MR && nr == NR && Vector256.IsHardwareAccelerated)
        {
            Full(kc, pa, pb, c, ldc, alpha, beta);
            return;
        }
        float* tmp = stackalloc float[MR * NR];
        if (Vector256.IsHardwareAccelerated) Full(kc, pa, pb, tmp, NR, 1f, 0f);
        else Scalar(kc, pa, pb, tmp);
        for (int r = 0; r < mr; r++)
        {
            for (int j = 0; j < nr; j++)
            {
                float acc = tmp[r * NR + j];
                float* dst = c + (long)r * ldc + j;
                *dst = beta == 0 ? acc * alpha : acc * alpha + *dst * beta;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Madd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    private static void Full(int kc, float* pa, float* pb, float* c, int ldc, float alpha, float beta)
    {
        if (Sse.IsSupported)
        {
            // C's rows are far apart (ldc floats), so the hardware prefetcher does not fetch them; ask now, so
            // the lines arrive while the k loop runs rather than stalling the epilogue.
            for (int r = 0; r < MR; r++)
            {
                Sse.Prefetch0(c + (long)r * ldc);
                Sse.Prefetch0(c + (long)r * ldc + 15);
            }
        }
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        int p = 0;
        for (; p + 4 <= kc; p += 4)
        {
            // Four k steps per trip; the A sliver streams from L2, so fetch it ~10 steps ahead.
            if (Sse.IsSupported) Sse.Prefetch0(pa + 64);
            Step(pa, pb, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(pa + MR, pb + NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(pa + 2 * MR, pb + 2 * NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step(pa + 3 * MR, pb + 3 * NR, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            pa += 4 * MR;
            pb += 4 * NR;
        }
        for (; p < kc; p++)
        {
            Step(pa, pb, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            pa += MR;
            pb += NR;
        }
        var va = Vector256.Create(alpha);
        if (beta == 0)
        {
            Vector256.Store(c00 * va, c); Vector256.Store(c01 * va, c + 8); c += ldc;
            Vector256.Store(c10 * va, c); Vector256.Store(c11 * va, c + 8); c += ldc;
            Vector256.Store(c20 * va, c); Vector256.Store(c21 * va, c + 8); c += ldc;
            Vector256.Store(c30 * va, c); Vector256.Store(c31 * va, c + 8); c += ldc;
            Vector256.Store(c40 * va, c); Vector256.Store(c41 * va, c + 8); c += ldc;
            Vector256.Store(c50 * va, c); Vector256.Store(c51 * va, c + 8);
            return;
        }
        var vb = Vector256.Create(beta);
        Store(c, c00, c01, va, vb); c += ldc;
        Store(c, c10, c11, va, vb); c += ldc;
        Store(c, c20, c21, va, vb); c += ldc;
        Store(c, c30, c31, va, vb); c += ldc;
        Store(c, c40, c41, va, vb); c += ldc;
        Store(c, c50, c51, va, vb);
    }

    /// <summary>One k step: two B vectors, six broadcast A values, twelve FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(float* pa, float* pb,
        ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11,
        ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c30, ref Vector256<float> c31,
        ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51)
    {
        var b0 = Vector256.Load(pb);
        var b1 = Vector256.Load(pb + 8);
        var a = Vector256.Create(pa[0]); c00 = Madd(a, b0, c00); c01 = Madd(a, b1, c01);
        a = Vector256.Create(pa[1]); c10 = Madd(a, b0, c10); c11 = Madd(a, b1, c11);
        a = Vector256.Create(pa[2]); c20 = Madd(a, b0, c20); c21 = Madd(a, b1, c21);
        a = Vector256.Create(pa[3]); c30 = Madd(a, b0, c30); c31 = Madd(a, b1, c31);
        a = Vector256.Create(pa[4]); c40 = Madd(a, b0, c40); c41 = Madd(a, b1, c41);
        a = Vector256.Create(pa[5]); c50 = Madd(a, b0, c50); c51 = Madd(a, b1, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> lo, Vector256<float> hi, Vector256<float> va, Vector256<float> vb)
    {
        // Multiply then add, not FMA: the scalar edge path computes acc*alpha + c*beta the same way.
        Vector256.Store(lo * va + Vector256.Load(c) * vb, c);
        Vector256.Store(hi * va + Vector256.Load(c + 8) * vb, c + 8);
    }

    /// <summary>Portable fallback for machines without 256-bit SIMD; the same k order as the vector kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    private static void Scalar(int kc, float* pa, float* pb, float* tmp)
    {
        for (int i = 0; i < MR * NR; i++) tmp[i] = 0;
        for (int p = 0; p < kc; p++)
        {
            for (int r = 0; r < MR; r++)
            {
                float a = pa[p * MR + r];
                for (int j = 0; j < NR; j++) tmp[r * NR + j] = MathF.FusedMultiplyAdd(a, pb[p * NR + j], tmp[r * NR + j]);
            }
        }
    }
}
