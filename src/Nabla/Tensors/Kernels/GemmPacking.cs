using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// Copies a chunk of op(A) or op(B) into the sliver layout the micro-kernel reads: for A, groups of MR rows
/// stored k-major (<c>pa[k*MR + r]</c>); for B, groups of NR columns stored k-major (<c>pb[k*NR + c]</c>).
/// Rows or columns past the matrix edge are zero-filled so the micro-kernel needs no bounds checks.
/// </summary>
internal static unsafe class GemmPacking
{
    private const int MR = Gemm.MR, NR = Gemm.NR;

    /// <summary>dst[i*ldDst + j] = src[j*ldSrc + i] for an 8×8 block (the standard unpack/shuffle/permute transpose).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, int ldSrc, float* dst, int ldDst)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + ldSrc);
        var r2 = Avx.LoadVector256(src + 2L * ldSrc); var r3 = Avx.LoadVector256(src + 3L * ldSrc);
        var r4 = Avx.LoadVector256(src + 4L * ldSrc); var r5 = Avx.LoadVector256(src + 5L * ldSrc);
        var r6 = Avx.LoadVector256(src + 6L * ldSrc); var r7 = Avx.LoadVector256(src + 7L * ldSrc);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldDst, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2L * ldDst, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3L * ldDst, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4L * ldDst, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5L * ldDst, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6L * ldDst, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7L * ldDst, Avx.Permute2x128(u3, u7, 0x31));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    public static void PackA(bool trans, float* a, int lda, int i0, int p0, int mc, int kc, float* dst)
    {
        for (int ir = 0; ir < mc; ir += MR)
        {
            int mr = Math.Min(MR, mc - ir);
            float* d = dst + ir * kc;
            if (trans)
            {
                // op(A)[i,p] = a[p*lda + i]: the MR values of one k are contiguous.
                for (int p = 0; p < kc; p++)
                {
                    float* src = a + (long)(p0 + p) * lda + i0 + ir;
                    int r = 0;
                    for (; r < mr; r++) d[p * MR + r] = src[r];
                    for (; r < MR; r++) d[p * MR + r] = 0;
                }
            }
            else
            {
                for (int r = 0; r < MR; r++)
                {
                    if (r < mr)
                    {
                        float* src = a + (long)(i0 + ir + r) * lda + p0;
                        for (int p = 0; p < kc; p++) d[p * MR + r] = src[p];
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++) d[p * MR + r] = 0;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    public static void PackB(bool trans, float* b, int ldb, int p0, int j0, int kc, int nc, float* dst)
    {
        for (int jr = 0; jr < nc; jr += NR)
        {
            int nr = Math.Min(NR, nc - jr);
            float* d = dst + jr * kc;
            if (!trans && nr == NR)
            {
                // op(B)[p,j] = b[p*ldb + j]: NR contiguous values per k, copied as two vectors.
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(p0 + p) * ldb + j0 + jr;
                    Vector256.Store(Vector256.Load(src), d + p * NR);
                    Vector256.Store(Vector256.Load(src + 8), d + p * NR + 8);
                }
            }
            else if (!trans)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = b + (long)(p0 + p) * ldb + j0 + jr;
                    int c = 0;
                    for (; c < nr; c++) d[p * NR + c] = src[c];
                    for (; c < NR; c++) d[p * NR + c] = 0;
                }
            }
            else if (nr == NR && Avx.IsSupported)
            {
                // op(B)[p,j] = b[j*ldb + p]: 8×8 blocks transposed in registers, 8 contiguous k per row of b.
                int kv = kc & ~7;
                for (int p = 0; p < kv; p += 8)
                {
                    float* src = b + (long)(j0 + jr) * ldb + p0 + p;
                    Transpose8x8(src, ldb, d + p * NR, NR);
                    Transpose8x8(src + 8L * ldb, ldb, d + p * NR + 8, NR);
                }
                for (int p = kv; p < kc; p++)
                    for (int c = 0; c < NR; c++) d[p * NR + c] = b[(long)(j0 + jr + c) * ldb + p0 + p];
            }
            else
            {
                // op(B)[p,j] = b[j*ldb + p]: read each column's run of k contiguously.
                for (int c = 0; c < NR; c++)
                {
                    if (c < nr)
                    {
                        float* src = b + (long)(j0 + jr + c) * ldb + p0;
                        for (int p = 0; p < kc; p++) d[p * NR + c] = src[p];
                    }
                    else
                    {
                        for (int p = 0; p < kc; p++) d[p * NR + c] = 0;
                    }
                }
            }
        }
    }
}
