
namespace Nabla.Tensors.Kernels;

/// <summary>
/// Softmax followed by cross-entropy, fused. For logits t and target distribution q
/// (one-hot, or <c>(1−ε)·onehot + ε/C</c> with label smoothing), the loss of a row is
/// <c>ℓ = logΣexp(t) − Σ_j q_j t_j</c>, and its gradient with respect to t collapses to <c>γ(t) − q</c>
/// (textbook 8.5.2: <c>(ŷ − y)</c>), so neither the softmax Jacobian nor 1/ŷ is ever formed.
/// </summary>
public static class CrossEntropy
{
    /// <summary>
    /// Mean loss over <paramref name="rows"/>; if <paramref name="dLogits"/> is not empty it receives
    /// <c>(γ(t) − q)/rows</c>. Work buffer: <paramref name="dLogits"/> itself (or a row of stack space).
    /// </summary>
    /// <exception cref="ArgumentException">A target is outside [0, classes): names its index and value.</exception>
    public static float ForwardBackward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> dLogits,
        int rows, int classes, float labelSmoothing = 0f)
    {
        CheckTargets(targets, rows, classes);
        Span<float> scratch = classes <= 1024 ? stackalloc float[classes] : new float[classes];
        double total = 0;
        float inv = 1f / rows, eps = labelSmoothing, off = eps / classes;
        for (int r = 0; r < rows; r++)
        {
            var t = logits.Slice(r * classes, classes);
            var p = dLogits.IsEmpty ? scratch : dLogits.Slice(r * classes, classes);
            float max = TensorPrimitives.Max(t);
            TensorPrimitives.Subtract(t, max, p);
            TensorPrimitives.Exp(p, p);
            float sum = TensorPrimitives.Sum(p);
            float lse = max + MathF.Log(sum);
            int y = targets[r];
            float qt = (1 - eps) * t[y] + (eps == 0 ? 0 : off * TensorPrimitives.Sum(t));
            total += lse - qt;
            if (dLogits.IsEmpty) continue;
            // dℓ/dt = γ(t) − q, averaged over the batch.
            TensorPrimitives.Multiply(p, inv / sum, p);
            if (eps != 0) TensorPrimitives.Subtract(p, off * inv, p);
            p[y] -= (1 - eps) * inv;
        }
        return (float)(total / rows);
    }

    internal static void CheckTargets(ReadOnlySpan<int> targets, int rows, int classes)
    {
        if (targets.Length < rows) throw new ArgumentException($"{targets.Length} targets for {rows} rows of logits.");
        for (int r = 0; r < rows; r++)
        {
            if ((uint)targets[r] >= (uint)classes)
                throw new ArgumentException($"Target {targets[r]} at index {r} is outside [0, {classes}): labels must be class indices.");
        }
    }
}
