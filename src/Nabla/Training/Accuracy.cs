using Nabla.Tensors.Kernels;

namespace Nabla.Training;

/// <summary>Counting right answers of a classifier.</summary>
internal static class Accuracy
{
    /// <summary>Rows of <paramref name="logits"/> whose largest entry is at the label's index.</summary>
    public static int CountCorrect(ReadOnlySpan<float> logits, ReadOnlySpan<int> labels, int rows, int classes)
    {
        int correct = 0;
        for (int r = 0; r < rows; r++)
            if (Reductions.ArgMax(logits.Slice(r * classes, classes)) == labels[r]) correct++;
        return correct;
    }
}
