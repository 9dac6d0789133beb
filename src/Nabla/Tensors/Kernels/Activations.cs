using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// Activation functions and their backward passes over spans. Forwards go through
/// <see cref="TensorPrimitives"/>; the backwards, which it lacks as fused operations, are written here with
/// <see cref="Vector512{T}"/>, <see cref="Vector256{T}"/> and a scalar tail, the same operations at each width, so
/// the same bits (their plain-loop twins are in <see cref="ActivationsNaive"/>).
/// Each backward takes the forward's <em>output</em> <c>y</c>, since σ′ and tanh′ are functions of it.
/// </summary>
internal static class Activations
{
    /// <summary>
    /// <c>y[i] = 1/(1+exp(−x[i]))</c>, as <c>TensorPrimitives.Sigmoid</c> computes it (its exp, then one division;
    /// a test holds the two to the same bits) but through <c>TensorPrimitives.Exp</c>, which the loss needs anyway:
    /// the library's sigmoid alone takes ~20 ms to compile at a run's first step.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        if (x.IsEmpty) return;
        if (y.Length < x.Length) throw new ArgumentException($"Destination holds {y.Length} floats for {x.Length}.");
        if (x.Overlaps((ReadOnlySpan<float>)y, out int offset) && offset != 0) throw new ArgumentException("Input and destination overlap at an offset.");
        y = y[..x.Length];
        Negate(x, y);
        TensorPrimitives.Exp(y, y);
        Reciprocal1p(y);
    }

    /// <summary><c>y[i] = −x[i]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    private static void Negate(ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated) for (; i <= x.Length - 16; i += 16) (-Vector512.Create(x.Slice(i, 16))).CopyTo(y.Slice(i, 16));
        if (Vector256.IsHardwareAccelerated) for (; i <= x.Length - 8; i += 8) (-Vector256.Create(x.Slice(i, 8))).CopyTo(y.Slice(i, 8));
        for (; i < x.Length; i++) y[i] = -x[i];
    }

    /// <summary><c>y[i] = 1/(1 + y[i])</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    private static void Reciprocal1p(Span<float> y)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i <= y.Length - 16; i += 16) (Vector512<float>.One / (Vector512<float>.One + Vector512.Create(y.Slice(i, 16)))).CopyTo(y.Slice(i, 16));
        if (Vector256.IsHardwareAccelerated)
            for (; i <= y.Length - 8; i += 8) (Vector256<float>.One / (Vector256<float>.One + Vector256.Create(y.Slice(i, 8)))).CopyTo(y.Slice(i, 8));
        for (; i < y.Length; i++) y[i] = 1f / (1f + y[i]);
    }

    /// <summary><c>y[i] = tanh(x[i])</c></summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Tanh(x, y);

    /// <summary><c>y[i] = max(x[i], 0)</c></summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.Max(x, 0f, y);

    /// <summary><c>dx[i] = dy[i]·y[i]·(1−y[i])</c>: σ′(t) = σ(t)(1−σ(t)) (textbook 8.5.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(y, dy, dx);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= y.Length - 16; i += 16)
            {
                var vy = Vector512.Create(y.Slice(i, 16));
                (Vector512.Create(dy.Slice(i, 16)) * vy * (Vector512<float>.One - vy)).CopyTo(dx.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256<float>.One;
            for (; i <= y.Length - 8; i += 8)
            {
                var vy = Vector256.Create(y.Slice(i, 8));
                (Vector256.Create(dy.Slice(i, 8)) * vy * (one - vy)).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < y.Length; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
    }

    /// <summary><c>dx[i] = dy[i]·(1−y[i]²)</c></summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(y, dy, dx);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= y.Length - 16; i += 16)
            {
                var vy = Vector512.Create(y.Slice(i, 16));
                (Vector512.Create(dy.Slice(i, 16)) * (Vector512<float>.One - vy * vy)).CopyTo(dx.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256<float>.One;
            for (; i <= y.Length - 8; i += 8)
            {
                var vy = Vector256.Create(y.Slice(i, 8));
                (Vector256.Create(dy.Slice(i, 8)) * (one - vy * vy)).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < y.Length; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
    }

    /// <summary><c>dx[i] = y[i] &gt; 0 ? dy[i] : 0</c></summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    public static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        CheckLengths(y, dy, dx);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= y.Length - 16; i += 16)
            {
                var mask = Vector512.GreaterThan(Vector512.Create(y.Slice(i, 16)), Vector512<float>.Zero);
                (Vector512.Create(dy.Slice(i, 16)) & mask).CopyTo(dx.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= y.Length - 8; i += 8)
            {
                var mask = Vector256.GreaterThan(Vector256.Create(y.Slice(i, 8)), Vector256<float>.Zero);
                (Vector256.Create(dy.Slice(i, 8)) & mask).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < y.Length; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
    }

    internal static void CheckLengths(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (dy.Length != y.Length || dx.Length != y.Length)
            throw new ArgumentException($"Lengths differ: y {y.Length}, dy {dy.Length}, dx {dx.Length}.");
    }
}
