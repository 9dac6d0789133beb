using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Optim.Rules;

/// <summary>
/// The arithmetic an update rule needs, over one float (<see cref="ScalarLane"/>: the CPU's tail and every CUDA
/// thread) or a SIMD register (<see cref="Vector256Lane"/>, <see cref="Vector512Lane"/>): so each rule in
/// <see cref="UpdateRules"/> is written once and compiled for all of them. Every operation rounds as IEEE float32
/// does, lane by lane, so the widths agree bit for bit.
/// </summary>
internal interface ILane<TSelf> where TSelf : struct, ILane<TSelf>
{
    /// <summary>Every lane set to <paramref name="value"/>.</summary>
    static abstract TSelf Splat(float value);

    /// <summary>Lane-wise sum.</summary>
    static abstract TSelf operator +(TSelf a, TSelf b);

    /// <summary>Lane-wise difference.</summary>
    static abstract TSelf operator -(TSelf a, TSelf b);

    /// <summary>Lane-wise product.</summary>
    static abstract TSelf operator *(TSelf a, TSelf b);

    /// <summary>Lane-wise quotient.</summary>
    static abstract TSelf operator /(TSelf a, TSelf b);

    /// <summary>Lane-wise square root.</summary>
    static abstract TSelf Sqrt(TSelf a);

    /// <summary>Lane-wise <c>a·b + c</c> rounded once (PyTorch's <c>add(x, alpha=a)</c> kernels compute <c>fma(x, a, self)</c>).</summary>
    static abstract TSelf FusedMultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>Lane-wise maximum.</summary>
    static abstract TSelf Max(TSelf a, TSelf b);

    /// <summary>Lane-wise sign: 1, −1, or 0 (for 0 and NaN).</summary>
    static abstract TSelf Sign(TSelf a);
}

/// <summary>A lane the host can load from and store to spans.</summary>
internal interface IHostLane<TSelf> : ILane<TSelf> where TSelf : struct, IHostLane<TSelf>
{
    /// <summary>Floats per lane.</summary>
    static abstract int Width { get; }

    /// <summary>Whether the CPU runs this width natively.</summary>
    static abstract bool IsSupported { get; }

    /// <summary>Floats [at, at + Width) of <paramref name="s"/>.</summary>
    static abstract TSelf Load(ReadOnlySpan<float> s, int at);

    /// <summary>Writes the lane to [at, at + Width) of <paramref name="s"/>.</summary>
    static abstract void Store(TSelf v, Span<float> s, int at);
}

/// <summary>One float: the CPU's scalar tail, and the lane of a CUDA thread.</summary>
/// <param name="V">The value.</param>
internal readonly record struct ScalarLane(float V) : IHostLane<ScalarLane>
{
    /// <inheritdoc/>
    public static int Width => 1;

    /// <inheritdoc/>
    public static bool IsSupported => true;

    /// <inheritdoc/>
    public static ScalarLane Splat(float value) => new(value);

    /// <inheritdoc/>
    public static ScalarLane operator +(ScalarLane a, ScalarLane b) => new(a.V + b.V);

    /// <inheritdoc/>
    public static ScalarLane operator -(ScalarLane a, ScalarLane b) => new(a.V - b.V);

    /// <inheritdoc/>
    public static ScalarLane operator *(ScalarLane a, ScalarLane b) => new(a.V * b.V);

    /// <inheritdoc/>
    public static ScalarLane operator /(ScalarLane a, ScalarLane b) => new(a.V / b.V);

    /// <inheritdoc/>
    public static ScalarLane Sqrt(ScalarLane a) => new(MathF.Sqrt(a.V));

    /// <inheritdoc/>
    public static ScalarLane FusedMultiplyAdd(ScalarLane a, ScalarLane b, ScalarLane c) => new(MathF.FusedMultiplyAdd(a.V, b.V, c.V));

    /// <inheritdoc/>
    public static ScalarLane Max(ScalarLane a, ScalarLane b) => new(MathF.Max(a.V, b.V));

    /// <inheritdoc/>
    public static ScalarLane Sign(ScalarLane a) => new(a.V > 0f ? 1f : a.V < 0f ? -1f : 0f);

    /// <inheritdoc/>
    public static ScalarLane Load(ReadOnlySpan<float> s, int at) => new(s[at]);

    /// <inheritdoc/>
    public static void Store(ScalarLane v, Span<float> s, int at) => s[at] = v.V;
}

