using ILGPU;

namespace Nabla.Cuda.Kernels;

/// <summary>The fused softmax–cross-entropy and its gradient, one thread per sample.</summary>
internal static class LossKernels
{
    /// <summary>
    /// For row r: ℓ = log Σ exp(x − max) + max − x[label], and, when <paramref name="writeGrad"/> is set,
    /// <c>dℓ/dx = (softmax(x) − onehot(label)) / batch</c> — the textbook's <c>ŷ − y</c> for the mean loss. Adds ℓ
    /// and whether the arg-max is the label into <paramref name="stats"/> [loss sum, correct] (doubles, so the
    /// epoch's sums do not lose digits; the order of those atomic sums varies, the gradient does not).
    /// </summary>
    public static void SoftmaxCrossEntropy(Index1D r, ArrayView<float> logits, ArrayView<int> labels, int cols,
        ArrayView<float> dLogits, float invBatch, int writeGrad, ArrayView<double> stats)
    {
        int o = r * cols, label = labels[r];
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
        if (writeGrad != 0)
            for (int j = 0; j < cols; j++)
            {
                float p = MathF.Exp(logits[o + j] - max) / sum;
                dLogits[o + j] = (p - (j == label ? 1f : 0f)) * invBatch;
            }
        Atomic.Add(ref stats[0], (double)loss);
        if (argMax == label) Atomic.Add(ref stats[1], 1.0);
    }
}
