
namespace Nabla.Tensors.Kernels;

/// <summary>
/// Row-wise softmax γ and log-softmax over a (rows, n) matrix, numerically stable: the row maximum is
/// subtracted before exponentiating, which leaves γ unchanged (γ(t − c·1) = γ(t)) and keeps exp from overflowing.
/// </summary>
internal static class Softmax
{
    /// <summary><c>y[r,j] = exp(x[r,j] − max_r) / Σ_k exp(x[r,k] − max_r)</c></summary>
    public static void Rows(ReadOnlySpan<float> x, Span<float> y, int rows, int n)
    {
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * n, n);
            var yr = y.Slice(r * n, n);
            float max = TensorPrimitives.Max(xr);
            TensorPrimitives.Subtract(xr, max, yr);
            TensorPrimitives.Exp(yr, yr);
            float sum = TensorPrimitives.Sum(yr);
            TensorPrimitives.Divide(yr, sum, yr);
        }
    }

    /// <summary><c>y[r,j] = x[r,j] − max_r − log Σ_k exp(x[r,k] − max_r)</c></summary>
    public static void LogRows(ReadOnlySpan<float> x, Span<float> y, int rows, int n)
    {
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * n, n);
            var yr = y.Slice(r * n, n);
            float max = TensorPrimitives.Max(xr);
            TensorPrimitives.Subtract(xr, max, yr);
            TensorPrimitives.Exp(yr, yr);
            float logSum = MathF.Log(TensorPrimitives.Sum(yr));
            TensorPrimitives.Subtract(xr, max + logSum, yr);
        }
    }
}
