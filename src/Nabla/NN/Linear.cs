using Nabla.Autograd;
using Nabla.Tensors;
using Nabla.Tensors.Kernels;

namespace Nabla.NN;

/// <summary>
/// Affine layer <c>y = x·Wᵀ + b</c> (nn.Linear): x (B, I), W (O, I), b (O). W is the textbook's 𝒲 with rows
/// w^(1)ᵀ … w^(O)ᵀ; the bias is its "1 input to each neuron". Initialized as PyTorch does: W and b uniform in
/// ±1/√I (kaiming_uniform with a = √5 works out to that bound).
/// </summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer, drawing its initial weights from <paramref name="rng"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A feature count is below 1.</exception>
    public Linear(int inFeatures, int outFeatures, Rng rng, bool bias = true)
    {
        if (inFeatures < 1) throw new ArgumentOutOfRangeException(nameof(inFeatures), $"in_features must be ≥ 1; got {inFeatures}.");
        if (outFeatures < 1) throw new ArgumentOutOfRangeException(nameof(outFeatures), $"out_features must be ≥ 1; got {outFeatures}.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        float bound = 1f / MathF.Sqrt(inFeatures);
        Weight = Tensor.Uniform(new Shape(outFeatures, inFeatures), -bound, bound, rng).RequireGrad();
        Bias = bias ? Tensor.Uniform(new Shape(outFeatures), -bound, bound, rng).RequireGrad() : null;
    }

    /// <summary>A layer whose weights are zeros, to be filled from a file (nothing drawn only to be overwritten).</summary>
    internal static Linear Empty(int inFeatures, int outFeatures, bool bias) =>
        new(new Tensor(new Shape(outFeatures, inFeatures)).RequireGrad(), bias ? new Tensor(new Shape(outFeatures)).RequireGrad() : null);

    private Linear(Tensor weight, Tensor? bias)
    {
        (OutFeatures, InFeatures) = (weight.Shape[0], weight.Shape[1]);
        Weight = weight;
        Bias = bias;
    }

    /// <inheritdoc/>
    public override Module To(Devices.Device device)
    {
        if (Weight.Device == device) return this;
        var copy = new Linear(Weight.To(device), Bias?.To(device));
        copy.Train(IsTraining);
        return copy;
    }

    /// <summary>Input features per sample (I).</summary>
    public int InFeatures { get; }

    /// <summary>Output features per sample (O).</summary>
    public int OutFeatures { get; }

    /// <summary>W, shape (O, I).</summary>
    public Tensor Weight { get; }

    /// <summary>b, shape (O), or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 2 || x.Shape[1] != InFeatures)
            throw new ArgumentException($"Linear({InFeatures}, {OutFeatures}) expects input (batch, {InFeatures}); got {x.Shape}.");
        return Ops.Linear(x, Weight, Bias);
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, Tensor Parameter)> OwnParameters()
    {
        yield return ("weight", Weight);
        if (Bias is not null) yield return ("bias", Bias);
    }

    internal override LayerSpec Spec(int inputFeatures) => LayerSpec.LinearLayer(InFeatures, OutFeatures, Bias is not null);

    internal override int? FixedInputFeatures => InFeatures;

    /// <inheritdoc/>
    public override string ToString() => $"Linear(in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is not null ? "True" : "False")})";

    /// <inheritdoc/>
    public override int OutputFeatures(int inputFeatures)
    {
        if (inputFeatures != InFeatures)
            throw new ArgumentException($"Linear({InFeatures}, {OutFeatures}) receives {inputFeatures} features per sample.");
        return OutFeatures;
    }

    /// <inheritdoc/>
    public override void ForwardBatch(ReadOnlySpan<float> x, Span<float> y, int batch, int inputFeatures) =>
        ForwardRows(x, y, batch, inputFeatures, rowsLike: 0);

    internal override void ForwardRows(ReadOnlySpan<float> x, Span<float> y, int batch, int inputFeatures, int rowsLike)
    {
        int I = InFeatures, O = OutFeatures;
        float beta = 0f;
        if (Bias is not null)
        {
            // y starts as the bias on every row, then the GEMM adds x·Wᵀ onto it (β = 1): the bias is fused.
            var b = Bias.Data;
            for (int r = 0; r < batch; r++) b.CopyTo(y.Slice(r * O, O));
            beta = 1f;
        }
        Gemm.RunObserved(false, true, batch, O, I, 1f, x, I, Weight.Data, I, beta, y, O, null, null, rowsLike);
    }

    /// <inheritdoc/>
    public override void BackwardBatch(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures) => BackwardStep(x, y, dy, dx, batch, inputFeatures, [], overwrite: false, sink: null);

    /// <summary>
    /// The weights are stepped row block by row block as the gradient GEMM finishes them; dℓ/dx comes first, from the
    /// weights the forward used.
    /// </summary>
    internal override void BackwardStep(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures, Tensor[] own, bool overwrite, IGradientSink? sink)
    {
        int I = InFeatures, O = OutFeatures;
        if (!dx.IsEmpty) Gemm.Run(false, false, batch, I, O, 1f, dy, O, Weight.Data, I, 0f, dx, I); // dx = dy·W
        var dW = (Weight.Grad ??= new Tensor(Weight.Shape)).Data;
        // Written, β = 0, is the same bits as cleared and added, β = 1: α = 1 and each sum starts from +0, so no sum
        // is −0 and acc + 0 = acc.
        Gemm.RunObserved(true, false, O, I, batch, 1f, dy, O, x, I, overwrite ? 0f : 1f, dW, I, null, sink?.BeginRows(Weight, I)); // dW += dyᵀ·x
        if (Bias is not null)
        {
            var db = (Bias.Grad ??= new Tensor(Bias.Shape)).Data;
            if (overwrite) db.Clear();
            Reductions.AddRows(dy, batch, O, db); // db += Σ_rows dy
            sink?.GradientReady(Bias);
        }
    }

    /// <summary>
    /// dx = dy·W for this process's rows; then this process's rows [o0, o1) of dW = dyᵀ·x and entries of db = Σ_rows dy,
    /// each over every row of the batch, written, and the other processes' rows gathered. The kernel is chosen as for the
    /// whole (O rows of dW, the batch's rows of dx), and each element summed over the rows in the same order, so every
    /// element has the bits of the one-process <see cref="BackwardStep"/>.
    /// </summary>
    internal override void BackwardShare(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx,
        int batch, int inputFeatures, Tensor[] own, IRowSharing sharing)
    {
        int I = InFeatures, O = OutFeatures;
        var (r0, r1) = IRowSharing.Share(batch, sharing.Rank, sharing.Size);
        if (!dx.IsEmpty)
            Gemm.RunObserved(false, false, r1 - r0, I, O, 1f, dy[(r0 * O)..], O, Weight.Data, I, 0f, dx[(r0 * I)..], I, null, null, rowsLike: batch);
        var (o0, o1) = IRowSharing.Share(O, sharing.Rank, sharing.Size);
        var dW = (Weight.Grad ??= new Tensor(Weight.Shape)).Data;
        if (o1 > o0) Gemm.RunObserved(true, false, o1 - o0, I, batch, 1f, dy[o0..], O, x, I, 0f, dW[(o0 * I)..], I, null, null, rowsLike: O);
        sharing.AllGatherGradient(Weight, O, I);
        if (Bias is null) return;
        var db = (Bias.Grad ??= new Tensor(Bias.Shape)).Data;
        db[o0..o1].Clear();
        if (o1 > o0) Reductions.AddRows(dy[o0..], batch, o1 - o0, O, db[o0..o1]);
        sharing.AllGatherGradient(Bias, O, 1);
    }
}
