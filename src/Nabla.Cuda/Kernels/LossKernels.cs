using ILGPU;

namespace Nabla.Cuda.Kernels;

/// <summary>Where the loss finds a batch's labels, and what it writes.</summary>
internal struct LossArgs
{
    public int RowStart;    // sample r's label is labels[order[RowStart + r]]
    public int WriteGrad;   // 0 in evaluation
    public float InvBatch;  // the mean loss's 1/B
}

/// <summary>The fused softmax–cross-entropy and its gradient, one thread per sample.</summary>
internal static class LossKernels
{
    /// <summary>The loss over logits already in <paramref name="logits"/> (wide output layers).</summary>
    public static void SoftmaxCrossEntropy(Index1D r, ArrayView<float> logits, ArrayView<int> labels, ArrayView<int> order, int cols,
        ArrayView<float> dLogits, LossArgs l, ArrayView<double> stats) =>
        Row(r, logits, labels, order, cols, dLogits, l, stats);

    /// <summary>
    /// For row r: ℓ = log Σ exp(x − max) + max − x[label], and, when asked, <c>dℓ/dx = (softmax(x) − onehot) / B</c>
    /// — the textbook's <c>ŷ − y</c> for the mean loss. Adds ℓ and whether the arg-max is the label into
    /// <paramref name="stats"/> [loss sum, correct] (doubles, so an epoch's sums keep their digits; the order of those
    /// atomic additions varies, the gradient does not).
    /// </summary>
    public static void Row(int r, ArrayView<float> logits, ArrayView<int> labels, ArrayView<int> order, int cols,
        ArrayView<float> dLogits, LossArgs l, ArrayView<double> stats)
    {
        int o = r * cols, label = labels[order[l.RowStart + r]];
        float max = logits[o];
        int argMax = 0;
        for (int j = 1; j < cols; j++)
        {
            float v = logits[o + j];
            if (v > max) { max = v; argMax = j; }
        }
        float sum = 0f;
        for (int j = 0; j < cols; j++) sum += MathF.Exp(logits[o + j] - max);
        float loss = MathF.Log(sum) + max - logits[o + label];
        if (l.WriteGrad != 0)
            for (int j = 0; j < cols; j++)
            {
                float p = MathF.Exp(logits[o + j] - max) / sum;
                dLogits[o + j] = (p - (j == label ? 1f : 0f)) * l.InvBatch;
            }
        Atomic.Add(ref stats[0], (double)loss);
        if (argMax == label) Atomic.Add(ref stats[1], 1.0);
    }
}