/// <summary>Eight floats in an AVX register.</summary>
/// <param name="V">The values.</param>
internal readonly record struct Vector256Lane(Vector256<float> V) : IHostLane<Vector256Lane>
{
    /// <inheritdoc/>
    public static int Width => Vector256<float>.Count;

    /// <inheritdoc/>
    public static bool IsSupported => Vector256.IsHardwareAccelerated;

    /// <inheritdoc/>
    public static Vector256Lane Splat(float value) => new(Vector256.Create(value));

    /// <inheritdoc/>
    public static Vector256Lane operator +(Vector256Lane a, Vector256Lane b) => new(a.V + b.V);

    /// <inheritdoc/>
    public static Vector256Lane operator -(Vector256Lane a, Vector256Lane b) => new(a.V - b.V);

    /// <inheritdoc/>
    public static Vector256Lane operator *(Vector256Lane a, Vector256Lane b) => new(a.V * b.V);

    /// <inheritdoc/>
    public static Vector256Lane operator /(Vector256Lane a, Vector256Lane b) => new(a.V / b.V);

    /// <inheritdoc/>
    public static Vector256Lane Sqrt(Vector256Lane a) => new(Vector256.Sqrt(a.V));

    /// <inheritdoc/>
    public static Vector256Lane FusedMultiplyAdd(Vector256Lane a, Vector256Lane b, Vector256Lane c) => new(Vector256.FusedMultiplyAdd(a.V, b.V, c.V));

    /// <inheritdoc/>
    public static Vector256Lane Max(Vector256Lane a, Vector256Lane b) => new(Vector256.Max(a.V, b.V));

    /// <inheritdoc/>
    public static Vector256Lane Sign(Vector256Lane a) =>
        new((Vector256.GreaterThan(a.V, Vector256<float>.Zero) & Vector256<float>.One)
            - (Vector256.LessThan(a.V, Vector256<float>.Zero) & Vector256<float>.One));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Lane Load(ReadOnlySpan<float> s, int at) => new(Vector256.Create(s.Slice(at, Vector256<float>.Count)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256Lane v, Span<float> s, int at) => v.V.CopyTo(s.Slice(at, Vector256<float>.Count));
}

/// <summary>Sixteen floats in an AVX-512 register.</summary>
/// <param name="V">The values.</param>
internal readonly record struct Vector512Lane(Vector512<float> V) : IHostLane<Vector512Lane>
{
    /// <inheritdoc/>
    public static int Width => Vector512<float>.Count;

    /// <inheritdoc/>
    public static bool IsSupported => Vector512.IsHardwareAccelerated;

    /// <inheritdoc/>
    public static Vector512Lane Splat(float value) => new(Vector512.Create(value));

    /// <inheritdoc/>
    public static Vector512Lane operator +(Vector512Lane a, Vector512Lane b) => new(a.V + b.V);

    /// <inheritdoc/>
    public static Vector512Lane operator -(Vector512Lane a, Vector512Lane b) => new(a.V - b.V);

    /// <inheritdoc/>
    public static Vector512Lane operator *(Vector512Lane a, Vector512Lane b) => new(a.V * b.V);

    /// <inheritdoc/>
    public static Vector512Lane operator /(Vector512Lane a, Vector512Lane b) => new(a.V / b.V);

    /// <inheritdoc/>
    public static Vector512Lane Sqrt(Vector512Lane a) => new(Vector512.Sqrt(a.V));

    /// <inheritdoc/>
    public static Vector512Lane FusedMultiplyAdd(Vector512Lane a, Vector512Lane b, Vector512Lane c) => new(Vector512.FusedMultiplyAdd(a.V, b.V, c.V));

    /// <inheritdoc/>
    public static Vector512Lane Max(Vector512Lane a, Vector512Lane b) => new(Vector512.Max(a.V, b.V));

    /// <inheritdoc/>
    public static Vector512Lane Sign(Vector512Lane a) =>
        new((Vector512.GreaterThan(a.V, Vector512<float>.Zero) & Vector512<float>.One)
            - (Vector512.LessThan(a.V, Vector512<float>.Zero) & Vector512<float>.One));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Lane Load(ReadOnlySpan<float> s, int at) => new(Vector512.Create(s.Slice(at, Vector512<float>.Count)));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512Lane v, Span<float> s, int at) => v.V.CopyTo(s.Slice(at, Vector512<float>.Count));
}
