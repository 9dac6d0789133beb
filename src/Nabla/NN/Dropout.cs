using Nabla.Autograd;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.NN;

/// <summary>
/// Dropout (nn.Dropout): in training, zeroes each element with probability p and scales the survivors by
/// 1/(1−p) so that the expected activation is unchanged; in evaluation, the identity. The mask of a step is a
/// function of the layer's <see cref="Seed"/> and the step's (epoch, batch) (<see cref="DropoutMask"/>), not of a
/// sequential generator: every device and a resumed run draw the same masks.
/// </summary>
public sealed class Dropout : Module
{
    private float[] _mask = [];
    private int _epoch, _batch;

    /// <summary>Creates the layer; its mask seed is drawn from <paramref name="rng"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1).</exception>
    public Dropout(float p, Rng rng)
    {
        if (!(p >= 0 && p < 1)) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout probability must be in [0, 1); got {p}.");
        P = p;
        Seed = rng.NextUInt64();
    }

    private Dropout(Rng rng) => Seed = rng.NextUInt64();

    /// <summary>
    /// A Dropout whose probability is not known: read from a file that does not record it (a PyTorch state dict). It is
    /// the identity in evaluation, as every Dropout is; it refuses to train, since no probability would be its own.
    /// </summary>
    internal static Dropout Unrecorded(Rng rng) => new(rng);

    /// <summary>Probability of zeroing an element; null when the file the model came from did not record it.</summary>
    public float? P { get; }

    internal override LayerSpec Spec(int inputFeatures) => LayerSpec.DropoutLayer(P, inputFeatures) with { Seed = Seed };

    /// <summary>P in training: 0 turns the layer off; an unknown P cannot train.</summary>
    private float TrainingP => P ?? throw new InvalidOperationException(
        "This Dropout's probability was not in the file the model was loaded from (a PyTorch state dict does not record it): it can evaluate, not train. Rebuild the layer with the probability you want.");

    /// <summary>The layer's mask seed: with the step's (epoch, batch), it determines the mask.</summary>
    public ulong Seed { get; }

    /// <inheritdoc/>
    /// <remarks>Without calls to it, each training forward counts as the next batch.</remarks>
    public override void SetStep(int epoch, int batch) => (_epoch, _batch) = (epoch, batch);

    /// <inheritdoc/>
    public override string ToString() => $"Dropout(p={P?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "not recorded"})";

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        if (!IsTraining || TrainingP == 0) return x;
        var mask = new Tensor(x.Shape);
        FillMask(mask.Data);
        return x.Mul(mask);
    }

    /// <summary>
    /// The row of the step's batch that the next forward's first row is (a data-parallel process runs a part of the
    /// batch): its mask is those rows of the whole batch's, so any split of the batch draws the same masks.
    /// </summary>
    internal int FirstRow { get; set; }

    private void FillMask(Span<float> mask, int features = 0)
    {
        DropoutMask.Fill(mask, DropoutMask.StepSeed(Seed, _epoch, _batch), TrainingP, FirstRow * features);
        _batch++; // the next forward, unless the trainer says which step it is, draws a fresh mask
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
        if (!IsTraining || TrainingP == 0) { x[..n].CopyTo(y); return; }
        var mask = _mask.AsSpan(0, n);
        FillMask(mask, inputFeatures);
        TensorPrimitives.Multiply(x[..n], mask, y[..n]);
    }

    /// <inheritdoc/>
    public override void BackwardBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures)
    {
        int n = batch * inputFeatures;
        if (dx.IsEmpty) return;
        if (!IsTraining || TrainingP == 0) { dy[..n].CopyTo(dx); return; }
        TensorPrimitives.Multiply(dy[..n], _mask.AsSpan(0, n), dx[..n]);
    }
}
