using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// Copies a chunk of op(A) or op(B) into the sliver layout the micro-kernel reads: for A, groups of MR rows
/// stored k-major (<c>pa[k*MR + r]</c>); for B, groups of NR columns stored k-major (<c>pb[k*NR + c]</c>).
/// Rows or columns past the matrix edge are zero-filled so the micro-kernel needs no bounds checks.
/// </summary>
internal static unsafe class GemmPacking
{
    private const int MR = Gemm.MR, NR = Gemm.NR;

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
