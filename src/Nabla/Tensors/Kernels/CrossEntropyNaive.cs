namespace Nabla.Tensors.Kernels;

/// <summary>Plain-loop twin of <see cref="CrossEntropy"/>, in double: the test oracle.</summary>
internal static class CrossEntropyNaive
{
    /// <summary>Same contract as <see cref="CrossEntropy.ForwardBackward"/>.</summary>
    public static float ForwardBackward(ReadOnlySpan<float> logits, ReadOnlySpan<int> targets, Span<float> dLogits,
        int rows, int classes, float labelSmoothing = 0f)
    {
        CrossEntropy.CheckTargets(targets, rows, classes);
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < classes; j++) max = Math.Max(max, logits[r * classes + j]);
            for (int j = 0; j < classes; j++) sum += Math.Exp(logits[r * classes + j] - max);
            for (int j = 0; j < classes; j++)
            {
                double q = (j == targets[r] ? 1 - labelSmoothing : 0) + labelSmoothing / classes;
                double logP = logits[r * classes + j] - max - Math.Log(sum);
                total -= q * logP;
                if (!dLogits.IsEmpty) dLogits[r * classes + j] = (float)((Math.Exp(logP) - q) / rows);
            }
        }
        return (float)(total / rows);
    }
}
