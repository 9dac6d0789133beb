using System.Runtime.CompilerServices;

namespace Nabla.Tensors.Kernels;

/// <summary>
/// Softmax followed by cross-entropy, fused. For logits t and target distribution q
/// (one-hot, or <c>(1−ε)·onehot + ε/C</c> with label smoothing), the loss of a row is
/// <c>ℓ = logΣexp(t) − Σ_j q_j t_j</c>, and its gradient with respect to t collapses to <c>γ(t) − q</c>
/// (textbook 8.5.2: <c>(ŷ − y)</c>), so neither the softmax Jacobian nor 1/ŷ is ever formed.
/// </summary>
internal static class CrossEntropy
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
        if (!dLogits.IsEmpty) return WithGradient(logits, targets, dLogits, rows, classes, labelSmoothing);
        // The loss alone (evaluation): one row at a time through a row of stack space.
        Span<float> scratch = classes <= 1024 ? stackalloc float[classes] : new float[classes];
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            var t = logits.Slice(r * classes, classes);
            float max = Reductions.MaxOf(t);
            for (int j = 0; j < classes; j++) scratch[j] = t[j] - max;
            TensorPrimitives.Exp(scratch, scratch);
            total += RowLoss(t, max, TensorPrimitives.Sum(scratch), targets[r], classes, labelSmoothing);
        }
        return (float)(total / rows);
    }

    /// <summary>
    /// Rows at least this wide have the batch's exponentials taken in one call: below it the library computes a
    /// row's exponentials with scalar code, whose bits differ from its vector code, so narrower rows take one call each.
    /// </summary>
    private const int BatchedExpMinClasses = 4;

    /// <summary>
    /// The training path: the evaluation path's arithmetic, with the gradient, and the exponentials of the whole
    /// batch taken in one call. A batch of 32 rows of 10 classes is a few hundred floats, so calls per row, not
    /// arithmetic, set the time; exp is element-wise and the same at every vector width (a test holds the batched and
    /// the row-by-row arithmetic to the same bits), and the row sums stay one library call each so that their order
    /// of addition is unchanged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot kernel: fully optimized at first call, no tier-0 phase
    private static float WithGradient(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> dLogits,
        int rows, int classes, float eps)
    {
        Span<float> maxes = rows <= 1024 ? stackalloc float[rows] : new float[rows];
        var p = dLogits[..(rows * classes)];
        for (int r = 0; r < rows; r++)
        {
            var t = logits.Slice(r * classes, classes);
            float max = maxes[r] = Reductions.MaxOf(t);
            var row = p.Slice(r * classes, classes);
            for (int j = 0; j < classes; j++) row[j] = t[j] - max;
            if (classes < BatchedExpMinClasses) TensorPrimitives.Exp(row, row);
        }
        if (classes >= BatchedExpMinClasses) TensorPrimitives.Exp(p, p);
        double total = 0;
        float inv = 1f / rows, off = eps / classes;
        for (int r = 0; r < rows; r++)
        {
            var t = logits.Slice(r * classes, classes);
            var row = p.Slice(r * classes, classes);
            float sum = TensorPrimitives.Sum(row);
            int y = targets[r];
            total += RowLoss(t, maxes[r], sum, y, classes, eps);
            // dℓ/dt = γ(t) − q, averaged over the batch.
            float scale = inv / sum;
            for (int j = 0; j < classes; j++) row[j] *= scale;
            if (eps != 0) for (int j = 0; j < classes; j++) row[j] -= off * inv;
            row[y] -= (1 - eps) * inv;
        }
        return (float)(total / rows);
    }

    /// <summary><c>ℓ = logΣexp(t) − Σ_j q_j t_j</c> of one row, from its max and Σexp(t − max).</summary>
    private static double RowLoss(ReadOnlySpan<float> t, float max, float sum, int y, int classes, float eps)
    {
        float lse = max + MathF.Log(sum);
        float qt = (1 - eps) * t[y] + (eps == 0 ? 0 : eps / classes * TensorPrimitives.Sum(t));
        return lse - qt;
    }

    /// <summary>
    /// Class-weighted cross-entropy, PyTorch's <c>weight</c> with mean reduction: row r's loss is
    /// <c>(1−ε)·w_y·(lse − t_y) + ε/C·Σ_c w_c·(lse − t_c)</c> and the mean divides by <c>Σ_r w_{y_r}</c>, so the gradient
    /// of a row is <c>[(1−ε)·w_y·(γ(t) − e_y) + ε/C·(Σ_c w_c·γ(t) − w)] / Σ_r w_{y_r}</c>. A separate, plain path: the
    /// unweighted one above keeps its bits.
    /// </summary>
    /// <exception cref="ArgumentException">A target is outside [0, classes), or the weights are not one per class.</exception>
    public static float ForwardBackwardWeighted(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, ReadOnlySpan<float> weights,
        Span<float> dLogits, int rows, int classes, float eps = 0f)
    {
        CheckTargets(targets, rows, classes);
        if (weights.Length != classes) throw new ArgumentException($"{weights.Length} class weights for {classes} classes.");
        Span<float> p = classes <= 1024 ? stackalloc float[classes] : new float[classes];
        double total = 0, norm = 0;
        float weightSum = TensorPrimitives.Sum(weights);
        for (int r = 0; r < rows; r++)
        {
            var t = logits.Slice(r * classes, classes);
            float max = Reductions.MaxOf(t);
            for (int j = 0; j < classes; j++) p[j] = t[j] - max;
            TensorPrimitives.Exp(p, p);
            float sum = TensorPrimitives.Sum(p), lse = max + MathF.Log(sum);
            int y = targets[r];
            float wy = weights[y];
            norm += wy;
            double row = (1 - eps) * wy * (lse - t[y]);
            if (eps != 0) for (int c = 0; c < classes; c++) row += eps / classes * weights[c] * (lse - t[c]);
            total += row;
            if (dLogits.IsEmpty) continue;
            var d = dLogits.Slice(r * classes, classes);
            for (int j = 0; j < classes; j++)
            {
                float pj = p[j] / sum;
                d[j] = (1 - eps) * wy * (pj - (j == y ? 1f : 0f)) + (eps == 0 ? 0f : eps / classes * (weightSum * pj - weights[j]));
            }
        }
        if (!(norm > 0)) return float.NaN; // no weight on this batch's classes: PyTorch gives NaN too
        if (!dLogits.IsEmpty) TensorPrimitives.Multiply(dLogits[..(rows * classes)], (float)(1 / norm), dLogits[..(rows * classes)]);
        return (float)(total / norm);
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
