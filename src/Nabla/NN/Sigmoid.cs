using Nabla.Autograd;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.NN;

/// <summary>σ(t) = 1/(1+e^{−t}) element-wise (nn.Sigmoid), the textbook's hidden-layer activation.</summary>
public sealed class Sigmoid : Activation
{
    /// <inheritdoc/>
    public override ActivationKind Kind => ActivationKind.Sigmoid;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Sigmoid();

    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) => Activations.Sigmoid(x, y);

    /// <inheritdoc/>
    protected override void Derivative(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx) => Activations.SigmoidBackward(y, dy, dx);
}
