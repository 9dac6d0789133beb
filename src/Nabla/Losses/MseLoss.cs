using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.Losses;

/// <summary>
/// nn.MSELoss, mean reduction: <c>mean((input − target)²)</c>. With class indices, the target is their one-hot
/// encoding (a squared-error classifier).
/// </summary>
public sealed class MseLoss : Loss
{
    /// <summary>Mean squared error against a target tensor of the same shape, recorded for autograd.</summary>
    /// <exception cref="ArgumentException">The shapes differ; the message names both.</exception>
    public override Tensor Forward(Tensor input, Tensor target)
    {
        if (input.Shape != target.Shape)
            throw new ArgumentException($"MSELoss: input {input.Shape} and target {target.Shape} differ in shape.");
        return input.Sub(target).Square().Mean();
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, ReadOnlySpan<int> targets)
    {
        if (input.Rank != 2 || input.Shape[0] != targets.Length)
            throw new ArgumentException($"MSELoss: batch size mismatch between input {input.Shape} and target ({targets.Length},).");
        Tensors.Kernels.CrossEntropy.CheckTargets(targets, input.Shape[0], input.Shape[1]);
        var oneHot = new Tensor(input.Shape);
        for (int r = 0; r < targets.Length; r++) oneHot.Data[r * input.Shape[1] + targets[r]] = 1f;
        return Forward(input, oneHot);
    }

    /// <inheritdoc/>
    public override float ForwardBackward(ReadOnlySpan<float> input, ReadOnlySpan<int> targets, Span<float> dInput, int rows, int classes)
    {
        Tensors.Kernels.CrossEntropy.CheckTargets(targets, rows, classes);
        int n = rows * classes;
        double total = 0;
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < classes; c++)
            {
                int i = r * classes + c;
                float d = input[i] - (c == targets[r] ? 1f : 0f);
                total += (double)d * d;
                if (!dInput.IsEmpty) dInput[i] = 2f * d / n; // d/dx mean(d²) = 2d/n
            }
        return (float)(total / n);
    }

    /// <inheritdoc/>
    public override float ForwardBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> targets, Span<float> dInput, int rows, int columns)
    {
        int n = rows * columns;
        double total = 0;
        float g = 2f / n; // d mean((x − t)²)/dx = 2(x − t)/n
        for (int i = 0; i < n; i++)
        {
            float d = input[i] - targets[i];
            total += (double)d * d;
            if (!dInput.IsEmpty) dInput[i] = g * d;
        }
        return (float)(total / n);
    }
}
