using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// <c>y = x·scale + offset</c>, per feature (Keras's Rescaling, with a value per feature). A regression model trained
/// on standardized targets ends with it, so that its outputs are in the targets' own units: scale the targets'
/// standard deviations, offset their means (scikit-learn's TransformedTargetRegressor, inside the model). No parameters.
/// </summary>
public sealed class Rescaling : Module
{
    private readonly float[] _scale, _offset;

    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentException">The vectors differ in length, are empty, or hold a value that is not finite.</exception>
    public Rescaling(float[] scale, float[] offset)
    {
        if (scale.Length == 0 || scale.Length != offset.Length) throw new ArgumentException($"Rescaling needs one scale and one offset per feature; got {scale.Length} and {offset.Length}.");
        if (!TensorPrimitives.IsFiniteAll<float>(scale) || !TensorPrimitives.IsFiniteAll<float>(offset)) throw new ArgumentException("Rescaling: a scale or offset is not finite.");
        (_scale, _offset) = ((float[])scale.Clone(), (float[])offset.Clone());
    }

    /// <summary>Each feature's factor.</summary>
    public IReadOnlyList<float> Scale => _scale;

    /// <summary>Each feature's offset (added after scaling).</summary>
    public IReadOnlyList<float> Offset => _offset;

    /// <summary>Features per sample.</summary>
    public int Features => _scale.Length;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => x.Mul(Tensor.FromArray((float[])_scale.Clone(), _scale.Length)).Add(Tensor.FromArray((float[])_offset.Clone(), _offset.Length));

    /// <inheritdoc/>
    public override int OutputFeatures(int inputFeatures) => inputFeatures == Features ? inputFeatures
        : throw new ArgumentException($"Rescaling has {Features} features; it was given {inputFeatures}.");

    /// <inheritdoc/>
    public override void ForwardBatch(ReadOnlySpan<float> x, Span<float> y, int batch, int inputFeatures)
    {
        for (int r = 0; r < batch; r++)
        {
            var row = y.Slice(r * Features, Features);
            TensorPrimitives.Multiply(x.Slice(r * Features, Features), _scale, row);
            TensorPrimitives.Add(row, _offset, row);
        }
    }

    /// <summary>dx = dy·scale.</summary>
    public override void BackwardBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, int batch, int inputFeatures)
    {
        if (dx.IsEmpty) return;
        for (int r = 0; r < batch; r++) TensorPrimitives.Multiply(dy.Slice(r * Features, Features), _scale, dx.Slice(r * Features, Features));
    }

    internal override LayerSpec Spec(int inputFeatures) => LayerSpec.RescalingLayer([.. _scale], [.. _offset]);

    internal override int? FixedInputFeatures => Features;

    /// <inheritdoc/>
    public override string ToString() => $"Rescaling(features={Features})";
}
