namespace Nabla.Tensors.Kernels;

/// <summary>Which implementation <see cref="Gemm.Run"/> uses.</summary>
internal enum GemmProvider
{
    /// <summary>Nabla's own managed GEMM: the default, deterministic for any thread count.</summary>
    Managed,

    /// <summary>
    /// OpenBLAS's <c>cblas_sgemm</c>, when the library is installed (Debian: <c>libopenblas0-pthread</c>); see
    /// <see cref="OpenBlas"/>. Faster on large matrices; its results are OpenBLAS's.
    /// </summary>
    OpenBlas,
}
