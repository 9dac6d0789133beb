using Nabla.Autograd;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.NN;

/// <summary>tanh(t) element-wise (nn.Tanh).</summary>
public sealed class Tanh : Activation
{
    /// <inheritdoc/>
    public override ActivationKind Kind => ActivationKind.Tanh;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Tanh();

    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => Activations.Tanh(x, y);

    /// <inheritdoc/>
    protected override void Derivative(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Activations.TanhBackward(y, dy, dx);
}
