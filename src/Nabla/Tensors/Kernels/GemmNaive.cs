namespace Nabla.Tensors.Kernels;

/// <summary>
/// The plain triple loop for <c>C = α·op(A)·op(B) + β·C</c>: the algorithmic reference that
/// <see cref="Gemm"/> is tested against (llm.c keeps its <c>matmul_forward_naive</c> for the same reason).
/// Accumulates in double so that it is the more accurate of the two.
/// </summary>
internal static class GemmNaive
{
    /// <summary>Same contract as <see cref="Gemm.Run"/>.</summary>
    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)av * bv;
                }
                float prior = beta == 0 ? 0 : beta * c[i * ldc + j];
                c[i * ldc + j] = (float)(alpha * sum) + prior;
            }
        }
    }
}
