using ILGPU;

namespace Nabla.Cuda.Kernels;

/// <summary>
/// The tiled GEMM used where cuBLAS is absent (and on ILGPU's CPU accelerator in tests): row-major
/// <c>C = op(A)·op(B)</c>, square tiles staged through shared memory, one output element per thread. The tile
/// side is the group's (16 on GPUs; smaller where groups are small, as on the CPU accelerator's 16 threads).
/// </summary>
internal static class GemmKernels
{
    /// <summary>Largest tile side; the shared arrays are sized for it.</summary>
    public const int MaxTile = 16;

    /// <summary>The tile side for groups of at most <paramref name="maxThreads"/> threads.</summary>
    public static int TileFor(int maxThreads)
    {
        int t = MaxTile;
        while (t * t > maxThreads) t /= 2;
        return t;
    }

    public static void Tiled(ArrayView<float> a, int lda, ArrayView<float> b, int ldb, ArrayView<float> c, int ldc,
        int m, int n, int k, int transA, int transB)
    {
        var sa = SharedMemory.Allocate2D<float, Stride2D.DenseX>(new Index2D(MaxTile, MaxTile), new Stride2D.DenseX(MaxTile));
        var sb = SharedMemory.Allocate2D<float, Stride2D.DenseX>(new Index2D(MaxTile, MaxTile), new Stride2D.DenseX(MaxTile));
        int tile = Group.DimX, tx = Group.IdxX, ty = Group.IdxY;
        int row = Grid.IdxY * tile + ty, col = Grid.IdxX * tile + tx;
        float acc = 0f;
        for (int t0 = 0; t0 < k; t0 += tile)
        {
            int ka = t0 + tx, kb = t0 + ty;
            // op(A)[row, ka] and op(B)[kb, col], zero outside the matrices.
            sa[ty, tx] = row < m && ka < k ? (transA != 0 ? a[ka * lda + row] : a[row * lda + ka]) : 0f;
            sb[ty, tx] = kb < k && col < n ? (transB != 0 ? b[col * ldb + kb] : b[kb * ldb + col]) : 0f;
            Group.Barrier();
            for (int j = 0; j < tile; j++) acc += sa[ty, j] * sb[j, tx];
            Group.Barrier();
        }
        if (row < m && col < n) c[row * ldc + col] = acc;
    }
}
