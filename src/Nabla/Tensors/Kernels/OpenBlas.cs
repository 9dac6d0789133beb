using System.Runtime.InteropServices;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// The optional OpenBLAS provider for <see cref="Gemm"/>: binds <c>cblas_sgemm</c> from an installed
/// <c>libopenblas.so.0</c> at run time (no build-time native dependency; absent library, clear error).
/// The managed GEMM stays the default; this exists because at the largest shapes OpenBLAS's hand-written
/// assembly kernels are still faster than ours (see bench/RESULTS.md, which says which provider made each figure).
/// </summary>
internal static unsafe class OpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;
    private static readonly string[] Candidates = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "libopenblas.dll"];
    private static delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    private static delegate* unmanaged<int, void> s_setThreads;
    private static readonly Lock s_gate = new();

    /// <summary>Whether the library has been loaded.</summary>
    public static bool IsLoaded => s_sgemm != null;

    /// <summary>Loads OpenBLAS; returns false with a one-line reason if it is not installed.</summary>
    public static bool TryLoad(out string? error)
    {
        lock (s_gate)
        {
            error = null;
            if (s_sgemm != null) return true;
            foreach (var name in Candidates)
            {
                if (!NativeLibrary.TryLoad(name, out var handle)) continue;
                if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm)) continue;
                s_sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
                if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var set))
                    s_setThreads = (delegate* unmanaged<int, void>)set;
                return true;
            }
            error = "OpenBLAS (libopenblas.so.0) is not installed; install it (Debian: apt-get install libopenblas0-pthread) or use the managed GEMM.";
            return false;
        }
    }

    /// <summary>Sets OpenBLAS's own thread count (it runs its own pool, not Nabla's).</summary>
    public static void SetThreads(int threads)
    {
        if (s_setThreads != null) s_setThreads(threads);
    }

    /// <summary><c>cblas_sgemm</c> in row-major order; same contract as <see cref="Gemm.Run"/>.</summary>
    /// <exception cref="InvalidOperationException">The library is not loaded.</exception>
    internal static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, float* a, int lda,
        float* b, int ldb, float beta, float* c, int ldc)
    {
        if (s_sgemm == null) throw new InvalidOperationException("OpenBLAS is not loaded: call OpenBlas.TryLoad first.");
        s_sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
}
