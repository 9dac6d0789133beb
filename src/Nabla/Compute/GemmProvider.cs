namespace Nabla.Compute;

/// <summary>Which matrix multiply the kernels use (<see cref="ComputeSettings.Gemm"/>).</summary>
public enum GemmProvider
{
    /// <summary>Nabla's own managed GEMM: the default, deterministic for any thread count.</summary>
    Managed,

    /// <summary>
    /// OpenBLAS's <c>cblas_sgemm</c>, loaded from the installed library (Debian: <c>libopenblas0-pthread</c>) when a
    /// context asks for it. Faster on large matrices; its results are OpenBLAS's.
    /// </summary>
    OpenBlas,
}
