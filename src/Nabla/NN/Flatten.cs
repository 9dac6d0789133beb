using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>Flattens every dimension after the first (nn.Flatten): (B, 1, 28, 28) → (B, 784). A view, no copy.</summary>
public sealed class Flatten : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Rank <= 1 ? x.Reshape(x.Size, 1) : x.Flatten(1);

    /// <inheritdoc/>
    public override int OutputFeatures(int inputFeatures) => inputFeatures;

    /// <inheritdoc/>
    public override bool IsIdentity => true;

    internal override LayerSpec Spec(int inputFeatures) => LayerSpec.FlattenLayer(inputFeatures);

    /// <inheritdoc/>
    public override void ForwardBatch(ReadOnlySpan<float> x, Span<float> y, int batch, int inputFeatures) =>
        x[..(batch * inputFeatures)].CopyTo(y);

    /// <inheritdoc/>
    public override void BackwardBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures)
    {
        if (!dx.IsEmpty) dy[..(batch * inputFeatures)].CopyTo(dx);
    }
}
