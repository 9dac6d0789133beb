using Nabla.Autograd;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.NN;

/// <summary>max(t, 0) element-wise (nn.ReLU).</summary>
public sealed class Relu : Activation
{
    /// <inheritdoc/>
    public override ActivationKind Kind => ActivationKind.Relu;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Relu();

    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => Activations.Relu(x, y);

    /// <inheritdoc/>
    protected override void Derivative(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Activations.ReluBackward(y, dy, dx);
}
