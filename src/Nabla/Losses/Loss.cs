using Nabla.Tensors;

namespace Nabla.Losses;

/// <summary>
/// A classification loss in both forms: <see cref="Forward"/> on tensors (recorded by autograd) and the fused
/// <see cref="ForwardBackward"/> on buffers that returns the mean loss and writes dℓ/d(input) in one pass.
/// </summary>
public abstract class Loss
{
    /// <summary>Mean loss of <paramref name="input"/> (B, C) against class indices, recorded for autograd.</summary>
    public abstract Tensor Forward(Tensor input, ReadOnlySpan<int> targets);

    /// <summary>
    /// Mean loss of <paramref name="input"/> (rows, classes) against class indices; writes dℓ/d(input) into
    /// <paramref name="dInput"/> unless it is empty. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">A target is outside [0, classes).</exception>
    public abstract float ForwardBackward(ReadOnlySpan<float> input, ReadOnlySpan<int> targets, Span<float> dInput, int rows, int classes);
}
