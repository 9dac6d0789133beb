
namespace Nabla.Tensors.Kernels;

/// <summary>
/// Sum, max and argmax along one axis. The tensor is seen as (outer, n, inner) around the axis: with inner = 1
/// each output is one <see cref="TensorPrimitives"/> reduction of a contiguous row; otherwise rows of length
/// inner are combined element-wise.
/// </summary>
public static class Reductions
{
    /// <summary><c>dst[o,i] = Σ_j x[o,j,i]</c></summary>
    public static void Sum(ReadOnlySpan<float> x, Span<float> dst, int outer, int n, int inner)
    {
        for (int o = 0; o < outer; o++)
        {
            if (inner == 1) { dst[o] = TensorPrimitives.Sum(x.Slice(o * n, n)); continue; }
            var d = dst.Slice(o * inner, inner);
            d.Clear();
            for (int j = 0; j < n; j++) TensorPrimitives.Add(d, x.Slice((o * n + j) * inner, inner), d);
        }
    }

    /// <summary><c>dst[o,i] = max_j x[o,j,i]</c>; <paramref name="argmax"/> (if not empty) gets the first j attaining it.</summary>
    public static void Max(ReadOnlySpan<float> x, Span<float> dst, Span<int> argmax, int outer, int n, int inner)
    {
        if (n == 0) throw new ArgumentException("max/argmax of an empty axis.");
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int best = 0;
                float bv = x[o * n * inner + i];
                for (int j = 1; j < n; j++)
                {
                    float v = x[(o * n + j) * inner + i];
                    if (v > bv || (float.IsNaN(v) && !float.IsNaN(bv))) { bv = v; best = j; }
                }
                if (!dst.IsEmpty) dst[o * inner + i] = bv;
                if (!argmax.IsEmpty) argmax[o * inner + i] = best;
            }
        }
    }
}
