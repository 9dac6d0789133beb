using Nabla.Tensors;

namespace Nabla.Losses;

/// <summary>
/// A loss in both forms: <c>Forward</c> on tensors (recorded by autograd) and the fused <c>ForwardBackward</c> on
/// buffers that returns the mean loss and writes dℓ/d(input) in one pass — against class indices (classification)
/// and, for losses that take them (<see cref="MseLoss"/>), against numeric targets (regression).
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

    /// <summary>Mean loss of <paramref name="input"/> against numeric targets of the same shape, recorded for autograd (regression).</summary>
    /// <exception cref="NotSupportedException">The loss takes class indices only.</exception>
    public virtual Tensor Forward(Tensor input, Tensor target) =>
        throw new NotSupportedException($"{GetType().Name} takes class indices, not numeric targets; use MseLoss for regression.");

    /// <summary>
    /// Mean loss of <paramref name="input"/> (rows, columns) against numeric <paramref name="targets"/> of the same
    /// layout; writes dℓ/d(input) into <paramref name="dInput"/> unless it is empty. Allocates nothing.
    /// </summary>
    /// <exception cref="NotSupportedException">The loss takes class indices only.</exception>
    public virtual float ForwardBackward(ReadOnlySpan<float> input, ReadOnlySpan<float> targets, Span<float> dInput, int rows, int columns) =>
        throw new NotSupportedException($"{GetType().Name} takes class indices, not numeric targets; use MseLoss for regression.");
}
