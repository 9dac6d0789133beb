using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.Losses;

/// <summary>nn.NLLLoss: the mean of <c>−input[r, y_r]</c>, where input holds log-probabilities (after LogSoftmax).</summary>
public sealed class NllLoss : Loss
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, ReadOnlySpan<int> targets) => Ops.NllLoss(input, targets);

    /// <inheritdoc/>
    public override float ForwardBackward(ReadOnlySpan<float> input, ReadOnlySpan<int> targets, Span<float> dInput, int rows, int classes)
    {
        Tensors.Kernels.CrossEntropy.CheckTargets(targets, rows, classes);
        if (!dInput.IsEmpty) dInput[..(rows * classes)].Clear();
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            total -= input[r * classes + targets[r]];
            if (!dInput.IsEmpty) dInput[r * classes + targets[r]] = -1f / rows;
        }
        return (float)(total / rows);
    }
}
