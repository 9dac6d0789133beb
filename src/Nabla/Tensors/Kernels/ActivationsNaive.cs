namespace Nabla.Tensors.Kernels;

/// <summary>Plain-loop twins of <see cref="Activations"/>, in double: the test oracle.</summary>
internal static class ActivationsNaive
{
    /// <summary><c>y[i] = 1/(1+exp(−x[i]))</c></summary>
    public static void Sigmoid(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = (float)(1 / (1 + Math.Exp(-x[i]))); }

    /// <summary><c>y[i] = tanh(x[i])</c></summary>
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = (float)Math.Tanh(x[i]); }

    /// <summary><c>y[i] = max(x[i], 0)</c></summary>
    public static void Relu(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : 0; }

    /// <summary><c>dx[i] = dy[i]·y[i]·(1−y[i])</c></summary>
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) { for (int i = 0; i < y.Length; i++) dx[i] = (float)((double)dy[i] * y[i] * (1.0 - y[i])); }

    /// <summary><c>dx[i] = dy[i]·(1−y[i]²)</c></summary>
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) { for (int i = 0; i < y.Length; i++) dx[i] = (float)(dy[i] * (1.0 - (double)y[i] * y[i])); }

    /// <summary><c>dx[i] = y[i] &gt; 0 ? dy[i] : 0</c></summary>
    public static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) { for (int i = 0; i < y.Length; i++) dx[i] = y[i] > 0 ? dy[i] : 0; }
}
