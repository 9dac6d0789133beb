using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// Sum, max and argmax along one axis. The tensor is seen as (outer, n, inner) around the axis: with inner = 1
/// each output is one <see cref="TensorPrimitives"/> reduction of a contiguous row; otherwise rows of length
/// inner are combined element-wise.
/// </summary>
internal static class Reductions
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

    /// <summary>
    /// <c>acc[j] += Σ_r x[r,j]</c> over <paramref name="rows"/> rows of <paramref name="cols"/>, added row after row — a
    /// bias gradient, <c>db += Σ_rows dy</c>. The same additions in the same order as one <c>TensorPrimitives.Add</c>
    /// per row, with the column sums kept in registers instead of a library call and a store per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    public static void AddRows(ReadOnlySpan<float> x, int rows, int cols, Span<float> acc) => AddRows(x, rows, cols, cols, acc);

    /// <summary>
    /// <see cref="AddRows(ReadOnlySpan{float}, int, int, Span{float})"/> over the first <paramref name="cols"/> columns of
    /// rows <paramref name="stride"/> apart: a range of a bias gradient's columns. Each column is summed alone (vector
    /// lanes never mix), so a column's bits do not depend on the range it is summed in.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddRows(ReadOnlySpan<float> x, int rows, int cols, int stride, Span<float> acc)
    {
        if (stride < cols || acc.Length < cols || (rows > 0 && x.Length < (rows - 1) * stride + cols))
            throw new ArgumentException($"AddRows: {x.Length} floats for {rows}×{cols} with stride {stride}, {acc.Length} accumulators.");
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 16 <= cols; j += 16)
            {
                var s = Vector512.Create(acc.Slice(j, 16));
                for (int r = 0; r < rows; r++) s += Vector512.Create(x.Slice(r * stride + j, 16));
                s.CopyTo(acc.Slice(j, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= cols; j += 8)
            {
                var s = Vector256.Create(acc.Slice(j, 8));
                for (int r = 0; r < rows; r++) s += Vector256.Create(x.Slice(r * stride + j, 8));
                s.CopyTo(acc.Slice(j, 8));
            }
        }
        for (; j < cols; j++)
        {
            float s = acc[j];
            for (int r = 0; r < rows; r++) s += x[r * stride + j];
            acc[j] = s;
        }
    }

    /// <summary>
    /// <see cref="TensorPrimitives.IndexOfMax{T}(ReadOnlySpan{T})"/>'s answer — the first NaN if any, else the first
    /// largest value, +0 above −0, −1 when empty — as a plain loop: a row is a handful of classes, where the library's
    /// per-call set-up costs more than the comparisons, and its first call takes milliseconds to compile (a test holds
    /// the two to the same answers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    public static int ArgMax(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) return -1;
        // The common case in one branch-light pass: no NaN, and a maximum that is not zero (only then can ±0 tie).
        int first = 0;
        float top = x[0];
        bool nan = float.IsNaN(top);
        for (int j = 1; j < x.Length; j++)
        {
            float v = x[j];
            nan |= float.IsNaN(v);
            if (v > top) (top, first) = (v, j);
        }
        if (!nan && top != 0) return first;
        int best = 0;
        float m = x[0];
        if (float.IsNaN(m)) return 0;
        for (int j = 1; j < x.Length; j++)
        {
            float v = x[j];
            if (float.IsNaN(v)) return j;
            if (v > m || (v == 0 && m == 0 && float.IsNegative(m) && !float.IsNegative(v))) (m, best) = (v, j);
        }
        return best;
    }

    /// <summary>The largest value as <see cref="TensorPrimitives.Max{T}(ReadOnlySpan{T})"/> gives it: NaN if any, +0 above −0.</summary>
    /// <exception cref="ArgumentException">Empty.</exception>
    public static float MaxOf(ReadOnlySpan<float> x) =>
        x.IsEmpty ? throw new ArgumentException("The maximum of an empty span.") : x[ArgMax(x)];

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
