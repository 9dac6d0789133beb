using Nabla.Autograd;
using Nabla.Tensors;

namespace Nabla.NN;

/// <summary>
/// Dropout (nn.Dropout): in training, zeroes each element with probability p and scales the survivors by
/// 1/(1−p) so that the expected activation is unchanged; in evaluation, the identity. The mask is drawn from
/// the generator given at construction, so a seeded run is reproducible.
/// </summary>
public sealed class Dropout : Module
{
    private readonly Rng _rng;
    private float[] _mask = [];

    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1).</exception>
    public Dropout(float p, Rng rng)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout probability must be in [0, 1); got {p}.");
        P = p;
        _rng = rng;
    }

    /// <summary>The generator's current state, read without drawing (device trainers derive their mask seeds from it).</summary>
    internal ulong[] GeneratorState => _rng.GetState();

    /// <summary>Probability of zeroing an element.</summary>
    public float P { get; }

    /// <inheritdoc/>
    public override string ToString() => $"Dropout(p={P})";

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        if (!IsTraining || P == 0) return x;
        var mask = new Tensor(x.Shape);
        FillMask(mask.Data);
        return x.Mul(mask);
    }

    private void FillMask(Span<float> mask)
    {
        float scale = 1f / (1f - P);
        for (int i = 0; i < mask.Length; i++) mask[i] = _rng.NextSingle() < P ? 0f : scale;
    }

    /// <inheritdoc/>
    public override int OutputFeatures(int inputFeatures) => inputFeatures;

    /// <inheritdoc/>
    public override void Prepare(int maxBatch, int inputFeatures)
    {
        if (_mask.Length < maxBatch * inputFeatures) _mask = new float[maxBatch * inputFeatures];
    }

    /// <inheritdoc/>
    public override void ForwardBatch(ReadOnlySpan<float> x, Span<float> y, int batch, int inputFeatures)
    {
        int n = batch * inputFeatures;
        if (!IsTraining || P == 0) { x[..n].CopyTo(y); return; }
        var mask = _mask.AsSpan(0, n);
        FillMask(mask);
        TensorPrimitives.Multiply(x[..n], mask, y[..n]);
    }

    /// <inheritdoc/>
    public override void BackwardBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures)
    {
        int n = batch * inputFeatures;
        if (dx.IsEmpty) return;
        if (!IsTraining || P == 0) { dy[..n].CopyTo(dx); return; }
        TensorPrimitives.Multiply(dy[..n], _mask.AsSpan(0, n), dx[..n]);
    }
}
