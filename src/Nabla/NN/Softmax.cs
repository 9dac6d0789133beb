using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// Softmax γ along the last dimension (nn.Softmax(dim=-1)), the textbook's output layer. For training, prefer
/// raw logits with <see cref="Losses.CrossEntropyLoss"/>, which fuses γ into the loss.
/// </summary>
public sealed class Softmax : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Softmax(-1);

    internal override LayerSpec Spec(int inputFeatures) => LayerSpec.SoftmaxLayer(inputFeatures);

    /// <inheritdoc/>
    public override int OutputFeatures(int inputFeatures) => inputFeatures;

    /// <inheritdoc/>
    public override void ForwardBatch(ReadOnlySpan<float> x, Span<float> y, int batch, int inputFeatures) =>
        Tensors.Kernels.Softmax.Rows(x, y, batch, inputFeatures);

    /// <inheritdoc/>
    public override void BackwardBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures)
    {
        if (dx.IsEmpty) return;
        int n = inputFeatures;
        for (int r = 0; r < batch; r++)
        {
            // dx = γ ⊙ (dy − ⟨dy, γ⟩): the product of J_γ = diag(γ) − γγᵀ with dy.
            var yr = y.Slice(r * n, n);
            float dot = TensorPrimitives.Dot(dy.Slice(r * n, n), yr);
            var dxr = dx.Slice(r * n, n);
            TensorPrimitives.Subtract(dy.Slice(r * n, n), dot, dxr);
            TensorPrimitives.Multiply(dxr, yr, dxr);
        }
    }
}
