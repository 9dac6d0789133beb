namespace Nabla.Tensors.Kernels;

/// <summary>Plain-loop twins of <see cref="Softmax"/> in double: the test oracle.</summary>
internal static class SoftmaxNaive
{
    /// <summary>Same contract as <see cref="Softmax.Rows"/>.</summary>
    public static void Rows(ReadOnlySpan<float> x, Span<float> y, int rows, int n)
    {
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < n; j++) max = Math.Max(max, x[r * n + j]);
            for (int j = 0; j < n; j++) sum += Math.Exp(x[r * n + j] - max);
            for (int j = 0; j < n; j++) y[r * n + j] = (float)(Math.Exp(x[r * n + j] - max) / sum);
        }
    }

    /// <summary>Same contract as <see cref="Softmax.LogRows"/>.</summary>
    public static void LogRows(ReadOnlySpan<float> x, Span<float> y, int rows, int n)
    {
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < n; j++) max = Math.Max(max, x[r * n + j]);
            for (int j = 0; j < n; j++) sum += Math.Exp(x[r * n + j] - max);
            for (int j = 0; j < n; j++) y[r * n + j] = (float)(x[r * n + j] - max - Math.Log(sum));
        }
    }
}
