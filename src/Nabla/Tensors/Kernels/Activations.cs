using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// Activation functions and their backward passes over spans. Forwards go through
/// <see cref="TensorPrimitives"/>; the backwards, which it lacks as fused operations, are written here with
/// <see cref="Vector256{T}"/> and a scalar tail (their plain-loop twins are in <see cref="ActivationsNaive"/>).
/// Each backward takes the forward's <em>output</em> <c>y</c>, since σ′ and tanh′ are functions of it.
/// </summary>
public static class Activations
{
    /// <summary><c>y[i] = 1/(1+exp(−x[i]))</c></summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y)
    {
        if (!x.IsEmpty) TensorPrimitives.Sigmoid(x, y); // TensorPrimitives rejects empty spans here
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
