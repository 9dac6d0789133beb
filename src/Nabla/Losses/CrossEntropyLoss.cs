using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.Losses;

/// <summary>
/// nn.CrossEntropyLoss on logits and class indices, mean reduction: softmax and cross-entropy
/// <c>H(y, ŷ) = −Σ y_i log ŷ_i</c> (textbook 8.5.1) fused, so the gradient is <c>(ŷ − y)/B</c>.
/// Optional label smoothing ε replaces the one-hot y by <c>(1−ε)·y + ε/C</c>, as PyTorch's <c>label_smoothing</c>.
/// </summary>
public sealed class CrossEntropyLoss : Loss
{
    /// <summary>Creates the loss.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Label smoothing outside [0, 1].</exception>
    public CrossEntropyLoss(float labelSmoothing = 0f)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"label_smoothing must be in [0, 1]; got {labelSmoothing}.");
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>ε, the mass spread uniformly over the classes.</summary>
    public float LabelSmoothing { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, ReadOnlySpan<int> targets) => Ops.CrossEntropy(input, targets, LabelSmoothing);

    /// <inheritdoc/>
    public override float ForwardBackward(ReadOnlySpan<float> input, ReadOnlySpan<int> targets, Span<float> dInput, int rows, int classes) =>
        Tensors.Kernels.CrossEntropy.ForwardBackward(input, targets, dInput, rows, classes, LabelSmoothing);
}
